"""The panels' kernel side: filter previews and apply, generation and its errors, gallery, studio links."""

from __future__ import annotations

import numpy as np

from imagestudio_nb.errors import ContentFilterError
from imagestudio_nb.imaging.codec import decode_image
from imagestudio_nb.widgets import Canvas, FilterPanel, Gallery, PromptPanel, Studio
from tests.widgets.conftest import Outbox, message


def _call(widget, outbox, method, buffers=(), **args):
    message(widget, {"type": "call", "id": 1, "method": method, "args": args}, buffers)
    return outbox.last_reply()


def test_filter_panel_is_built_from_the_registry_and_follows_the_canvas(project):
    from imagestudio_nb.imaging.filters import filter_names

    canvas = Canvas(project)
    panel = FilterPanel(project, canvas=canvas)
    assert {f["name"] for f in panel.filters} == set(filter_names())
    assert all("type" in p and "default" in p for f in panel.filters for p in f["params"])
    layer = project.add_layer("image", asset=project.asset, filters=[{"filter": "sepia", "params": {"amount": 1}}])
    canvas.selected_layer = layer
    assert panel.layer == layer and panel.chain[0]["filter"] == "sepia" and "image" in panel.layer_name


def test_preview_replies_with_jpeg_bytes_at_the_asked_size_and_the_request_number(project):
    panel = FilterPanel(project, layer=project.add_layer("image", asset=project.asset))
    outbox = Outbox(panel)
    message(panel, {"type": "preview", "id": 5, "seq": 12, "max_side": 32,
                    "chain": [{"filter": "black_white", "params": {}}]})
    content, buffers = outbox.last_reply()
    assert content["seq"] == 12 and content["mime"] == "image/jpeg" and content["kernel_ms"] >= 0
    pixels = decode_image(buffers[0], mode="RGB")
    assert pixels.shape == (24, 32, 3) and abs(int(pixels[5, 5, 0]) - int(pixels[5, 5, 2])) < 8
    message(panel, {"type": "preview", "id": 6, "seq": 13, "chain": [{"filter": "no_such_filter"}]})
    error = outbox.last_reply()[0]["error"]
    assert error.startswith("UnsupportedParameterError") and "brightness" in error


def test_apply_cancel_and_presets_go_through_the_public_functions(project):
    layer = project.add_layer("image", asset=project.asset)
    panel = FilterPanel(project, layer=layer)
    outbox = Outbox(panel)
    chain = [{"filter": "brightness", "params": {"amount": 0.25}}]
    assert _call(panel, outbox, "apply", chain=chain)[0]["result"] == chain
    assert project.layer(layer)["filters"] == chain
    panel.chain = [{"filter": "sepia", "params": {"amount": 1}}]
    _call(panel, outbox, "cancel")
    assert panel.chain == chain
    preset = _call(panel, outbox, "load_preset", name="B&W")[0]["result"]
    assert preset[0]["filter"] == "black_white" and panel.chain == preset
    mask = project.add_layer("mask")
    panel.layer = mask
    assert "is a mask" in _call(panel, outbox, "apply")[0]["error"]


def test_prompt_panel_offers_what_the_model_declares(project):
    panel = PromptPanel(project)
    local = next(m for m in panel.models if m["model"] == "local")
    assert "512x512" in local["sizes"] and local["max_n"] >= 1
    assert panel.model_name == "local" and panel.styles and panel.templates


def test_generate_adds_results_to_the_project_and_the_canvas(project):
    canvas = Canvas(project)
    panel = PromptPanel(project, canvas=canvas)
    outbox = Outbox(panel)
    content, buffers = _call(panel, outbox, "generate", prompt="two foxes in snow", model="local",
                             options={"size": "256x256", "n": 2, "seed": 4})
    results = content["result"]["results"]
    layers = project.layers()
    assert [l["asset"] for l in layers] == [r["asset"] for r in results]
    assert [l["visible"] for l in layers] == [True, False] and canvas.selected_layer == layers[0]["id"]
    assert project.generations()[-1]["request"]["prompt"] == "two foxes in snow"
    assert len(buffers) == 2 and decode_image(buffers[0]).shape[0] <= 192


def test_generation_errors_are_one_line_in_the_panel(project, monkeypatch):
    import imagestudio_nb.generation as generation

    def refuse(*args, **kwargs):
        raise ContentFilterError("the service's content filter refused this prompt; rephrase it")

    panel = PromptPanel(project)
    outbox = Outbox(panel)
    error = _call(panel, outbox, "generate", prompt="a cat", model="local", options={"size": "3x3"})[0]["error"]
    assert error.startswith("UnsupportedParameterError") and "512x512" in error
    assert _call(panel, outbox, "generate", prompt="  ")[0]["error"].startswith("InvalidArgumentError: write a prompt")
    monkeypatch.setattr(generation, "generate", refuse)
    error = _call(panel, outbox, "generate", prompt="something", options={})[0]["error"]
    assert error == "ContentFilterError: the service's content filter refused this prompt; rephrase it"
    assert project.layers() == []


def test_enhance_suggest_templates_and_history(project, monkeypatch, tmp_path):
    monkeypatch.setenv("IMAGESTUDIO_PROMPT_HISTORY", str(tmp_path / "history.sqlite"))
    panel = PromptPanel(project)
    outbox = Outbox(panel)
    enhanced = _call(panel, outbox, "enhance", prompt="a castle", style="")[0]["result"]
    assert enhanced["original"] == "a castle" and len(enhanced["prompt"]) > len("a castle") and enhanced["changes"]
    suggestions = _call(panel, outbox, "suggest", prompt="a castle at sun")[0]["result"]
    assert suggestions and all(s["text"] for s in suggestions)
    template = panel.templates[0]
    values = {name: "x" for name in template["variables"]}
    assert _call(panel, outbox, "render_template", name=template["name"], values=values)[0]["result"]
    assert _call(panel, outbox, "history")[0]["result"] == []


def test_gallery_lists_searches_tags_compares_and_adds_to_the_canvas(project):
    canvas = Canvas(project)
    gallery = Gallery(project, canvas=canvas)
    outbox = Outbox(gallery)
    assert [i["hash"] for i in gallery.items] == [project.asset]
    assert _call(gallery, outbox, "search", query="halves")[0]["result"] == [project.asset]
    assert _call(gallery, outbox, "search", query="nothingmatches")[0]["result"] == []
    assert _call(gallery, outbox, "tag", asset=project.asset, tag="keeper")[0]["result"] == ["halves", "keeper"]
    assert gallery.items[0]["tags"] == ["halves", "keeper"]
    _call(gallery, outbox, "untag", asset=project.asset, tag="halves")
    assert project.assets.info(project.asset).tags == ["keeper"]
    content, buffers = _call(gallery, outbox, "thumbnails", assets=[project.asset])
    assert decode_image(buffers[0]).shape[1] == 64
    content, buffers = _call(gallery, outbox, "image", asset=project.asset)
    assert content["result"]["width"] == 64 and buffers[0] == project.assets.read(project.asset)
    layer = _call(gallery, outbox, "add_to_canvas", asset=project.asset)[0]["result"]
    assert project.layers()[-1]["id"] == layer == canvas.selected_layer


def test_gallery_sees_assets_added_elsewhere(project):
    gallery = Gallery(project)
    digest = project.assets.add(np.full((4, 4, 3), 9, np.uint8)).hash
    assert gallery.search("nothing") == []  # any action refreshes a stale grid outside an event loop
    assert digest in [i["hash"] for i in gallery.items]


def test_studio_opens_or_creates_the_project_and_links_the_panels(workspace):
    studio = Studio("Studio test", workspace=workspace)
    layer = studio.canvas.add_layer("paint")
    assert studio.filters.layer == layer
    again = Studio(studio.project)
    assert again.project is studio.project


def test_a_missing_bundle_renders_how_to_build_it(monkeypatch, tmp_path):
    from imagestudio_nb.widgets import _base

    monkeypatch.setattr(_base, "STATIC", tmp_path)
    module = _base.bundle("canvas")
    assert isinstance(module, str) and "make install" in module and "canvas.js" in module


def test_the_server_extension_turns_nagle_off_once():
    import asyncio
    import socket
    import threading

    import tornado.web
    import tornado.websocket
    from websockets.sync.client import connect

    from imagestudio_nb.widgets.server import enable_nodelay

    assert enable_nodelay() is True
    wrapped = tornado.websocket.WebSocketHandler._detach_stream
    assert enable_nodelay() is True and tornado.websocket.WebSocketHandler._detach_stream is wrapped  # not twice

    class Report(tornado.websocket.WebSocketHandler):  # tells the client whether its socket has TCP_NODELAY
        def open(self):
            self.write_message(str(self.ws_connection.stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))

    loop, ready, port = asyncio.new_event_loop(), threading.Event(), []

    def serve():
        asyncio.set_event_loop(loop)
        server = tornado.web.Application([("/ws", Report)]).listen(0, "127.0.0.1")
        port.append(next(iter(server._sockets.values())).getsockname()[1])
        ready.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    assert ready.wait(10)
    try:
        with connect(f"ws://127.0.0.1:{port[0]}/ws", open_timeout=10) as client:
            assert client.recv(timeout=10) == "1"  # the accepted websocket sends without Nagle's delay
    finally:
        loop.call_soon_threadsafe(loop.stop)


def test_inpaint_edits_a_layer_inside_the_painted_mask_and_covers_it(project):
    canvas = Canvas(project)
    panel = PromptPanel(project, canvas=canvas, prompt="a yellow sun", options={"size": "256x256", "seed": 2})
    outbox = Outbox(panel)
    layer = project.add_layer("image", asset=project.asset)
    assert "select the image layer" in _call(panel, outbox, "edit")[0]["error"]
    mask = project.add_layer("mask")
    project.add_stroke(mask, {"tool": "mask_add", "size": 20, "hardness": 1, "opacity": 1, "points": [10, 10, 20, 10]})
    canvas.selected_layer = layer
    content, buffers = _call(panel, outbox, "edit")
    assert "error" not in content, content
    record = project.generations()[-1]
    assert record["kind"] == "edit" and record["request"]["prompt"] == "a yellow sun"
    # The result sits right above the edited layer; the mask stays on top, where the user painted it.
    below, result, top = project.layers()
    assert below["id"] == layer and top["id"] == mask
    assert result["kind"] == "generated" and canvas.selected_layer == result["id"]
    assert result["transform"]["scale_x"] == 64 / 256 and result["transform"]["scale_y"] == 48 / 256
    edited = project.assets.read_array(result["asset"], mode="RGB")
    original = project.assets.read_array(project.asset, mode="RGB")
    # Outside the painted area the edit keeps the original (resized to 256x256 by the model).
    assert np.abs(edited[200, 60].astype(int) - original[40, 15].astype(int)).max() < 12


def test_edit_mask_follows_the_layer_transform(project):
    from imagestudio_nb.widgets.inpaint import edit_mask

    layer = project.add_layer("image", asset=project.asset,
                              transform={"x": 10, "y": 0, "scale_x": 0.5, "scale_y": 0.5, "rotation": 0, "crop": None})
    mask = project.add_layer("mask")
    project.add_stroke(mask, {"tool": "mask_add", "size": 6, "hardness": 1, "opacity": 1, "points": [20, 10]})
    selected = edit_mask(project, project.layer(layer), project.layer(mask))
    assert selected.shape == (48, 64)
    ys, xs = np.nonzero(selected)
    assert abs(xs.mean() - 20) < 1.5 and abs(ys.mean() - 20) < 1.5  # canvas (20, 10) is source (20, 20)


def test_partial_results_are_placed_and_the_shortfall_is_said(project, monkeypatch):
    import imagestudio_nb.generation as generation
    from imagestudio_nb.errors import PartialResultError

    real = generation.generate

    def short(*args, **kwargs):
        results = real(*args, **{**kwargs, "n": 1})
        raise PartialResultError("local returned 1 of 2 images; the returned ones are in the error's .results",
                                 results=list(results))

    monkeypatch.setattr(generation, "generate", short)
    panel = PromptPanel(project, prompt="a tree", options={"size": "256x256", "n": 2})
    outbox = Outbox(panel)
    error = _call(panel, outbox, "generate")[0]["error"]
    assert error.startswith("PartialResultError: local returned 1 of 2")
    assert [l["kind"] for l in project.layers()] == ["generated"] and panel.results[0]["layer"] == project.layers()[0]["id"]


def test_inpaint_with_the_local_model_sends_only_what_edits_accept(project):
    # Options left by a generation (style) must not reach the edit call, which takes no style.
    canvas = Canvas(project)
    panel = PromptPanel(project, canvas=canvas, prompt="a blue moon",
                        options={"size": "256x256", "seed": 3, "style": "vivid", "quality": "low", "n": 1})
    outbox = Outbox(panel)
    canvas.selected_layer = project.add_layer("image", asset=project.asset)
    content, _ = _call(panel, outbox, "edit")
    assert "error" not in content, content
    request = project.generations()[-1]["request"]
    assert request["quality"] == "low" and request["seed"] == 3 and "style" not in request["options"]
    local = next(m for m in panel.models if m["model"] == "local")
    assert "style" in local["accepts"]["generate"] and "style" not in local["accepts"]["edit"]
    # A panel option that is no option at all is still a mistake, not silently dropped.
    panel.options = {"size": "256x256", "colour": "red"}
    assert "unknown generation options" in _call(panel, outbox, "edit")[0]["error"]


def test_generations_go_above_the_image_layers_not_over_paint_or_text(project):
    canvas = Canvas(project)
    photo = project.add_layer("image", asset=project.asset, name="Photo")
    paint = project.add_layer("paint", name="Ink")
    text = project.add_layer("text", name="Title", text={"content": "Hi", "x": 1, "y": 1})
    canvas.selected_layer = paint
    panel = PromptPanel(project, canvas=canvas, prompt="three kites", options={"size": "256x256", "seed": 1, "n": 3})
    results = panel.generate()
    order = [layer["id"] for layer in project.layers()]
    assert order[0] == photo and order[-2:] == [paint, text]
    names = [layer["name"] for layer in project.layers()[1:4]]
    assert len(set(names)) == 3 and all(n.startswith(f"#{i + 1} ") for i, n in enumerate(names))
    assert len({r.asset for r in results}) == 3 and canvas.selected_layer == order[1]
    # With an image layer selected, the next result goes right above it.
    canvas.selected_layer = photo
    panel.options = {"size": "256x256", "seed": 9, "n": 1}
    panel.generate()
    assert project.layers()[1]["id"] == canvas.selected_layer != photo


def test_preview_of_a_transparent_layer_keeps_its_alpha(project):
    from imagestudio_nb.imaging.codec import decode_image

    ink = project.add_layer("paint", name="Ink")
    project.add_stroke(ink, {"tool": "brush", "size": 8, "hardness": 1, "opacity": 1, "color": "#ff0000",
                             "points": [10, 10, 50, 10]})
    project.add_stroke(ink, {"tool": "eraser", "size": 8, "hardness": 1, "opacity": 1, "points": [30, 4, 30, 16]})
    panel = FilterPanel(project, layer=ink)
    outbox = Outbox(panel)
    message(panel, {"type": "preview", "id": 3, "seq": 1, "max_side": 64, "chain": []})
    content, buffers = outbox.last_reply()
    assert content["mime"] == "image/png"
    pixels = decode_image(buffers[0], mode="RGBA")
    assert pixels[40, 40, 3] == 0                          # empty paint is transparent, not black
    assert pixels[10, 15, 3] == 255 and pixels[10, 15, 0] > 200
    assert pixels[10, 30, 3] == 0                          # the eraser stroke is applied
    # An opaque image layer still previews as JPEG.
    panel.layer = project.add_layer("image", asset=project.asset)
    message(panel, {"type": "preview", "id": 4, "seq": 2, "max_side": 32, "chain": []})
    assert outbox.last_reply()[0]["mime"] == "image/jpeg"


def test_a_preset_can_be_added_to_a_tuned_chain_instead_of_replacing_it(project):
    layer = project.add_layer("image", asset=project.asset)
    panel = FilterPanel(project, layer=layer)
    outbox = Outbox(panel)
    panel.chain = [{"filter": "brightness", "params": {"amount": 0.2}}]
    merged = _call(panel, outbox, "load_preset", name="B&W", merge=True)[0]["result"]
    assert merged[0] == {"filter": "brightness", "params": {"amount": 0.2}} and merged[1]["filter"] == "black_white"
    replaced = _call(panel, outbox, "load_preset", name="B&W")[0]["result"]
    assert replaced[0]["filter"] == "black_white" and len(replaced) == len(merged) - 1
    _call(panel, outbox, "cancel")
    assert panel.chain == []  # nothing was applied: back to the layer's stored chain


def test_a_views_filter_edits_name_their_layer_and_leave_the_notebooks_panel_alone(project):
    panel = FilterPanel(project)
    outbox = Outbox(panel)
    assert panel.document_path == str(project.path.resolve() / "project.isproj")
    sepia = [{"filter": "sepia", "params": {"amount": 1}}]
    layer = project.add_layer("image", name="Photo", asset=project.asset, filters=sepia)
    message(panel, {"type": "layer-info", "id": 2, "layer": layer})
    assert outbox.last_reply()[0]["result"] == {"layer": layer, "name": "Photo (image)", "filters": sepia}
    message(panel, {"type": "preview", "id": 3, "seq": 1, "max_side": 32, "layer": layer, "chain": []})
    assert outbox.last_reply()[1][0][:2] == b"\xff\xd8"
    merged = _call(panel, outbox, "load_preset", name="B&W", merge=True, chain=sepia)[0]["result"]
    assert merged[0] == sepia[0] and merged[1]["filter"] == "black_white"
    assert _call(panel, outbox, "apply", chain=merged, layer=layer)[0]["result"] == merged
    assert project.layer(layer)["filters"] == merged
    assert _call(panel, outbox, "cancel", layer=layer)[0]["result"] == merged
    # None of it touched the notebook's own panel state.
    assert panel.layer is None and panel.chain == []
    message(panel, {"type": "preview", "id": 4, "seq": 2, "chain": []})
    assert "no layer to filter" in outbox.last_reply()[0]["error"]


def test_generated_layers_go_above_the_views_selection_and_a_views_call_is_its_own_to_undo(project):
    canvas = Canvas(project)
    low = project.add_layer("image", name="Low", asset=project.asset)
    high = project.add_layer("image", name="High", asset=project.asset)
    canvas.selected_layer = high  # the notebook's own selection; the view's (sent with the call) wins
    panel = PromptPanel(project, canvas=canvas)
    outbox = Outbox(panel)
    canvas_outbox = Outbox(canvas)
    message(panel, {"type": "call", "id": 3, "view": "view-b", "method": "generate",
                    "args": {"prompt": "a small boat", "model": "local", "options": {"size": "256x256", "seed": 4},
                             "layer": low}})
    assert "error" not in outbox.last_reply()[0]
    names = [layer["name"] for layer in project.layers()]
    assert names == ["Low", "a small boat", "High"]
    # The kernel's changes for that call reached the canvas's views tagged with the calling view.
    assert {content["view"] for content, _ in canvas_outbox.of_type("y-update")} == {"view-b"}
    # The notebook's undo takes back the notebook's own last edit (High), never the view's generation.
    assert project.undo() and [layer["name"] for layer in project.layers()] == ["Low", "a small boat"]
