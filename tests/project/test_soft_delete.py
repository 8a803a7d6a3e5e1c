"""Soft delete: a deleted layer leaves the stack but stays restorable, with every stroke made on it meanwhile;
and changes a view makes through a kernel are not the kernel's own to undo."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.project import Project

STROKE = {"tool": "brush", "color": "#ff0000", "size": 4, "hardness": 1.0, "opacity": 1.0, "points": [1, 1, 5, 5]}


def test_deleting_a_layer_hides_it_and_restoring_brings_it_back_in_place(workspace):
    project = Project.create("Bin", width=16, height=16)
    bottom, middle, top = (project.add_layer("paint", name=n) for n in ("bottom", "middle", "top"))
    project.remove_layer(middle)
    assert [l["name"] for l in project.layers()] == ["bottom", "top"]
    gone = project.deleted_layers()
    assert [l["id"] for l in gone] == [middle] and gone[0]["deleted_by"] and gone[0]["deleted_at"]
    assert len(project.layers(include_deleted=True)) == 3
    project.restore_layer(middle)
    assert [l["name"] for l in project.layers()] == ["bottom", "middle", "top"]
    assert "deleted" not in project.layer(middle) and project.deleted_layers() == []
    reopened = Project.open("Bin")
    assert [l["name"] for l in reopened.layers()] == ["bottom", "middle", "top"]


def test_restoring_a_layer_that_is_not_deleted_says_which_are(workspace):
    project = Project.create("Bin2")
    layer = project.add_layer("paint")
    with pytest.raises(InvalidArgumentError, match="not deleted"):
        project.restore_layer(layer)


def test_positions_count_only_the_layers_shown(workspace):
    project = Project.create("Order")
    a, b, c, d = (project.add_layer("paint", name=n) for n in "abcd")
    project.remove_layer(b)
    project.move_layer(d, 1)  # shown: a c d -> a d c
    assert [l["name"] for l in project.layers()] == ["a", "d", "c"]
    project.add_layer("paint", name="e", index=1)
    assert [l["name"] for l in project.layers()] == ["a", "e", "d", "c"]
    project.restore_layer(b)
    assert [l["name"] for l in project.layers()].count("b") == 1


def test_deleted_layers_count_as_removed_in_a_diff(workspace):
    project = Project.create("Diffs")
    layer = project.add_layer("paint", name="gone")
    project.checkpoint("before")
    project.remove_layer(layer)
    assert [entry["id"] for entry in project.diff("before")["layers_removed"]] == [layer]


def test_strokes_painted_while_another_process_deletes_the_layer_are_kept(workspace):
    """A painter in another process keeps adding strokes; this process deletes the layer halfway. Nothing lost."""
    project = Project.create("Painting", width=32, height=32)
    layer = project.add_layer("paint", name="shared")
    painter = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import json, sys, time
        from imagestudio_nb.project import Project
        p = Project.open({str(project.path)!r})
        print("ready", flush=True)
        for i in range(40):
            p.add_stroke({layer!r}, {{**json.loads({json.dumps(json.dumps(STROKE))}), "points": [i % 32, 1, 5, 5]}})
            time.sleep(0.005)
        print("done", flush=True)
    """)], stdout=subprocess.PIPE, text=True, env={**__import__("os").environ})
    assert painter.stdout.readline().strip() == "ready"
    time.sleep(0.05)
    project.remove_layer(layer)
    assert painter.stdout.readline().strip() == "done"
    assert painter.wait(60) == 0
    assert project.layers() == []
    project.restore_layer(layer)
    assert len(project.layer(layer)["strokes"]) == 40
    assert len(Project.open("Painting").layer(layer)["strokes"]) == 40


def test_a_views_changes_are_not_undone_by_the_kernels_undo(workspace):
    project = Project.create("Views")
    mine = project.add_layer("paint", name="mine")
    other = Project.create("Scratch")
    other_layer = other.add_layer("paint", name="from a view")
    update = other.doc.get_update(project.doc.get_state())
    with project.on_behalf_of("view-b"):
        theirs = project.add_layer("paint", name="theirs")
        with project.batch():
            project.apply_update(update)
    assert project.undo() is True  # undoes "mine", the kernel's own
    names = [l["name"] for l in project.layers()]
    assert "mine" not in names and "theirs" in names and "from a view" in names
    assert project.undo() is False  # nothing else is the kernel's
    origins = [row.origin for row in project.log.rows()]
    assert origins[-3:-1] == ["widget", "widget"] and origins[-1] != "widget"  # the last row is the kernel's undo


def test_on_behalf_of_needs_a_view_id(workspace):
    project = Project.create("NoView")
    with pytest.raises(InvalidArgumentError, match="view id"):
        with project.on_behalf_of(""):
            pass


def test_cleaning_up_empties_the_deleted_layers_and_frees_their_images(workspace):
    import numpy as np

    project = Project.create("Tidy", width=8, height=8)
    kept = project.add_layer("image", asset=project.assets.add(np.zeros((8, 8, 3), np.uint8)).hash)
    gone_asset = project.assets.add(np.full((8, 8, 3), 200, np.uint8)).hash
    gone = project.add_layer("image", asset=gone_asset)
    project.remove_layer(gone)
    assert gone_asset in project.references()  # restorable: its image is kept...
    assert [a["hash"] for a in project.clean_assets(dry_run=True)] == [gone_asset]  # ...until cleaning up
    assert project.deleted_layers()  # a dry run changes nothing
    project.clean_assets(dry_run=False)
    assert project.deleted_layers() == [] and [l["id"] for l in project.layers()] == [kept]
    assert gone_asset not in {info.hash for info in project.assets.list()}


def test_purging_removes_only_deleted_layers(workspace):
    project = Project.create("Purge")
    a, b, c = (project.add_layer("paint", name=n) for n in "abc")
    project.remove_layer(a)
    project.remove_layer(c)
    assert project.purge_deleted_layers([c]) == [c]
    assert [l["id"] for l in project.deleted_layers()] == [a]
    assert project.purge_deleted_layers() == [a] and [l["id"] for l in project.layers()] == [b]
    assert project.purge_deleted_layers([b]) == []  # a layer shown is never purged
