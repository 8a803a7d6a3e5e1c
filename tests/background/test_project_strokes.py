"""Strokes stored on a project's mask layer reproduce the same cut-out (the data contract the lead wires)."""

from __future__ import annotations

import numpy as np

from imagestudio_nb.imaging.background import remove_background


def test_mask_layer_strokes_round_trip_through_the_project(tmp_path, scene):
    from imagestudio_nb.project.project import Project

    image, _ = scene("mug", "white")
    strokes = [{"tool": "keep", "size": 14, "hardness": 0.5, "opacity": 1, "points": [5, 5, 40, 9]},
               {"tool": "remove", "size": 20, "hardness": 1, "opacity": 0.75, "points": [80, 96, 90, 100]}]
    project = Project.create("cutouts", workspace=tmp_path)
    layer_id = project.add_layer("mask", name="cut-out mask")
    for stroke in strokes:
        project.add_stroke(layer_id, stroke)
    project.save()
    reopened = Project.open("cutouts", workspace=tmp_path)
    stored = reopened.layer(layer_id)["strokes"]
    assert stored == strokes
    direct = remove_background(image, strokes=strokes)
    from_project = remove_background(image, strokes=stored)
    assert np.array_equal(direct.matte, from_project.matte)
