"""A real full disk (a 2 MiB tmpfs filled to the last byte) and a real read-only filesystem: clear
``StorageError``s, exit code 10 from the CLI, nothing half-written, earlier state intact."""

from __future__ import annotations

import subprocess

import pytest

from imagestudio_nb.errors import StorageError
from imagestudio_nb.project import Project

from .conftest import CLI, child_env, fill_disk, state_in_fresh_process

_BIG_TEXT = "x" * 20000  # a layer whose update needs fresh pages of the disk


def _leftovers(disk) -> list[str]:
    return sorted(p.name for p in disk.iterdir() if p.name != "ballast.bin" and p.name != "lost+found")


def _one_line_error(stderr: str) -> str:
    text = stderr.strip()
    assert text and "\n" not in text and "Traceback" not in text, stderr
    return text


def test_create_on_a_full_disk_raises_storage_error_and_leaves_nothing(small_disk, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_WORKSPACE", str(small_disk))
    fill_disk(small_disk)
    with pytest.raises(StorageError, match="full"):
        Project.create("Crowded", workspace=small_disk)
    assert _leftovers(small_disk) == []

    done = subprocess.run([CLI, "project", "create", "Crowded"], env=child_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 10
    assert "full" in _one_line_error(done.stderr)
    assert _leftovers(small_disk) == []  # no folder, no .create-* staging


def test_a_change_on_a_full_disk_raises_and_the_earlier_state_stays(small_disk):
    project = Project.create("Full", workspace=small_disk)
    kept = [project.add_layer("paint", name=f"before-{i}") for i in range(3)]
    project.save()
    ballast = fill_disk(small_disk)

    # SQLite may still place a row or two in space it already holds; a change that needs new space fails.
    acknowledged, error = [], None
    for i in range(200):
        try:
            acknowledged.append(project.add_layer("text", name=f"full-{i}", text=_BIG_TEXT))
        except StorageError as exc:
            error = exc
            break
    assert error is not None, "200 layers of 20 kB fitted on a full 2 MiB disk"
    assert "full" in str(error) and "free some space" in str(error)

    state = state_in_fresh_process(project.path)  # opens, with everything acknowledged before the failure
    ids = [layer["id"] for layer in state["layers"]]
    assert ids[:3] == kept and ids[3:3 + len(acknowledged)] == acknowledged

    ballast.unlink()
    after = project.add_layer("paint", name="after freeing space")
    project.save()
    state = state_in_fresh_process(project.path)
    assert after in [layer["id"] for layer in state["layers"]]
    assert state == project.to_data()  # the live document and the log agree
    ids = [layer["id"] for layer in state["layers"]]
    assert len(ids) == len(set(ids))


def test_generate_on_a_full_disk_exits_10_and_records_nothing(small_disk, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_WORKSPACE", str(small_disk))
    project = Project.create("Gen", workspace=small_disk, width=256, height=256)
    project.close()
    command = [CLI, "generate", "a lighthouse", "--model", "local", "--size", "256x256", "--project", "Gen"]
    assert subprocess.run([*command, "--seed", "1"], env=child_env(), capture_output=True,
                          timeout=120).returncode == 0
    ballast = fill_disk(small_disk)

    done = subprocess.run([*command, "--seed", "2"], env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 10, done.stderr
    assert "full" in _one_line_error(done.stderr)
    assert [g["request"]["seed"] for g in state_in_fresh_process(small_disk / "Gen")["generations"]] == [1]

    ballast.unlink()
    done = subprocess.run([*command, "--seed", "3"], env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    generations = state_in_fresh_process(small_disk / "Gen")["generations"]
    assert sorted(g["request"]["seed"] for g in generations) == [1, 3]
    for record in generations:
        for digest in record["assets"]:
            assert (small_disk / "Gen" / "assets" / f"{digest}.png").stat().st_size > 0


@pytest.fixture
def read_only(small_disk):
    """Remount ``small_disk`` read-only for the test's body (and writable again for the teardown)."""

    def remount(mode: str) -> None:
        result = subprocess.run(["mount", "-o", f"remount,{mode}", str(small_disk)], capture_output=True, text=True)
        if result.returncode:
            pytest.fail(f"remounting a tmpfs needs root (run the storage tests as root): {result.stderr.strip()}")

    yield remount
    remount("rw")


def test_a_read_only_folder_gives_a_clear_storage_error(small_disk, read_only):
    project = Project.create("Frozen", workspace=small_disk)
    layer = project.add_layer("paint", name="kept")
    project.close()  # a filesystem with files open for writing cannot be remounted read-only
    read_only("ro")
    try:
        reopened = Project.open(project.path)
    except StorageError as exc:  # refusing to open a log it cannot write is clear too
        assert "not writable" in str(exc)
    else:
        assert [l["id"] for l in reopened.layers()] == [layer]
        with pytest.raises(StorageError, match="not writable"):
            reopened.add_layer("paint", name="refused")
        reopened.close()
    with pytest.raises(StorageError, match="not writable"):
        Project.create("Another", workspace=small_disk)
    assert sorted(p.name for p in small_disk.iterdir()) == ["Frozen"]
    read_only("rw")
    assert [l["id"] for l in state_in_fresh_process(project.path)["layers"]] == [layer]


def test_retrying_a_change_refused_on_a_full_disk_makes_it_once(small_disk):
    # The error says "the project keeps its earlier state": a person frees space and makes the change again.
    project = Project.create("Retry", workspace=small_disk)
    project.add_layer("paint", name="before")
    project.save()
    ballast = fill_disk(small_disk)
    acknowledged = 0
    for _ in range(200):
        try:
            project.add_layer("text", name="retry me", text=_BIG_TEXT)
        except StorageError:
            break
        acknowledged += 1  # SQLite may still place a row in space it already holds
    else:
        raise AssertionError("200 layers of 20 kB fitted on a full 2 MiB disk")
    ballast.unlink()
    project.add_layer("text", name="retry me", text=_BIG_TEXT)
    project.close()
    names = [layer["name"] for layer in state_in_fresh_process(project.path)["layers"]]
    assert names.count("retry me") == acknowledged + 1, names
