"""Saving: changes reach the disk a moment later in one write; explicit saves, reads and exit flush at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from imagestudio_nb.project import Project
from imagestudio_nb.project import persistence


@pytest.fixture
def delayed(monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_AUTOSAVE_DELAY", "0.3")


def _layers_on_disk(project: Project) -> list[str]:
    return [layer["name"] for layer in json.loads((project.path / "project.isproj").read_text())["layers"]]


def test_a_burst_of_changes_is_written_once_and_a_steady_stream_is_not_put_off(workspace, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_AUTOSAVE_DELAY", "2")  # longer than the burst
    project = Project.create("Burst")
    writes = []
    original = persistence.write_atomic
    monkeypatch.setattr(persistence, "write_atomic",
                        lambda path, data, **kw: (writes.append(path) if path.parent == project.path else None,
                                                         original(path, data, **kw))[1])
    for i in range(20):
        project.add_layer("paint", name=f"L{i}")
    assert _layers_on_disk(project) == []  # the snapshot waits; every change is already in the log
    assert len(Project.open("Burst").layers()) == 20
    deadline = time.monotonic() + 10
    while _layers_on_disk(project) != [f"L{i}" for i in range(20)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _layers_on_disk(project) == [f"L{i}" for i in range(20)]
    assert len(writes) == 1

    # A stream of changes that never pauses is still written every delay, not pushed back forever.
    monkeypatch.setenv("IMAGESTUDIO_AUTOSAVE_DELAY", "0.3")
    seen_on_disk = set()
    started = time.monotonic()
    while time.monotonic() - started < 2.0:
        project.add_layer("paint", name="stream")
        seen_on_disk.add(len(_layers_on_disk(project)))
        time.sleep(0.02)
    assert len(seen_on_disk - {20}) >= 3, seen_on_disk


def test_search_and_explicit_save_see_pending_changes(workspace, delayed):
    from imagestudio_nb import generate

    project = Project.create("Fresh")
    generate("a tram in the rain", size="256x256", seed=1, project=project)
    assert project.search("tram")  # the index is flushed before searching
    project.add_layer("paint", name="Now")
    project.save()
    assert _layers_on_disk(project) == ["Now"]


def test_pending_changes_are_written_when_python_exits(workspace):
    script = ("from imagestudio_nb.project import Project\n"
              "p = Project.create('AtExit')\n"
              "p.add_layer('paint', name='Last words')\n")
    env = {**os.environ, "IMAGESTUDIO_AUTOSAVE_DELAY": "30"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60)
    assert _layers_on_disk(Project.open("AtExit")) == ["Last words"]


def test_assets_are_synced_before_the_document_that_references_them(workspace, delayed, monkeypatch):
    import numpy as np

    synced = []
    monkeypatch.setattr(persistence, "fsync_file", lambda path: synced.append(path.name))
    project = Project.create("Durable")
    digest = project.assets.add(np.zeros((4, 4, 3), np.uint8)).hash
    project.add_layer("image", asset=digest)
    project.save()
    assert synced == [f"{digest}.png"]


def test_a_background_failure_is_retried_and_surfaces_on_save(workspace, delayed, monkeypatch):
    project = Project.create("Flaky")
    calls = []
    original = persistence.write_atomic

    def failing_once(path, data, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk briefly unavailable")
        return original(path, data, **kw)

    monkeypatch.setattr(persistence, "write_atomic", failing_once)
    project.add_layer("paint", name="Survives")
    deadline = time.monotonic() + 10
    while _layers_on_disk(project) != ["Survives"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _layers_on_disk(project) == ["Survives"] and len(calls) == 2
