"""Crashes and damage, as they happen: SIGKILL at random moments, exit right after a change, a batch
killed mid-way, truncated and garbage files, a folder without its log, a JSON file edited by hand."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter

import pytest

from imagestudio_nb.project import Project
from imagestudio_nb.project.ylog import LOG_NAME

from .conftest import CLI, child_env, saved_file_in_fresh_process, start_python, state_in_fresh_process

_CHANGER = """
    import sys
    from imagestudio_nb.project import Project
    project = Project.open(sys.argv[1])
    paint = project.add_layer("paint", name=f"paint-{sys.argv[2]}")
    print("layer", paint, flush=True)
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        token = f"{sys.argv[2]}-{i}"
        if i % 3 == 0:
            print("layer", project.add_layer("image", name=token), flush=True)
        elif i % 3 == 1:
            project.add_stroke(paint, {"points": [i, i, i + 1, i + 1], "token": token})
            print("stroke", token, flush=True)
        else:
            print("generation", project.add_generation({"model": "local", "request": {"prompt": token}}), flush=True)
"""


def _acknowledged(stdout: str) -> Counter:
    """``(kind, id)`` of every line the child finished printing (a line cut by the kill is not one)."""
    lines = stdout.split("\n")[:-1]
    return Counter(tuple(line.split(" ", 1)) for line in lines if line and not line.startswith("ready"))


def test_every_acknowledged_change_survives_sigkill_at_random_moments(workspace):
    folder = Project.create("Killed").path
    rng = random.Random(12)
    acknowledged: Counter = Counter()
    for round_ in range(5):
        child = start_python(_CHANGER, str(folder), f"r{round_}")
        first = child.stdout.readline()
        assert first.startswith("layer"), child.stderr.read()
        acknowledged.update(_acknowledged(first))
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 1.5))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        out = child.stdout.read()  # through the same buffer readline() used (communicate() would skip it)
        child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        acknowledged.update(_acknowledged(out))
    assert all(count == 1 for count in acknowledged.values())  # every id printed once
    kinds = Counter(kind for kind, _ in acknowledged)
    assert kinds["stroke"] >= 5 and kinds["generation"] >= 5, kinds  # the kills did land mid-stream

    state = state_in_fresh_process(folder)
    layer_ids = Counter(layer["id"] for layer in state["layers"])
    strokes = Counter(stroke["token"] for layer in state["layers"] for stroke in layer.get("strokes", []))
    generations = Counter(g["id"] for g in state["generations"])
    for (kind, ident), _ in acknowledged.items():
        found = {"layer": layer_ids, "stroke": strokes, "generation": generations}[kind][ident]
        assert found == 1, f"acknowledged {kind} {ident} found {found} times after the kills"
    assert all(count == 1 for counter in (layer_ids, strokes, generations) for count in counter.values())
    # At most one change per round was done but not yet printed when the kill came.
    assert len(layer_ids) + sum(strokes.values()) + len(generations) - sum(acknowledged.values()) <= 5
    saved = saved_file_in_fresh_process(folder)
    assert Counter(layer["id"] for layer in saved["layers"]) == layer_ids


# One interpreter imports the package once and forks a child per run: each child opens its project, adds
# a layer, prints its id and exits normally (SystemExit, so atexit handlers run) 0-0.2 s later. Forking
# spares 30 interpreter start-ups on this loaded machine; the child's writer thread is its own.
_EXIT_AFTER_CHANGE = """
    import os, random, sys, time
    from imagestudio_nb.project import Project
    folders = sys.argv[1:]
    for index, folder in enumerate(folders):
        pid = os.fork()
        if pid == 0:
            project = Project.open(folder)
            print(folder, project.add_layer("paint", name="last words"), flush=True)
            time.sleep(random.Random(index).uniform(0.0, 0.2))
            raise SystemExit(0)
        _, status = os.waitpid(pid, 0)
        print("exit", folder, os.waitstatus_to_exitcode(status), flush=True)
"""


@pytest.mark.slow
def test_a_normal_exit_right_after_a_change_keeps_it_30_of_30(workspace):
    folders = [Project.create(f"Exit{i}").path for i in range(30)]
    for folder in folders:
        Project.open(folder).close()  # this process keeps no copy: the folders are read afresh below
    env = child_env(IMAGESTUDIO_AUTOSAVE_DELAY="30")  # the snapshot would wait: only the exit flush writes it
    child = start_python(_EXIT_AFTER_CHANGE, *map(str, folders), env=env)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err[-3000:]
    lines = [line.split() for line in out.splitlines()]
    assert sorted(line[1] for line in lines if line[0] == "exit" and line[2] == "0") == sorted(map(str, folders))
    added = {line[0]: line[1] for line in lines if line[0] != "exit"}
    assert len(added) == 30, err[-3000:]
    kept_in_log = kept_in_file = 0
    for folder in folders:
        kept_in_log += [layer["id"] for layer in Project.open(folder).layers()] == [added[str(folder)]]
        on_disk = json.loads((folder / "project.isproj").read_text(encoding="utf-8"))
        kept_in_file += [layer["id"] for layer in on_disk["layers"]] == [added[str(folder)]]
    assert (kept_in_log, kept_in_file) == (30, 30)


def _write_batch_file(path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps({"prompt": f"batch item {i}", "model": "local", "size": "256x256", "seed": i}) + "\n")


def _recorded_and_referenced(folder) -> tuple[list[dict], set[str]]:
    state = state_in_fresh_process(folder)
    on_disk = {path.name.split(".")[0] for path in (folder / "assets").iterdir()}
    referenced = [g for g in state["generations"] if g["assets"] and set(g["assets"]) <= on_disk]
    return state["generations"], {g["id"] for g in referenced}


@pytest.mark.slow
def test_a_batch_killed_mid_way_records_only_whole_generations_and_resumes_to_the_exact_count(workspace, tmp_path):
    requests = tmp_path / "requests.jsonl"
    _write_batch_file(requests, 300)
    Project.create("Batch", width=256, height=256).close()
    folder = workspace / "Batch"
    batch = subprocess.Popen([CLI, "batch", str(requests), "--project", "Batch", "--concurrency", "4"],
                             env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while len(list((folder / "assets").iterdir())) < 25 and time.monotonic() < deadline and batch.poll() is None:
        time.sleep(0.05)
    time.sleep(random.Random(3).uniform(0.0, 0.5))
    batch.send_signal(signal.SIGKILL)
    batch.wait(timeout=60)
    assert batch.returncode == -signal.SIGKILL, "the batch ended before it could be killed"

    recorded, whole = _recorded_and_referenced(folder)
    assert 0 < len(recorded) < 300
    assert {g["id"] for g in recorded} == whole  # no record without its image on disk

    resumed = subprocess.run([CLI, "batch", str(requests), "--project", "Batch", "--concurrency", "4", "--json"],
                             env=child_env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    recorded, whole = _recorded_and_referenced(folder)
    assert len(recorded) == 300
    assert Counter(g["request"]["seed"] for g in recorded) == Counter(range(300))
    assert len(whole) == 300


# --- damaged files -------------------------------------------------------------------------------------

def _project_with_layers(name: str, count: int = 3) -> Project:
    project = Project.create(name)
    for i in range(count):
        project.add_layer("paint", name=f"L{i}")
    project.save()
    return project


def test_a_truncated_json_opens_from_the_log_and_is_rewritten_whole(workspace, caplog):
    project = _project_with_layers("Truncated")
    expected = project.to_data()
    project.close()
    document = project.path / "project.isproj"
    text = document.read_text(encoding="utf-8")
    document.write_text(text[: len(text) // 2], encoding="utf-8")

    with caplog.at_level(logging.WARNING):
        reopened = Project.open("Truncated")
    assert any("damaged" in record.getMessage() and "update log" in record.getMessage() for record in caplog.records)
    assert reopened.to_data() == expected
    deadline = time.monotonic() + 10
    while document.read_text(encoding="utf-8") == text[: len(text) // 2] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(document.read_text(encoding="utf-8")) == json.loads(text)


def test_a_garbage_log_is_moved_aside_and_the_project_opens_from_its_json(workspace, caplog):
    project = _project_with_layers("GarbageLog")
    expected = project.to_data()
    project.close()
    for suffix in ("-wal", "-shm"):
        (project.path / (LOG_NAME + suffix)).unlink(missing_ok=True)
    (project.path / LOG_NAME).write_bytes(os.urandom(8192))

    with caplog.at_level(logging.WARNING):
        reopened = Project.open("GarbageLog")
    assert any("damaged" in record.getMessage() for record in caplog.records)
    assert reopened.to_data() == expected
    assert len(list(project.path.glob(LOG_NAME + ".damaged-*"))) == 1
    reopened.add_layer("paint", name="after")  # and it writes a new log
    reopened.close()
    assert [layer["name"] for layer in state_in_fresh_process(project.path)["layers"]] == ["L0", "L1", "L2", "after"]


def test_a_folder_copied_without_its_log_opens(workspace):
    import imagestudio_nb

    project = _project_with_layers("Original")
    imagestudio_nb.generate("a copied fox", model="local", size="256x256", seed=4, project=project, progress=False)
    project.save()
    copy = workspace / "Copied"
    (copy / "assets").mkdir(parents=True)
    shutil.copy2(project.path / "project.isproj", copy / "project.isproj")
    for asset in (project.path / "assets").iterdir():
        shutil.copy2(asset, copy / "assets" / asset.name)

    state = state_in_fresh_process(copy)
    assert state["layers"] == project.to_data()["layers"]
    assert state["generations"] == project.to_data()["generations"]
    assert (copy / LOG_NAME).exists()
    opened = Project.open(copy)
    digest = state["generations"][0]["assets"][0]
    assert len(opened.assets.read(digest)) > 0


_ADD_THEN_DIE = """
    import os, signal, sys
    from imagestudio_nb.project import Project
    project = Project.open(sys.argv[1])
    print(project.add_layer("paint", name="added elsewhere"), flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)  # before the snapshot is written
"""


@pytest.mark.parametrize("file_rewritten", [
    pytest.param(False, id="snapshot-not-rewritten"),
    pytest.param(True, id="snapshot-rewritten-meanwhile"),
])
def test_a_hand_edit_of_the_json_is_merged_keeping_the_logs_later_changes(workspace, file_rewritten):
    project = _project_with_layers("Edited")
    project.close()
    document = project.path / "project.isproj"
    started_from = json.loads(document.read_text(encoding="utf-8"))  # the editor opens the file here

    # Meanwhile another process adds a layer to the log (and, in one case, its snapshot reaches the file).
    child = start_python(_ADD_THEN_DIE, str(project.path), "exit" if file_rewritten else "kill",
                         env=child_env(IMAGESTUDIO_AUTOSAVE_DELAY="30"))
    out, err = child.communicate(timeout=120)
    added = out.strip()
    assert added, err[-2000:]
    assert ("added elsewhere" in document.read_text(encoding="utf-8")) == file_rewritten

    # The editor saves its buffer: the file it started from, with one layer renamed.
    started_from["layers"][1]["name"] = "renamed by hand"
    document.write_text(json.dumps(started_from, indent=1), encoding="utf-8")

    state = state_in_fresh_process(project.path)
    names = [layer["name"] for layer in state["layers"]]
    assert names == ["L0", "renamed by hand", "L2", "added elsewhere"], names
    assert [layer["id"] for layer in state["layers"]][-1] == added


_DROPPING_WRITER = """
    import gc, sys
    from imagestudio_nb.project import Project
    for i in range(int(sys.argv[3])):
        # A project opened for one change and dropped without close(): it is freed now (its log and document
        # released while the change is already committed), so every change here goes through a fresh one.
        print("layer", Project.open(sys.argv[1]).add_layer("paint", name=f"{sys.argv[2]}-{i}"), flush=True)
        gc.collect()
"""


def test_writers_that_drop_their_projects_keep_every_change_when_one_is_killed(workspace):
    folder = Project.create("Dropping").path
    steady = [start_python(_DROPPING_WRITER, str(folder), name, "25") for name in ("a", "b")]
    killed = start_python(_DROPPING_WRITER, str(folder), "k", "100000")
    first = killed.stdout.readline()
    assert first.startswith("layer"), killed.stderr.read()
    time.sleep(1.0)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    acknowledged = _acknowledged(first) + _acknowledged(killed.stdout.read())
    killed.stderr.close()
    for writer in steady:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err[-3000:]
        acknowledged += _acknowledged(out)
    assert killed.returncode == -signal.SIGKILL
    assert all(count == 1 for count in acknowledged.values()), acknowledged
    assert len(acknowledged) >= 52, len(acknowledged)  # the steady writers' 25 each, and the killed one's (2 or more)

    layers = Counter(layer["id"] for layer in state_in_fresh_process(folder)["layers"])
    missing = [ident for _, ident in acknowledged if layers[ident] != 1]
    assert missing == [], f"acknowledged layers not found exactly once: {missing}"
    assert len(layers) - len(acknowledged) <= 1  # at most the one the kill cut before it was printed
