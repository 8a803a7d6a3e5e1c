"""A project in a folder this process cannot write (a read-only mount) opens read-only.

It reads, renders and exports; a change is refused with a StorageError naming the way out, and nothing in
the folder is touched. A real read-only tmpfs (the tests run as root, which ignores file permissions).
"""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from imagestudio_nb.errors import StorageError
from imagestudio_nb.project import Project


@pytest.fixture
def readonly_mount(tmp_path):
    mount = tmp_path / "shared"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"mounting a tmpfs needs root (CI runs as root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fingerprint(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("with_log", [True, False])
def test_a_read_only_project_reads_renders_exports_and_refuses_changes(readonly_mount, tmp_path, with_log):
    project = Project.create("Examples", workspace=readonly_mount, width=32, height=32)
    layer = project.add_layer("paint", name="shared sketch")
    project.add_stroke(layer, {"tool": "brush", "points": [2, 2, 30, 30], "size": 4, "color": "#ff0000"})
    project.close()
    if not with_log:  # a folder as git or a zip brings it: JSON and assets only
        for path in project.path.glob("project.ylog*"):
            path.unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(readonly_mount)], check=True)
    before = _fingerprint(project.path)

    opened = Project.open(project.path)
    assert opened.readonly
    assert [l["name"] for l in opened.layers()] == ["shared sketch"]
    assert opened.render()[16, 16, 0] == 255
    archive = opened.export(tmp_path / "mine.zip")
    with pytest.raises(StorageError, match="read-only.*import"):
        opened.add_layer("paint")
    with pytest.raises(StorageError, match="read-only"):
        opened.add_comment("can I?")
    assert _fingerprint(project.path) == before

    from imagestudio_nb.project import import_project

    mine = import_project(archive, name="My copy", workspace=tmp_path / "workspace")
    mine.add_layer("paint", name="my own")
    assert [l["name"] for l in mine.layers()] == ["shared sketch", "my own"]
