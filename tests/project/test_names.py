"""Project names that Windows or a case-insensitive disk cannot hold are refused; written files follow the umask."""

from __future__ import annotations

import os
import stat
import zipfile

import numpy as np
import pytest

from imagestudio_nb.errors import DocumentFormatError, InvalidArgumentError
from imagestudio_nb.imaging.codec import encode_image
from imagestudio_nb.project import Project
from imagestudio_nb.project.archive import import_archive
from imagestudio_nb.project.files import write_atomic
from imagestudio_nb.project.workspace import check_name


@pytest.mark.parametrize("name", ["CON", "con", "Nul", "PRN.txt", "aux.tar.gz", "COM1", "com9.png", "LPT1",
                                  "lpt9", "COM\u00b9", "NUL .txt"])
def test_windows_reserved_names_are_refused(name):
    with pytest.raises(InvalidArgumentError, match="reserved on Windows"):
        check_name(name)


@pytest.mark.parametrize("name", ["CONSOLE", "Contour", "nullable", "COM10", "LPT0", "com", "AUX-2", "my con"])
def test_names_that_only_look_reserved_are_allowed(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["trailing.", "trailing ", "dots...", "space . "])
def test_trailing_dots_and_spaces_are_refused(name):
    with pytest.raises(InvalidArgumentError, match="ends with a dot or a space"):
        check_name(name)


@pytest.mark.parametrize("name", ["a\n", "a/b", "../x", "", ".hidden", "-flag", "x" * 101])
def test_unsafe_names_are_refused(name):
    with pytest.raises(InvalidArgumentError, match="is not allowed"):
        check_name(name)


@pytest.mark.parametrize("other", ["holiday", "HOLIDAY", "HoLiDaY"])
def test_a_name_differing_only_by_case_from_a_project_is_refused(workspace, other):
    Project.create("Holiday")
    with pytest.raises(InvalidArgumentError, match="differs only by case from the existing project 'Holiday'"):
        check_name(other, workspace=workspace)
    assert check_name("Holiday 2", workspace=workspace) == "Holiday 2"
    assert check_name("Holiday", workspace=workspace) == "Holiday"  # the same name is the caller's "exists" case


def test_renaming_a_project_to_another_case_of_its_own_name_is_allowed(workspace):
    Project.create("holiday")
    assert check_name("Holiday", workspace=workspace, current="holiday") == "Holiday"
    with pytest.raises(InvalidArgumentError, match="differs only by case"):
        check_name("Holiday", workspace=workspace, current="other")


def test_case_of_letters_beyond_ascii_counts(workspace):
    Project.create("Caf\u00e9 Stra\u00dfe")
    with pytest.raises(InvalidArgumentError, match="differs only by case"):
        check_name("CAF\u00c9 STRASSE", workspace=workspace)  # casefold: \u00df is "ss"


def _archive_named(tmp_path, name):
    project = Project.create(name, workspace=tmp_path / "source", width=8, height=8)
    return project.export(tmp_path / "named.zip")


def test_import_refuses_a_name_differing_only_by_case(workspace, tmp_path):
    Project.create("Poster")
    archive = _archive_named(tmp_path, "POSTER")
    with pytest.raises(DocumentFormatError, match="differs only by case.*--name"):
        import_archive(archive)
    assert sorted(p.name for p in workspace.iterdir()) == ["Poster"]
    assert import_archive(archive, name="Poster B").name == "Poster B"


def test_import_refuses_a_bad_name_given_by_the_user(workspace, tmp_path):
    archive = _archive_named(tmp_path, "Fine")
    with pytest.raises(InvalidArgumentError, match="reserved on Windows"):
        import_archive(archive, name="nul")
    assert list(workspace.iterdir()) == []


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it after."""
    previous = os.umask(0o022)
    os.umask(previous)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    path = tmp_path / "out.png"
    write_atomic(path, b"data")
    assert _mode(path) == expected
    path.chmod(0o600)
    write_atomic(path, b"new data")  # a replaced file gets the mode a new one would
    assert _mode(path) == expected and path.read_bytes() == b"new data"


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)])
def test_exports_follow_the_umask(workspace, tmp_path, umask, mask, expected):
    umask(mask)
    project = Project.create("Modes", width=8, height=8)
    info = project.assets.add(encode_image(np.full((8, 8, 3), 200, np.uint8), "png"))
    exported_asset = project.assets.export(info.hash, tmp_path / "asset.png")
    archive = project.export(tmp_path / "modes.zip")
    assert _mode(exported_asset) == expected
    assert _mode(archive) == expected
    assert _mode(project.path / "project.isproj") == expected
    assert zipfile.ZipFile(archive).testzip() is None
