"""The Canvas's kernel side: Y sync with a view, panel calls, rasters, errors in one line, export, crop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pycrdt import Array, Doc, Map

from imagestudio_nb.imaging.codec import decode_image
from imagestudio_nb.widgets import Canvas
from imagestudio_nb.widgets.docsync import acting_for
from tests.widgets.conftest import Outbox, message


def _browser_doc(canvas, outbox):
    """A pycrdt doc standing in for the browser's Yjs doc, synced through the y-sync request."""
    doc = Doc()
    message(canvas, {"type": "y-sync", "id": 1}, [doc.get_state()])
    content, buffers = outbox.last_reply()
    assert content["id"] == 1 and "error" not in content
    doc.apply_update(buffers[0])
    return doc


def test_a_view_stroke_is_saved_relayed_to_every_view_tagged_and_not_in_the_kernels_undo(project):
    with acting_for(project, "setup-view"):  # made for a view: not the notebook's to undo either
        ink = project.add_layer("paint", name="Ink")
    canvas, other = Canvas(project), Canvas(project)
    outbox, other_outbox = Outbox(canvas), Outbox(other)
    doc = _browser_doc(canvas, outbox)
    layers = doc.get("layers", type=Array)
    assert [layer["name"] for layer in layers] == ["Ink"]
    updates = []
    doc.observe(lambda event: updates.append(bytes(event.update)))
    stroke = {"tool": "brush", "size": 4, "hardness": 1, "opacity": 1, "color": "#00ff00", "points": [5, 5, 30, 20]}
    layers[0]["strokes"].append(stroke)
    outbox.sent.clear()
    other_outbox.sent.clear()
    message(canvas, {"type": "y-update", "view": "view-a"}, updates)
    assert project.layer(ink)["strokes"] == [stroke]
    from imagestudio_nb import Project

    assert Project.open(project.path).layer(ink)["strokes"] == [stroke]  # saved
    # Every front end of every Canvas receives it (two browsers may share one widget), tagged with the view.
    for box in (outbox, other_outbox):
        assert [content for content, _ in box.of_type("y-update")] == [{"type": "y-update", "view": "view-a"}]
    # The kernel's own undo leaves a view's edit alone; a notebook's own edit it undoes (and that is untagged).
    assert canvas.undo() is False and project.layer(ink)["strokes"] == [stroke]
    project.update_layer(ink, name="Renamed")
    assert outbox.of_type("y-update")[-1][0]["view"] is None
    assert canvas.undo() and project.layer(ink)["name"] == "Ink"
    assert canvas.redo() and project.layer(ink)["name"] == "Renamed"
    for _, buffers in outbox.of_type("y-update"):
        doc.apply_update(buffers[0])
    assert layers[0]["name"] == "Renamed"  # the rename, its undo and redo reached the view


def test_resync_returns_what_the_view_lacks_and_the_kernels_state_vector(project):
    canvas = Canvas(project)
    outbox = Outbox(canvas)
    doc = _browser_doc(canvas, outbox)
    project.add_layer("paint", name="Missed")  # an update the view never applies (lost)
    message(canvas, {"type": "y-sync", "id": 7, "view": "v"}, [doc.get_state()])
    content, (missing, kernel_state) = outbox.last_reply()
    doc.apply_update(missing)
    assert [layer["name"] for layer in doc.get("layers", type=Array)] == [l["name"] for l in project.layers()]
    mine = doc.get("layers", type=Array)[0]
    mine["name"] = "Edited offline"
    message(canvas, {"type": "y-update", "view": "v"}, [doc.get_update(kernel_state)])
    assert project.layers()[0]["name"] == "Edited offline"


def test_awareness_is_rebroadcast_to_every_view_with_its_sender(project):
    canvas, other = Canvas(project), Canvas(project)
    outbox, other_outbox = Outbox(canvas), Outbox(other)
    message(canvas, {"type": "awareness", "view": "view-a"}, [b"\x01presence"])
    for box in (outbox, other_outbox):
        assert box.of_type("awareness") == [({"type": "awareness", "view": "view-a"}, [b"\x01presence"])]
    assert not outbox.of_type("y-update")


def test_kernel_edits_reach_the_view_as_y_updates(project):
    canvas = Canvas(project)
    outbox = Outbox(canvas)
    doc = _browser_doc(canvas, outbox)
    message(canvas, {"type": "call", "id": 2, "method": "add_layer", "args": {"kind": "text", "name": "Title",
                                                                           "text": {"content": "Hi", "font_size": 12}}})
    layer_id = outbox.last_reply()[0]["result"]
    assert canvas.selected_layer == layer_id
    for content, buffers in outbox.of_type("y-update"):
        doc.apply_update(buffers[0])
    assert [layer["id"] for layer in doc.get("layers", type=Array)] == [layer_id]
    assert isinstance(doc.get("layers", type=Array)[0]["transform"], Map)


def test_panel_calls_change_layers_through_the_project(project):
    canvas = Canvas(project)
    outbox = Outbox(canvas)
    a = project.add_layer("image", name="A", asset=project.asset)
    b = project.add_layer("paint", name="B")

    def call(method, **args):
        message(canvas, {"type": "call", "id": 9, "method": method, "args": args})
        return outbox.last_reply()[0]

    assert "error" not in call("update_layer", layer_id=a, name="Renamed", opacity=0.5, blend_mode="multiply",
                               visible=False, locked=True)
    layer = project.layer(a)
    assert (layer["name"], layer["opacity"], layer["blend_mode"], layer["visible"], layer["locked"]) == \
        ("Renamed", 0.5, "multiply", False, True)
    call("move_layer", layer_id=b, index=0)
    assert [l["id"] for l in project.layers()] == [b, a]
    copy = call("duplicate_layer", layer_id=a)["result"]
    assert [l["id"] for l in project.layers()] == [b, a, copy] and canvas.selected_layer == copy
    call("remove_layer", layer_id=copy)
    assert canvas.selected_layer is None and len(project.layers()) == 2
    reply = call("update_layer", layer_id=a, blend_mode="glow")
    assert reply["error"].startswith("UnsupportedParameterError:") and "multiply" in reply["error"]
    assert "Traceback" not in reply["error"] and canvas.last_error == reply["error"]
    reply = call("delete_everything")
    assert "no action 'delete_everything'" in reply["error"]


def test_assets_and_kernel_rasters_travel_as_binary_buffers(project):
    canvas = Canvas(project)
    outbox = Outbox(canvas)
    message(canvas, {"type": "asset", "id": 3, "hash": project.asset})
    content, buffers = outbox.last_reply()
    assert content["mime"] == "image/png" and buffers[0] == project.assets.read(project.asset)
    layer = project.add_layer("image", asset=project.asset, filters=[{"filter": "black_white"}])
    message(canvas, {"type": "layer-raster", "id": 4, "layer": layer})
    content, buffers = outbox.last_reply()
    pixels = decode_image(buffers[0], mode="RGB")
    assert content["mime"] == "image/jpeg" and pixels.shape == (48, 64, 3)
    assert abs(int(pixels[10, 10, 0]) - int(pixels[10, 10, 2])) < 8  # grey: the chain was applied
    text = project.add_layer("text", text={"content": "Hi", "font_size": 20, "color": "#ff0000"})
    message(canvas, {"type": "layer-raster", "id": 5, "layer": text})
    content, buffers = outbox.last_reply()
    assert content["mime"] == "image/png" and decode_image(buffers[0], mode="RGBA")[..., 3].max() == 255
    empty = project.add_layer("text", text={"content": ""})
    message(canvas, {"type": "layer-raster", "id": 6, "layer": empty})
    assert outbox.last_reply()[0]["empty"] is True


def test_export_writes_the_reference_render_as_png(project, tmp_path):
    project.add_layer("image", asset=project.asset, opacity=0.5)
    canvas = Canvas(project)
    path = canvas.export(tmp_path / "out.png")
    assert np.array_equal(decode_image(path.read_bytes(), mode="RGBA"), project.render())
    outbox = Outbox(canvas)
    message(canvas, {"type": "call", "id": 7, "method": "export", "args": {}})
    content, buffers = outbox.last_reply()
    default = project.path / "exports" / "Widgets.png"
    assert content["result"]["filename"] == "Widgets.png" and buffers[0] == default.read_bytes()
    assert "not 'out.gif'" in str(pytest.raises(Exception, canvas.export, tmp_path / "out.gif").value)


def test_exports_never_overwrite_and_come_as_png_jpeg_or_webp(project):
    project.add_layer("image", asset=project.asset, opacity=0.5)
    canvas = Canvas(project)
    outbox = Outbox(canvas)
    names = []
    for fmt, mime in (("png", "image/png"), ("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp")):
        message(canvas, {"type": "call", "id": 8, "method": "export", "args": {"format": fmt, "quality": 80}})
        content, buffers = outbox.last_reply()
        assert content["result"]["mime"] == mime and buffers[0] == Path(content["result"]["path"]).read_bytes()
        names.append(content["result"]["filename"])
    assert names == ["Widgets.png", "Widgets-2.png", "Widgets.jpg", "Widgets.webp"]
    jpeg = decode_image((project.path / "exports" / "Widgets.jpg").read_bytes(), mode="RGB")
    # Half-transparent red over white, not over black.
    assert jpeg[10, 5, 0] > 200 and jpeg[10, 5, 1] > 100, jpeg[10, 5]
    message(canvas, {"type": "call", "id": 9, "method": "export", "args": {"format": "gif"}})
    assert "png" in outbox.last_reply()[0]["error"]


def test_reset_crop_keeps_the_content_in_place(project):
    layer = project.add_layer("image", asset=project.asset,
                              transform={"x": 10, "y": 4, "scale_x": 0.5, "scale_y": 0.5, "rotation": 0, "crop": None})
    before = project.render()
    project.update_layer(layer, transform={"crop": [16, 8, 32, 24], "x": 18, "y": 8})
    cropped = project.render()
    assert np.array_equal(cropped[8:20, 18:34], before[8:20, 18:34]) and cropped[5, 12, 3] == 0
    Canvas(project).reset_crop(layer)
    assert project.layer(layer)["transform"]["crop"] is None
    assert np.array_equal(project.render(), before)


def test_brush_and_zoom_settings_are_checked():
    import pytest

    from imagestudio_nb.errors import UnsupportedParameterError
    from imagestudio_nb.widgets.canvas import DEFAULT_BRUSH

    class Probe(Canvas):
        def __init__(self):  # no project needed to check traits
            super(Canvas, self).__init__()

    probe = Probe()
    probe.brush = {"color": "#ABC"}
    assert probe.brush == {**DEFAULT_BRUSH, "color": "#aabbcc"}
    with pytest.raises(UnsupportedParameterError, match="0 to 1"):
        probe.brush = {"hardness": 2}
    with pytest.raises(UnsupportedParameterError, match="10% to 800%"):
        probe.zoom = 9
    probe.zoom = 0.1
    assert probe.zoom == 0.1


def test_a_closed_canvas_no_longer_receives_updates(project):
    canvas = Canvas(project)
    outbox = Outbox(canvas)
    canvas.close()
    project.add_layer("paint")
    assert not outbox.of_type("y-update")


def test_filtered_layers_are_shared_with_the_reference_renderer_as_derived_assets(project):
    from imagestudio_nb.imaging.chains import chain_hash

    chain = [{"filter": "sepia", "params": {"amount": 1}}]
    layer = project.add_layer("image", asset=project.asset, filters=chain)
    canvas = Canvas(project)
    message(canvas, {"type": "layer-raster", "id": 1, "layer": layer})
    derived = project.path / "cache" / "derived" / f"{project.asset}_{chain_hash(chain)}.png"
    assert derived.is_file()
    assert np.array_equal(decode_image(derived.read_bytes(), mode="RGBA"), project.render())
