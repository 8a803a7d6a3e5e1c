"""Suggestions: a viewer forks, edits, and the owner reviews side by side, then merges or rejects."""

from __future__ import annotations

import pytest

from imagestudio_nb.errors import InvalidArgumentError, PermissionDeniedError
from imagestudio_nb.project import Project
from imagestudio_nb.project.suggestions import merge, reject, review, suggest


@pytest.fixture
def owned(workspace, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    project = Project.create("Poster", width=64, height=48)
    base = project.add_layer("paint", name="base")
    project.add_stroke(base, {"tool": "brush", "points": [5, 5, 60, 40], "size": 6, "color": "#204080"})
    project.set_role("bo", "viewer")
    project.close()
    return project.path, base


def test_a_viewer_suggests_and_the_owner_merges_only_the_suggestion(owned, monkeypatch):
    path, base = owned
    monkeypatch.setenv("IMAGESTUDIO_USER", "bo")
    as_viewer = Project.open(path)
    with pytest.raises(PermissionDeniedError):
        as_viewer.add_layer("paint")
    fork = suggest(as_viewer)
    assert fork.role() == "owner" and fork.meta["forked_from"]["id"] == as_viewer.id
    added = fork.add_layer("paint", name="bo's idea")
    fork.add_stroke(added, {"tool": "brush", "points": [10, 40, 50, 10], "size": 4, "color": "#c03020"})
    fork.update_layer(base, opacity=0.5)
    fork_path = fork.path
    fork.close()
    as_viewer.close()

    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    project = Project.open(path)
    meanwhile = project.add_layer("text", name="added by ana meanwhile")
    fork = Project.open(fork_path)
    seen = review(project, fork)
    assert [layer["name"] for layer in seen.changes["layers_added"]] == ["bo's idea"]
    assert seen.changes["layers_changed"] == {base: ["opacity"]}
    assert seen.changes["layers_removed"] == [] and not seen.empty and seen.pending and seen.status is None
    assert seen._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n" and seen.side_by_side().shape == (48, 64 * 2 + 16, 4)

    merge(project, fork)
    names = [layer["name"] for layer in project.layers()]
    # The suggested layer goes where its author put it (right above base); ana's layer is kept.
    assert names == ["base", "bo's idea", "added by ana meanwhile"]
    assert project.layer(base)["opacity"] == 0.5
    assert project.layer(meanwhile)["name"] == "added by ana meanwhile"
    assert project.name == "Poster" and project.roles()["bo"] == "viewer"  # the fork's identity stays there
    assert len(project.layer(added)["strokes"]) == 1
    assert Project.open(fork_path).meta["suggestion"]["status"] == "merged"
    after = review(project, Project.open(fork_path))
    assert not after.pending and after.status == "merged" and not after.empty  # nothing left to take


def test_rejecting_leaves_the_project_untouched_and_unrelated_projects_are_refused(owned, monkeypatch):
    path, _ = owned
    project = Project.open(path)
    fork = project.fork("Poster experiment")
    fork.add_layer("paint", name="experiment")
    before = project.to_data()
    reject(project, fork, reason="not this time")
    assert project.to_data() == before
    assert fork.meta["suggestion"]["status"] == "rejected"
    stranger = Project.create("Unrelated")
    with pytest.raises(InvalidArgumentError, match="not forked from"):
        review(project, stranger)
