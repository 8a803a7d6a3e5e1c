"""Projects: lifecycle, layers, comments, undo, canonical JSON on disk, atomic writes, schema versions."""

from __future__ import annotations

import json
import os

import pytest

from imagestudio_nb.errors import (StorageError, DocumentFormatError, InvalidArgumentError, NotFoundError, ProjectExistsError,
                                   ProjectNotFoundError, UnsupportedParameterError)
from imagestudio_nb.project import Project, delete_project, list_projects
from imagestudio_nb.project import document as document_module


def test_create_open_list_rename_delete(workspace):
    project = Project.create("Alpha", width=800, height=600)
    assert project.path == workspace / "Alpha"
    assert (workspace / "Alpha" / "project.isproj").is_file()
    Project.create("Beta")
    assert [p.name for p in list_projects()] == ["Alpha", "Beta"]
    project.rename("Gamma")
    assert Project.open("Gamma").canvas_size == (800, 600)
    assert not (workspace / "Alpha").exists()
    delete_project("Gamma")
    assert [p.name for p in list_projects()] == ["Beta"]


def test_open_missing_project_lists_existing_ones(workspace):
    Project.create("Present")
    with pytest.raises(ProjectNotFoundError, match="Present"):
        Project.open("Absent")


def test_create_refuses_duplicates_and_bad_names(workspace):
    Project.create("Same")
    with pytest.raises(ProjectExistsError):
        Project.create("Same")
    for bad in ("../escape", "a/b", "", ".hidden", "x" * 101):
        with pytest.raises(InvalidArgumentError):
            Project.create(bad)
    with pytest.raises(InvalidArgumentError, match="1..16384"):
        Project.create("Huge", width=100_000)


def test_layers_add_update_move_duplicate_remove(workspace):
    project = Project.create("Layers")
    bottom = project.add_layer("paint", name="Bottom")
    top = project.add_layer("text", name="Top", text={"content": "hello", "font_size": 32})
    project.update_layer(bottom, opacity=0.5, blend_mode="multiply", transform={"x": 12, "rotation": 30})
    layer = project.layer(bottom)
    assert (layer["opacity"], layer["blend_mode"]) == (0.5, "multiply")
    assert layer["transform"]["x"] == 12 and layer["transform"]["scale_x"] == 1
    project.move_layer(bottom, 1)
    assert [l["name"] for l in project.layers()] == ["Top", "Bottom"]
    copy = project.duplicate_layer(top)
    assert [l["id"] for l in project.layers()] == [top, copy, bottom]
    project.remove_layer(top)
    assert [l["name"] for l in Project.open("Layers").layers()] == ["Top copy", "Bottom"]


def test_bad_layer_values_name_the_allowed_ones(workspace):
    project = Project.create("Bad")
    with pytest.raises(UnsupportedParameterError, match="normal, multiply"):
        project.add_layer("image", blend_mode="glow")
    with pytest.raises(UnsupportedParameterError, match="kind"):
        project.add_layer("hologram")
    layer = project.add_layer("paint")
    with pytest.raises(UnsupportedParameterError, match="0 to 1"):
        project.update_layer(layer, opacity=3)
    with pytest.raises(NotFoundError):
        project.update_layer("l_missing", opacity=1)


def test_strokes_are_compact_point_lists_on_paint_layers(workspace):
    project = Project.create("Strokes")
    paint = project.add_layer("paint")
    project.add_stroke(paint, {"tool": "brush", "size": 8, "color": "#ff0000", "points": [1, 2, 3, 4]})
    assert Project.open("Strokes").layer(paint)["strokes"][0]["points"] == [1, 2, 3, 4]
    image = project.add_layer("text")
    with pytest.raises(InvalidArgumentError, match="paint or mask"):
        project.add_stroke(image, {"tool": "brush", "points": [0, 0]})


def test_undo_and_redo_follow_the_document_history(workspace):
    project = Project.create("Undo")
    layer = project.add_layer("paint", name="One")
    project.update_layer(layer, name="Renamed")
    assert project.undo()
    assert project.layer(layer)["name"] == "One"
    assert project.undo()
    assert project.layers() == []
    assert not project.undo()
    assert project.redo() and project.redo()
    assert Project.open("Undo").layer(layer)["name"] == "Renamed"


def test_comments_can_be_added_and_resolved(workspace):
    project = Project.create("Talk")
    layer = project.add_layer("paint")
    comment = project.add_comment("Brighter sky?", layer=layer, x=10, y=20)
    project.resolve_comment(comment)
    reopened = Project.open("Talk")
    assert reopened.comments()[0]["resolved"] is True
    assert reopened.comments(include_resolved=False) == []
    assert reopened.comments()[0]["author"] == "tester"


def test_file_is_canonical_json_with_integers_and_stable_on_reopen(workspace):
    project = Project.create("Canon", width=640, height=480)
    project.add_layer("paint", transform={"x": 3, "y": 4.5})
    project.save()
    text = (project.path / "project.isproj").read_text()
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert data["meta"]["canvas"] == {"height": 480, "width": 640}
    assert isinstance(data["layers"][0]["transform"]["x"], int)
    assert data["layers"][0]["transform"]["y"] == 4.5
    Project.open("Canon").save()
    assert (project.path / "project.isproj").read_text() == text


def test_a_failed_save_leaves_the_previous_file_and_no_temporary_files(workspace, monkeypatch):
    project = Project.create("Atomic")
    before = (project.path / "project.isproj").read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    layer = project.add_layer("paint")  # durable in the log already
    with pytest.raises(StorageError, match="could not write the project file"):
        project.save()
    monkeypatch.undo()
    assert (project.path / "project.isproj").read_bytes() == before
    assert [p.name for p in project.path.iterdir() if p.name.endswith(".tmp")] == []
    assert [l["id"] for l in Project.open(project.path).layers()] == [layer]


def test_newer_schema_is_refused_with_an_upgrade_hint(workspace):
    project = Project.create("Future")
    path = project.path / "project.isproj"
    data = json.loads(path.read_text())
    data["meta"]["schema_version"] = 99
    project.close()
    (project.path / "project.ylog").unlink()  # as a newer version's file arrives by git, without a log
    path.write_text(json.dumps(data))
    with pytest.raises(DocumentFormatError, match="upgrade imagestudio-nb"):
        Project.open("Future")


def test_a_log_written_by_a_newer_version_is_refused(workspace):
    project = Project.create("FutureLog")
    with project._change():
        project._meta["schema_version"] = 99
    project.close()
    with pytest.raises(DocumentFormatError, match="upgrade imagestudio-nb"):
        Project.open("FutureLog")


def test_migration_hook_upgrades_an_old_file_on_open(workspace, monkeypatch):
    project = Project.create("Old")
    path = project.path / "project.isproj"
    data = json.loads(path.read_text())
    data["meta"]["schema_version"] = 0
    data["meta"]["title"] = data["meta"].pop("name")  # what a version-0 writer would have written
    path.write_text(json.dumps(data))

    def zero_to_one(old):
        old["meta"]["name"] = old["meta"].pop("title")
        return old

    monkeypatch.setitem(document_module.MIGRATIONS, 0, zero_to_one)
    reopened = Project.open("Old")
    assert reopened.name == "Old" and reopened.meta["schema_version"] == document_module.SCHEMA_VERSION


def test_corrupt_document_without_a_log_gives_a_clear_error(workspace):
    project = Project.create("Broken")
    project.close()
    (project.path / "project.ylog").unlink()
    (project.path / "project.isproj").write_text("{not json")
    with pytest.raises(DocumentFormatError, match="not valid JSON"):
        Project.open("Broken")


def test_project_settings_override_config_but_refuse_secrets(workspace):
    project = Project.create("Settings")
    project.update_settings(default_model="local", default_size="512x512")
    assert Project.open("Settings").config().default_size == "512x512"
    with pytest.raises(UnsupportedParameterError):
        project.update_settings(api_key="nope")
    assert "nope" not in (project.path / "project.isproj").read_text()


def test_a_deleted_mask_layer_masks_nothing_until_it_is_restored(workspace):
    import numpy as np

    project = Project.create("Masks", width=16, height=16)
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 255
    asset = project.assets.add(red, source="test")
    mask = project.add_layer("mask", name="cut-out")  # a mask with no strokes keeps nothing
    image = project.add_layer("image", name="photo", asset=asset.hash, mask=mask)
    masked = project.render()
    project.remove_layer(mask)
    assert project.layer(image)["mask"] == mask  # the link stays, for a restore
    unmasked = project.render()  # renders; a dangling reference failed before
    assert unmasked[..., 3].min() == 255 and masked[..., 3].max() < 255
    project.restore_layer(mask)
    assert np.array_equal(project.render(), masked)


def test_create_in_a_relative_workspace_opens_the_project_made_there(workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = Project.create("Here", workspace=".")
    assert project.path == tmp_path / "Here" and project.path.is_absolute()
    assert Project.open("Here", workspace=".").path == project.path
    assert not (workspace / "Here").exists()  # not the configured workspace


def _open_handles(path) -> int:
    """How many of this process's file descriptors are open on ``path``."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == str(path)
        except OSError:  # closed while listing
            pass
    return count


def test_a_project_dropped_without_close_releases_its_log(workspace):
    """Ten thousand imports in one process ran out of file descriptors: each dropped project kept its log open."""
    import gc
    import weakref

    from imagestudio_nb.project.persistence import WRITER

    project = Project.create("Dropped")
    project.add_layer("paint", name="Ink")
    WRITER.flush(project.path)  # the snapshot writer's own connection to the log: one, kept for a while
    # Each connection has its own handle on the write-ahead log. (Not counted on project.ylog itself:
    # SQLite defers closing that one while another connection of the process has the file open.)
    wal_file = project.path / "project.ylog-wal"
    assert _open_handles(wal_file) == 2  # the project's connection and the writer's
    document = weakref.ref(project.doc)
    del project
    gc.collect()
    assert _open_handles(wal_file) == 1
    assert document() is None  # and the document with it (an observer pycrdt holds had kept it)
    assert [layer["name"] for layer in Project.open("Dropped").layers()] == ["Ink"]
