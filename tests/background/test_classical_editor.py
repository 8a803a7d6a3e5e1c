"""The classical fallback (border colour model + GrabCut) and the MaskEditor's logic."""

from __future__ import annotations

import numpy as np
import pytest

from imagestudio_nb.errors import UnsupportedParameterError
from imagestudio_nb.imaging.background import border_model, classical_matte, remove_background
from imagestudio_nb.widgets.mask_editor import MaskEditor


@pytest.mark.parametrize("background", ["white", "gradient", "solid"])
@pytest.mark.parametrize("kind", ["bottle", "mug"])
def test_classical_method_segments_studio_shots(scene, iou, kind, background):
    image, alpha = scene(kind, background)
    result = remove_background(image, method="classical")
    assert result.method == "classical" and iou(result.matte, alpha) > 0.93


def test_classical_matte_is_deterministic(scene):
    image, _ = scene("box", "gradient")
    assert np.array_equal(classical_matte(image), classical_matte(image))


def test_border_model_tells_studio_from_textured_backgrounds(scene):
    image, _ = scene("bottle", "gradient")
    assert border_model(image).studio_like
    rng = np.random.default_rng(0)
    textured = rng.integers(0, 256, image.shape, dtype=np.uint8)
    assert not border_model(textured).studio_like


def test_classical_matte_of_an_empty_scene_is_empty():
    assert classical_matte(np.full((64, 64, 3), 200, np.uint8)).max() == 0


@pytest.fixture
def editor(scene):
    image, _ = scene("bottle", "white", size=(400, 320))
    return MaskEditor(image, brush_size=20, max_display=200)  # display at half size


def test_editor_records_strokes_in_image_pixels(editor):
    assert editor.scale == 0.5
    editor.begin_stroke(10, 10)
    editor.extend_stroke(20, 10)
    editor.extend_stroke(20.1, 10)  # jitter below half a pixel is ignored
    stroke = editor.end_stroke()
    assert stroke == {"tool": "keep", "size": 20, "hardness": 0.8, "opacity": 1.0, "points": [20.0, 20.0, 40.0, 20.0]}
    assert editor.strokes == [stroke]
    editor.extend_stroke(50, 50)  # moving without a pressed button records nothing
    assert editor.end_stroke() is None and len(editor.strokes) == 1


def test_editor_undo_and_clear(editor):
    editor.add_stroke([1, 1])
    editor.mode = "remove"
    editor.add_stroke([5, 5, 9, 9], size=4)
    assert [s["tool"] for s in editor.strokes] == ["keep", "remove"] and editor.strokes[1]["size"] == 4
    assert editor.undo()["tool"] == "remove" and len(editor.strokes) == 1
    editor.clear()
    assert editor.strokes == [] and editor.undo() is None
    with pytest.raises(UnsupportedParameterError, match="keep, remove"):
        editor.mode = "paint"


def test_editor_strokes_flow_into_remove_background(editor):
    editor.add_stroke([20, 20, 60, 20])  # keep a patch of background
    editor.mode = "remove"
    editor.add_stroke([160, 300], size=30)  # remove part of the bottle
    result = editor.run()
    direct = remove_background(editor.image, strokes=editor.strokes)
    assert np.array_equal(result.matte, direct.matte)
    assert result.matte[20, 40] > 0.99 and result.matte[300, 160] < 0.01
    assert np.allclose(editor.preview_matte(), result.matte, atol=1e-6)


def test_editor_overlay_tints_the_removed_area(editor):
    overlay = editor.overlay_image()
    assert overlay.shape == (200, 160, 3)
    background_px, object_px = overlay[5, 5].astype(int), overlay[100, 80].astype(int)
    assert background_px[0] - background_px[2] > 50  # tinted red
    original = editor.image[200, 160].astype(int)
    assert np.abs(object_px - original).max() < 25  # the kept object is shown as is
    editor.show_overlay = False
    assert np.abs(editor.overlay_image()[5, 5].astype(int) - editor.image[10, 10]).max() < 5


def test_editor_widget_wires_the_mouse_to_the_same_methods(editor):
    ui = editor.widget
    canvas = ui.children[-1]
    assert (canvas.width, canvas.height) == (160, 200)
    editor.begin_stroke(30, 40)
    editor.extend_stroke(60, 40)
    editor.end_stroke()
    assert editor.strokes[-1]["points"] == [60.0, 80.0, 120.0, 80.0]
    undo = ui.children[1].children[0]
    undo.click()
    assert editor.strokes == []
