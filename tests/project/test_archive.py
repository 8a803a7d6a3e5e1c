"""Export to one .zip and import from one, refusing archives that could escape, link or explode."""

from __future__ import annotations

import hashlib
import stat
import zipfile

import numpy as np
import pytest

from imagestudio_nb import generate
from imagestudio_nb.errors import ProjectExistsError, UnsafeArchiveError
from imagestudio_nb.project import Project, import_project, list_projects
from imagestudio_nb.project.archive import import_archive


@pytest.fixture
def exported(workspace, tmp_path):
    project = Project.create("Travel")
    results = generate("a suitcase on a beach", project=project, size="256x256", seed=5, n=2)
    project.add_layer("generated", asset=results[0].asset, name="Beach")
    project.checkpoint("v1")
    return project, project.export(tmp_path / "travel.zip")


def test_export_then_import_restores_the_project(exported, tmp_path):
    project, archive = exported
    names = zipfile.ZipFile(archive).namelist()
    assert "project.isproj" in names and sum(n.startswith("assets/") for n in names) == 2
    assert not any(n.startswith("cache/") for n in names)
    copy = import_project(archive, name="Travel copy")
    assert copy.name == "Travel copy"
    assert copy.layers() == project.layers()
    assert copy.checkpoints() == project.checkpoints()
    assert [a.hash for a in copy.assets.list()] == [a.hash for a in project.assets.list()]
    assert copy.search("suitcase")  # the index is rebuilt on import


def test_import_into_another_workspace_keeps_the_id(exported, tmp_path):
    project, archive = exported
    copy = import_project(archive, workspace=tmp_path / "elsewhere")
    assert copy.id == project.id and "imported_from" not in copy.meta


def test_import_gives_a_new_id_when_the_id_is_taken(exported, caplog):
    project, archive = exported
    with caplog.at_level("WARNING"):
        copy = import_project(archive, name="Travel again")
    assert copy.id != project.id and len(copy.id) == len(project.id)
    assert copy.meta["imported_from"]["id"] == project.id
    assert f"got the new id {copy.id}" in caplog.text
    assert Project.open("Travel").id == project.id  # the original keeps its id
    assert sorted(info.id for info in list_projects()) == sorted([project.id, copy.id])


def test_import_refuses_an_existing_name(exported):
    _, archive = exported
    with pytest.raises(ProjectExistsError, match="--name"):
        import_project(archive)


def _zip_with(path, entries, *, symlink=None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.isproj", '{"meta": {"schema_version": 1, "name": "Evil", "id": "x"}}')
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data)  # a ZipInfo: writestr(str) itself fails on the name ""
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("entries, symlink, message", [
    ({"../outside.txt": b"x"}, None, "outside the target"),
    ({"assets/../../outside.png": b"x"}, None, "outside the target"),
    ({"/etc/cron.d/evil": b"x"}, None, "outside the target"),
    ({}, "assets/link.png", "symbolic link"),
    ({"run.sh": b"#!/bin/sh"}, None, "not part of a project"),
    ({"": b"x"}, None, "without a name"),  # a damaged directory can say so; zipfile's is_dir() raised IndexError
    ({"assets/" + "0" * 64 + ".png": b"not the content the name promises"}, None, "does not match"),
])
def test_import_refuses_unsafe_archives_and_leaves_nothing(workspace, tmp_path, entries, symlink, message):
    archive = _zip_with(tmp_path / "evil.zip", entries, symlink=symlink)
    with pytest.raises(UnsafeArchiveError, match=message):
        import_project(archive)
    assert list_projects() == []
    assert [p.name for p in workspace.iterdir()] == []
    assert not (tmp_path / "outside.txt").exists()


def test_import_refuses_entries_over_the_size_limit(workspace, tmp_path):
    big = np.random.default_rng(0).bytes(4096)
    name = f"assets/{hashlib.sha256(big).hexdigest()}.png"
    archive = _zip_with(tmp_path / "big.zip", {name: big})
    with pytest.raises(UnsafeArchiveError, match="over the limit|beyond the size limit"):
        import_archive(archive, max_entry_bytes=1024)
    assert [p.name for p in workspace.iterdir()] == []


def test_import_refuses_a_zip_bomb(workspace, tmp_path):
    archive = tmp_path / "bomb.zip"
    zeros = b"\x00" * (64 * 1024**2)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.isproj", "{}")
        zf.writestr(f"assets/{hashlib.sha256(zeros).hexdigest()}.png", zeros)
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        import_project(archive)


def test_import_refuses_what_is_not_a_zip(workspace, tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"PK but not really")
    with pytest.raises(UnsafeArchiveError, match="not a readable zip"):
        import_project(path)
