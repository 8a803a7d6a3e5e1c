"""Background removal and replacement from the canvas: a cut-out is a mask layer linked to the image (the
image's pixels untouched), strokes refine it, a background goes under it; the reference renderer agrees."""

from __future__ import annotations

import numpy as np
import pytest

from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.widgets import Canvas
from tests.widgets.conftest import Outbox, message


@pytest.fixture
def ball(workspace):
    from imagestudio_nb import Project

    project = Project.create("Cutout", workspace=workspace, width=128, height=128)
    yy, xx = np.mgrid[0:128, 0:128]
    photo = np.full((128, 128, 3), 245, np.uint8)
    photo[(xx - 64) ** 2 + (yy - 64) ** 2 < 30 ** 2] = (200, 40, 40)
    project.photo = project.add_layer("image", name="Photo", asset=project.assets.add(photo).hash)
    return project


def _call(widget, method, buffers=(), **args):
    outbox = Outbox(widget)
    message(widget, {"type": "call", "id": 1, "method": method, "args": args}, buffers)
    return outbox.last_reply()[0]


def test_one_click_cut_out_is_a_mask_layer_and_the_image_is_unchanged(ball):
    canvas = Canvas(ball)
    asset = ball.layer(ball.photo)["asset"]
    canvas.selected_layer = ball.photo
    reply = _call(canvas, "remove_background")
    assert "error" not in reply, reply
    (mask,) = reply["result"]
    assert ball.layer(ball.photo)["mask"] == mask and ball.layer(ball.photo)["asset"] == asset
    assert ball.layer(mask)["kind"] == "mask" and canvas.selected_layer == mask and canvas.tool == "mask"
    rendered = ball.render()
    assert rendered[64, 64, 3] == 255 and rendered[64, 64, 0] > 180   # the ball stays
    assert rendered[5, 5, 3] < 20                                       # the white background is gone
    # A "keep" stroke (mask_add) brings a corner back; a "remove" stroke takes the ball's centre away.
    ball.add_stroke(mask, {"tool": "mask_add", "size": 12, "hardness": 1, "opacity": 1, "points": [5, 5]})
    ball.add_stroke(mask, {"tool": "mask_remove", "size": 10, "hardness": 1, "opacity": 1, "points": [64, 64]})
    rendered = ball.render()
    assert rendered[5, 5, 3] > 235 and rendered[64, 64, 3] < 20
    # Unlinking the mask gives the whole photo back: nothing was destroyed.
    ball.update_layer(ball.photo, mask=None)
    assert ball.render()[5, 5, 3] == 255


def test_replace_background_with_a_template_a_colour_and_an_image(ball):
    canvas = Canvas(ball)
    assert "studio-sweep" in canvas.background_templates
    canvas.remove_background(ball.photo)
    # With the cut-out mask selected, the background goes under its image.
    reply = _call(canvas, "replace_background", background="#00ff00")
    assert "error" not in reply, reply
    order = [layer["id"] for layer in ball.layers()]
    assert order.index(reply["result"]) == order.index(ball.photo) - 1
    rendered = ball.render()
    assert rendered[5, 5].tolist() == [0, 255, 0, 255] and rendered[64, 64, 0] > 180
    template = canvas.replace_background("midnight", ball.photo)
    assert ball.layer(template)["name"] == "Background: midnight"
    from imagestudio_nb.imaging.codec import encode_image

    plate = np.zeros((32, 32, 3), np.uint8)
    plate[..., 2] = 250
    reply = _call(canvas, "replace_background", [encode_image(plate, "png")], layer_id=ball.photo)
    assert "error" not in reply, reply
    assert ball.render()[5, 5].tolist()[:3] == [0, 0, 250]
    with pytest.raises(Exception, match="background"):
        canvas.replace_background("no-such-template", ball.photo)


def test_batch_cut_out_checks_every_layer_first(ball):
    canvas = Canvas(ball)
    second = ball.add_layer("image", name="Copy", asset=ball.layer(ball.photo)["asset"])
    masks = canvas.remove_background([ball.photo, second])
    assert [ball.layer(i)["mask"] for i in (ball.photo, second)] == masks
    paint = ball.add_layer("paint", name="Ink")
    before = len(ball.layers())
    with pytest.raises(InvalidArgumentError, match="image layers"):
        canvas.remove_background([second, paint])
    assert len(ball.layers()) == before  # nothing half-done
