"""The project's verifiers, fed deliberately different input: checkpoint diffs and the asset hash check.

A verifier that always answers "changed" or "intact" must fail here: each test sets a same-input case
beside a different-input one, and the different input is as small as it can be (one flipped bit, one
setting, one reordered layer).
"""

from __future__ import annotations

import numpy as np
import pytest

from imagestudio_nb.errors import DataError
from imagestudio_nb.project import Project

NOTHING = {"layers_added": [], "layers_removed": [], "layers_changed": {}, "layers_reordered": False,
           "meta_changed": [], "comments_added": [], "generations_added": []}


def _changes(diff: dict) -> dict:
    return {key: value for key, value in diff.items() if key not in ("from", "to")}


def test_a_diff_between_identical_states_reports_nothing(workspace):
    project = Project.create("Same")
    project.add_layer("paint", name="A")
    project.add_comment("hello")
    project.checkpoint("one")
    project.checkpoint("two")
    assert _changes(project.diff("one", "two")) == NOTHING
    assert _changes(project.diff("two")) == NOTHING  # against the current state


@pytest.mark.parametrize("change, expected", [
    (lambda p, a, b: p.move_layer(b, 0), {"layers_reordered": True}),
    (lambda p, a, b: p.update_settings(default_style="noir"), {"meta_changed": ["settings"]}),
    (lambda p, a, b: p.update_layer(a, visible=False), {"layers_changed": "visible"}),
    (lambda p, a, b: p.remove_layer(b), {"layers_removed": "B"}),
    (lambda p, a, b: p.add_comment("one more"), {"comments_added": 1}),
], ids=["reorder", "setting", "one-field", "removed", "comment"])
def test_a_diff_names_exactly_the_one_thing_that_changed(workspace, change, expected):
    project = Project.create("Changed")
    a = project.add_layer("paint", name="A")
    b = project.add_layer("text", name="B")
    project.checkpoint("before")
    change(project, a, b)
    project.checkpoint("after")
    diff = _changes(project.diff("before", "after"))

    (key, value), = expected.items()
    assert {k: v for k, v in diff.items() if k != key} == {k: v for k, v in NOTHING.items() if k != key}
    if key == "layers_changed":
        assert diff[key] == {a: [value]}
    elif key == "layers_removed":
        assert diff[key] == [{"id": b, "name": value}]
    elif key == "comments_added":
        assert len(diff[key]) == value
    else:
        assert diff[key] == value


def test_one_flipped_bit_in_an_asset_file_is_refused_on_read(workspace):
    project = Project.create("Bit flip")
    image = np.random.default_rng(5).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    info = project.assets.add(image)
    path = project.assets.path(info.hash)
    data = bytearray(path.read_bytes())
    assert project.assets.read(info.hash) == bytes(data)  # intact: read as stored
    data[len(data) // 2] ^= 0x01  # same length, one bit: a size check would not see it
    path.write_bytes(bytes(data))

    for read in (project.assets.read, project.assets.read_array):
        with pytest.raises(DataError, match="corrupt"):
            read(info.hash)


def test_a_missing_asset_file_is_named_on_read(workspace):
    project = Project.create("Missing")
    info = project.assets.add(np.zeros((8, 8, 3), np.uint8))
    project.assets.path(info.hash).unlink()
    with pytest.raises(DataError, match="missing"):
        project.assets.read(info.hash)
