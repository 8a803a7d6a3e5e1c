"""Checkpoints (list, diff, restore) and forks."""

from __future__ import annotations

import pytest

from imagestudio_nb.errors import CheckpointNotFoundError, InvalidArgumentError, ProjectExistsError
from imagestudio_nb.project import Project


def test_checkpoint_list_diff_and_restore(workspace):
    project = Project.create("Versions")
    keep = project.add_layer("paint", name="Keep")
    project.checkpoint("first", note="start")
    project.update_layer(keep, opacity=0.25)
    added = project.add_layer("text", name="Added")
    project.checkpoint("second")
    assert [c["name"] for c in project.checkpoints()] == ["first", "second"]

    diff = project.diff("first", "second")
    assert diff["layers_added"] == [{"id": added, "name": "Added"}]
    assert diff["layers_changed"] == {keep: ["opacity"]}

    project.remove_layer(keep)
    assert project.diff("second")["layers_removed"] == [{"id": keep, "name": "Keep"}]
    project.restore("first")
    reopened = Project.open("Versions")
    assert [(l["name"], l["opacity"]) for l in reopened.layers()] == [("Keep", 1)]
    assert len(reopened.checkpoints()) == 2  # restoring keeps the history


def test_checkpoint_errors_are_named(workspace):
    project = Project.create("Errors")
    project.checkpoint("v1")
    with pytest.raises(InvalidArgumentError, match="already exists"):
        project.checkpoint("v1")
    with pytest.raises(CheckpointNotFoundError, match="v1"):
        project.restore("v2")


def test_fork_has_a_new_id_and_a_link_to_its_source(workspace):
    source = Project.create("Source")
    layer = source.add_layer("paint", name="Shared")
    forked = source.fork("Fork")
    assert forked.id != source.id
    assert forked.meta["forked_from"]["id"] == source.id
    assert forked.layers()[0]["id"] == layer
    forked.update_layer(layer, name="Changed in fork")
    assert Project.open("Source").layer(layer)["name"] == "Shared"
    with pytest.raises(ProjectExistsError):
        source.fork("Fork")
