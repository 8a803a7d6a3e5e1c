"""The Studio as a designer uses it, in JupyterLab and Chromium at 1600x1000: the layout fits the screen,
tool clicks never scroll the notebook, inpainting works with the offline model and an error clears on the
next success, generations land in the strip and above the image layers. Screenshots are written to
``$IMAGESTUDIO_SCREENSHOTS`` (default: a temporary folder) for review."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.browser.lab import open_notebook, read_project, run_all, wait_for_canvas, wait_until, write_notebook

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SHOTS = Path(os.environ.get("IMAGESTUDIO_SCREENSHOTS") or tempfile.mkdtemp(prefix="studio-shots-"))

SETUP = '''
import numpy as np, imagestudio_nb as studio
project = studio.Project.create({name!r}, width=512, height=512, exist_ok=True)
if not project.layers():
    yy, xx = np.mgrid[0:512, 0:512]
    photo = np.full((512, 512, 3), 245, np.uint8)
    photo[(xx - 256) ** 2 + (yy - 270) ** 2 < 120 ** 2] = (200, 40, 40)   # a red ball on white
    asset = project.assets.add(photo).hash
    project.add_layer("image", name="Photo", asset=asset)
    ink = project.add_layer("paint", name="Ink")
    project.add_stroke(ink, {{"tool": "brush", "size": 16, "hardness": 1, "opacity": 1, "color": "#1040ff",
                             "points": [60, 460, 450, 460]}})
    mask = project.add_layer("mask", name="Edit area")
    project.add_stroke(mask, {{"tool": "mask_add", "size": 80, "hardness": 1, "opacity": 1,
                              "points": [200, 250, 310, 250]}})
project.flush()
'''
FILLER = "# Filler above the Studio, so that the notebook scrolls\n" + "\n".join(f"x{i} = {i}" for i in range(40))


@pytest.fixture
def wide_page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def _open_studio(lab, page, name: str):
    notebook = write_notebook(lab.root, f"{name.replace(' ', '_')}.ipynb",
                              [FILLER, SETUP.format(name=name), f"studio.Studio({name!r})"])
    open_notebook(page, lab, notebook)
    run_all(page)
    return wait_for_canvas(page)


def _doc(lab, name):
    return read_project(lab.workspace, name)


def _scroller(page):
    """The notebook's scrolling element, found as the nearest scrollable ancestor of the Studio."""
    return page.evaluate_handle("""() => {
        let node = document.querySelector('.is-canvas');
        while (node && !(node.scrollHeight > node.clientHeight + 1 &&
                         ['auto', 'scroll'].includes(getComputedStyle(node).overflowY))) node = node.parentElement;
        return node; }""")


def test_layout_fits_1600x1000_and_tool_clicks_never_scroll_the_notebook(lab, wide_page):
    page = wide_page
    canvas = _open_studio(lab, page, "Layout test")
    studio = page.locator(".is-studio-layout").first
    # Bring the Studio's top to the window's top, then scroll a little further: the cell's top is out of view,
    # which is when JupyterLab used to jump back to it on every click.
    scroller = _scroller(page)
    page.evaluate("(s) => { const box = document.querySelector('.is-studio-layout').getBoundingClientRect();"
                  "s.scrollTop += box.top - s.getBoundingClientRect().top + 40; }", scroller)
    page.wait_for_timeout(500)
    before = page.evaluate("(s) => s.scrollTop", scroller)
    assert before > 100
    for tool in ["move", "scale", "rotate", "crop", "brush", "eraser", "mask", "text", "eyedropper", "pan"]:
        canvas.locator(f".is-tool[data-tool={tool}]").click()
        page.wait_for_timeout(150)
        assert page.evaluate("(s) => s.scrollTop", scroller) == before, f"clicking {tool} scrolled the notebook"
        assert "is-active" in canvas.locator(f".is-tool[data-tool={tool}]").get_attribute("class")
    # A click on the canvas (which focuses it) and on the layer list does not scroll either.
    canvas.locator(".is-tool[data-tool=move]").click()
    canvas.locator(".is-layer").first.click()
    box = canvas.locator("canvas.is-screen").bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + 20)
    page.wait_for_timeout(300)
    assert page.evaluate("(s) => s.scrollTop", scroller) == before
    # The options bar shows only what the tool uses.
    canvas.locator(".is-tool[data-tool=eraser]").click()
    assert canvas.locator("[data-brush=opacity]").is_hidden() and canvas.locator("[data-brush=size]").is_visible()
    assert canvas.locator("[data-brush=mask-mode]").is_hidden()
    canvas.locator(".is-tool[data-tool=mask]").click()
    assert canvas.locator("[data-brush=mask-mode]").is_visible() and canvas.locator("[data-brush=color]").is_hidden()
    canvas.locator(".is-tool[data-tool=move]").click()
    assert canvas.locator("[data-brush=size]").is_hidden()

    # Layout: tools left of the canvas, layers right of it, filters beside, prompt and generations below;
    # all of it within 1000 px of height and 1600 of width.
    studio.scroll_into_view_if_needed()
    boxes = {name: page.locator(sel).first.bounding_box() for name, sel in {
        "studio": ".is-studio-layout", "tools": ".is-tools", "stage": ".is-stage", "layers": "[data-panel=layers]",
        "filters": ".is-filter-panel", "prompt": ".is-prompt", "strip": ".is-generations"}.items()}
    page.screenshot(path=str(SHOTS / "layout_1600x1000.png"))
    assert boxes["studio"]["height"] <= 1000 - 80 and boxes["studio"]["width"] <= 1600, boxes["studio"]
    assert boxes["tools"]["x"] + boxes["tools"]["width"] <= boxes["stage"]["x"] + 1
    assert boxes["stage"]["x"] + boxes["stage"]["width"] <= boxes["layers"]["x"] + 1
    assert boxes["layers"]["x"] + boxes["layers"]["width"] <= boxes["filters"]["x"] + 1
    assert boxes["prompt"]["y"] >= boxes["stage"]["y"] + boxes["stage"]["height"]
    assert boxes["strip"]["x"] > boxes["prompt"]["x"] + boxes["prompt"]["width"] / 2
    assert boxes["stage"]["width"] >= 500 and boxes["stage"]["height"] >= 450
    # The 512 px document fills the stage (the view refits while the layout settles).
    zoom = float(canvas.locator("canvas.is-screen").get_attribute("data-zoom"))
    assert zoom >= (min(boxes["stage"]["width"], boxes["stage"]["height"]) - 16) / 512 - 0.02, zoom
    # A plain mask layer is not filtered, and that is a hint, not an error.
    filters = page.locator(".is-filter-panel").first
    assert filters.locator(".is-status.is-error").count() == 0 and "not filtered" in filters.locator(".is-status").inner_text()
    # Enhance, then History, open in a bounded drawer: the prompt strip does not grow past its limit.
    prompt = page.locator(".is-prompt").first
    height = prompt.bounding_box()["height"]
    prompt.locator("[data-role=prompt]").fill("a cat")
    prompt.locator("[data-action=enhance]").click()
    prompt.locator("[data-role=enhanced]").wait_for()
    prompt.locator("[data-role=templates]").select_option(index=1)
    prompt.locator("[data-action=use-template]").wait_for()
    assert prompt.locator("[data-role=drawer]").bounding_box()["height"] <= 151
    prompt.locator("[data-action=history]").click()
    prompt.locator("[data-action=close-history]").wait_for()
    page.screenshot(path=str(SHOTS / "layout_drawer_open.png"))
    # The drawer (150 px) and the status line's note are all the strip may grow by, whatever is open.
    assert prompt.bounding_box()["height"] <= height + 200
    # Collapsing the layers panel gives the canvas the width.
    stage_width = boxes["stage"]["width"]
    canvas.locator("[data-panel=layers] > [data-action=collapse]").click()
    wait_until(lambda: canvas.locator(".is-stage").bounding_box()["width"] > stage_width + 150,
               message="a wider canvas after collapsing the layers")
    canvas.locator("[data-panel=layers] > [data-action=collapse]").click()
    # A preset over a tuned chain says what it brings and asks: replace or add.
    canvas.locator(".is-layer[data-kind=image]").click()
    filters = page.locator(".is-filter-panel").first
    filters.get_by_text("Layer: Photo").wait_for()
    filters.locator("[data-action=add-filter]").click()
    wait_until(lambda: filters.locator(".is-chain li").count() == 1, message="one step in the chain")
    filters.locator("[data-role=preset]").select_option("B&W")
    filters.locator("[data-action=preset-merge]").click()
    wait_until(lambda: filters.locator(".is-chain li").count() == 4, message="the preset's steps added after the step")
    assert "not filtered" not in filters.locator(".is-status").inner_text()
    page.screenshot(path=str(SHOTS / "preset_merged.png"))


def test_inpaint_with_the_local_model_and_generations_in_the_strip(lab, wide_page):
    page = wide_page
    name = "Inpaint test"
    canvas = _open_studio(lab, page, name)
    prompt = page.locator(".is-prompt").first
    prompt.scroll_into_view_if_needed()
    # A style chosen for generation stays in the panel but is never sent with an inpaint.
    prompt.locator("[data-option=image-style]").select_option("natural")
    prompt.locator("[data-option=size]").select_option("256x256")
    # First an error: nothing selected.
    canvas.locator(".is-layer[data-kind=mask]").click()
    prompt.locator("[data-role=prompt]").fill("a yellow sun")
    prompt.locator("[data-action=edit]").click()
    error = prompt.locator(".is-status.is-error")
    error.wait_for()
    assert "mask layer" in error.inner_text() and "Traceback" not in error.inner_text()
    # Then the edit of the photo, with the local model: it works, and the error banner is gone.
    canvas.locator(".is-layer[data-kind=image]").click()
    prompt.locator("[data-action=edit]").click()
    prompt.locator(".is-card").first.wait_for(timeout=60_000)
    assert prompt.locator(".is-status.is-error").count() == 0
    assert "Edited 1 image" in prompt.locator(".is-status").inner_text()
    document = wait_until(lambda: (d := _doc(lab, name)) and d["generations"] and d, message="the edit record")
    record = document["generations"][-1]
    assert record["kind"] == "edit" and record["model"] == "local" and record["status"] != "failed"
    assert "style" not in record["request"]["options"] and record["request"]["size"] == "256x256"
    kinds = [layer["kind"] for layer in document["layers"]]
    assert kinds == ["image", "generated", "paint", "mask"], kinds  # above the photo, under paint and mask
    page.screenshot(path=str(SHOTS / "inpaint_done.png"))

    # n=3: three distinct entries in the strip and three distinct layers, the first selected.
    prompt.locator("[data-role=prompt]").fill("three paper kites over hills")
    prompt.locator("[data-option=n]").select_option("3")
    prompt.locator("[data-action=generate]").click()
    wait_until(lambda: prompt.locator(".is-card").count() == 4, timeout=60, message="four cards in the strip")
    captions = prompt.locator(".is-card .is-card-caption").all_inner_texts()[:3]
    assert len(set(captions)) == 3, captions
    document = wait_until(lambda: (d := _doc(lab, name)) and len(d["layers"]) == 7 and d, message="three more layers")
    names = [layer["name"] for layer in document["layers"] if layer["name"].startswith("#")]
    assert len(set(names)) == 3 and [layer["kind"] for layer in document["layers"]][-2:] == ["paint", "mask"]
    rows = canvas.locator(".is-layer .is-layer-name").all_inner_texts()
    assert len({r for r in rows if r.startswith("#")}) == 3
    # A click on a card selects its layer on the canvas.
    card = prompt.locator(".is-card").nth(2)
    card.click()
    canvas.locator(f".is-layer.is-selected[data-layer-id='{card.get_attribute('data-layer')}']").wait_for()
    page.screenshot(path=str(SHOTS / "generations_strip.png"))


def _pixel(page, canvas, x, y):
    from tests.browser.lab import doc_to_screen, screenshot_array

    screen = canvas.locator("canvas.is-screen")
    shot = screenshot_array(screen)
    box = screen.bounding_box()
    sx, sy = doc_to_screen(page, canvas, x, y)
    return shot[int(round(sy - box["y"])), int(round(sx - box["x"]))].astype(int).tolist()


def test_background_removal_from_the_studio_refine_and_replace(lab, wide_page):
    from tests.browser.lab import doc_to_screen

    page = wide_page
    name = "Cutout test"
    canvas = _open_studio(lab, page, name)
    canvas.scroll_into_view_if_needed()
    assert max(abs(v - 245) for v in _pixel(page, canvas, 40, 40)[:3]) < 12   # the photo's white background
    # One click on the image layer's "Cut out".
    canvas.locator(".is-layer[data-kind=image]").click()
    canvas.locator("[data-action=cut-out]").click()
    document = wait_until(lambda: (d := _doc(lab, name)) and len(d["layers"]) == 4 and d, timeout=60,
                          message="the cut-out mask layer")
    photo = next(layer for layer in document["layers"] if layer["name"] == "Photo")
    cutout = next(layer for layer in document["layers"] if layer["name"].startswith("Cut-out"))
    assert cutout["kind"] == "mask" and cutout["asset"] and photo["mask"] == cutout["id"]
    canvas.locator(f".is-layer.is-selected[data-layer-id='{cutout['id']}']").wait_for()
    assert "is-active" in canvas.locator(".is-tool[data-tool=mask]").get_attribute("class")
    assert "Refine with the Mask tool" in canvas.locator(".is-status").last.inner_text()
    # A colour background under it shows where the white was; the ball stays red.
    canvas.locator("[data-action=background-colour]").evaluate(
        "(el) => { el.value = '#00ff00'; el.dispatchEvent(new Event('input')); }")
    canvas.locator("[data-action=background-colour-apply]").click()
    wait_until(lambda: len(_doc(lab, name)["layers"]) == 5, message="the background layer")
    wait_until(lambda: (p := _pixel(page, canvas, 40, 40)) and p[1] > 200 and p[0] < 60 and p[2] < 60,
               message="green where the white background was")
    page.screenshot(path=str(SHOTS / "cutout_green_background.png"))
    # The mask tool's "remove" takes the ball's centre out of the cut-out: the background shows there.
    canvas.locator("[data-brush=mask-mode]").select_option("remove")
    canvas.locator("[data-brush=size]").fill("40")
    page.mouse.move(*doc_to_screen(page, canvas, 236, 270))
    page.mouse.down()
    for x in range(240, 280, 8):
        page.mouse.move(*doc_to_screen(page, canvas, x, 270))
    page.mouse.up()
    strokes = wait_until(lambda: (layer := next(l for l in _doc(lab, name)["layers"] if l["id"] == cutout["id"]))
                         and layer["strokes"], message="the remove stroke")
    assert strokes[-1]["tool"] == "mask_remove"
    canvas.locator(".is-layer[data-kind=paint]").click()   # no mask tint over the view
    wait_until(lambda: (p := _pixel(page, canvas, 256, 270)) and p[1] > 200 and p[0] < 60,
               message="the background through the removed centre")
    assert _pixel(page, canvas, 256, 200)[0] > 150   # the rest of the ball is still there
    page.screenshot(path=str(SHOTS / "cutout_refined.png"))
    # The reference renderer agrees with the screen.
    from imagestudio_nb import Project

    rendered = Project.open(name, workspace=lab.workspace).render()
    assert rendered[40, 40].tolist() == [0, 255, 0, 255] and rendered[270, 256, 1] > 200 and rendered[200, 256, 0] > 150


def test_tools_in_context_shortcuts_and_export_download(lab, wide_page):
    from tests.browser.lab import doc_to_screen

    page = wide_page
    name = "Context test"
    canvas = _open_studio(lab, page, name)
    canvas.scroll_into_view_if_needed()
    # Labelled tools with their shortcut in the tooltip; the keys V B E T M choose them.
    brush = canvas.locator(".is-tool[data-tool=brush]")
    assert brush.inner_text().split() == ["✎", "Brush", "B"] and "(B)" in brush.get_attribute("title")
    canvas.locator("canvas.is-screen").focus()
    for key, tool in (("b", "brush"), ("e", "eraser"), ("t", "text"), ("m", "mask"), ("v", "move")):
        page.keyboard.press(key)
        wait_until(lambda: "is-active" in canvas.locator(f".is-tool[data-tool={tool}]").get_attribute("class"),
                   message=f"the {tool} tool after {key!r}")
    # The brush on the image layer paints on a new paint layer right above it, and says so.
    canvas.locator(".is-layer[data-kind=image]").click()
    brush.click()
    page.mouse.move(*doc_to_screen(page, canvas, 100, 100))
    page.mouse.down()
    page.wait_for_timeout(1500)   # the new layer comes from the kernel while the button is held
    for x in range(100, 300, 10):
        page.mouse.move(*doc_to_screen(page, canvas, x, 100))
    page.mouse.up()
    document = wait_until(lambda: (d := _doc(lab, name)) and len(d["layers"]) == 4 and d["layers"][1]["strokes"] and d,
                          message="a paint layer with the stroke above the photo")
    layers = document["layers"]
    assert [l["name"] for l in layers[:2]] == ["Photo", "Paint on Photo"] and layers[1]["kind"] == "paint"
    assert layers[0].get("strokes", []) == [] and "painting on a new paint layer" in canvas.locator(".is-status").last.inner_text()
    page.screenshot(path=str(SHOTS / "brush_on_image.png"))
    # Text: its own font size in the options bar; words, size and colour editable afterwards.
    canvas.locator(".is-tool[data-tool=text]").click()
    canvas.locator("[data-text=font-size]").fill("40")
    canvas.locator("[data-text=font-size]").dispatch_event("change")
    page.mouse.click(*doc_to_screen(page, canvas, 60, 40))
    canvas.locator("[data-role=text-input]").fill("Hello")
    canvas.locator("[data-role=text-input]").press("Enter")
    text_layer = wait_until(lambda: next((l for l in _doc(lab, name)["layers"] if l["kind"] == "text"), None),
                            message="the text layer")
    assert text_layer["text"]["content"] == "Hello" and text_layer["text"]["font_size"] == 40
    canvas.locator(f".is-layer[data-layer-id='{text_layer['id']}']").click()
    props = canvas.locator("[data-role=text-props]")
    props.locator("[data-text=layer-font-size]").fill("72")
    props.locator("[data-text=layer-font-size]").dispatch_event("change")
    props.locator("[data-text=content]").fill("Hello again")
    props.locator("[data-text=content]").dispatch_event("change")
    wait_until(lambda: (t := next(l for l in _doc(lab, name)["layers"] if l["kind"] == "text")["text"])
               and t["font_size"] == 72 and t["content"] == "Hello again", message="the edited text layer")
    page.screenshot(path=str(SHOTS / "text_edited.png"))
    # Transform handles with the move tool: a corner scales about the centre, the round handle rotates.
    canvas.locator(".is-tool[data-tool=move]").click()
    canvas.locator(".is-layer[data-kind=image]").click()
    page.wait_for_timeout(300)

    def drag(points):
        page.mouse.move(*doc_to_screen(page, canvas, *points[0]))
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*doc_to_screen(page, canvas, *point))
        page.mouse.up()

    drag([(512, 512), (480, 480), (420, 420), (384, 384)])
    photo = wait_until(lambda: (l := _doc(lab, name)["layers"][0])["transform"]["scale_x"] < 0.9 and l,
                       message="the photo scaled by its corner handle")
    assert abs(photo["transform"]["scale_x"] - 0.5) < 0.05 and abs(photo["transform"]["x"] - 128) < 8
    zoom = float(canvas.locator("canvas.is-screen").get_attribute("data-zoom"))
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "transform_handles.png"))
    handle_y = 128 - 28 / zoom
    drag([(256, handle_y), (300, 150), (400, 256)])
    photo = wait_until(lambda: (l := _doc(lab, name)["layers"][0])["transform"]["rotation"] != 0 and l,
                       message="the photo rotated by its handle")
    assert abs(photo["transform"]["rotation"] - 90) < 4, photo["transform"]
    # Export downloads the chosen format, and a second export does not replace the first.
    canvas.locator("[data-role=export-format]").select_option("jpeg")
    assert canvas.locator("[data-role=export-quality]").is_visible()
    downloads = []
    for _ in range(2):
        with page.expect_download() as info:
            canvas.locator("[data-action=export]").click()
        downloads.append(info.value.suggested_filename)
    assert downloads == [f"{name}.jpg", f"{name}-2.jpg"]
    exports = sorted(p.name for p in (lab.workspace / name / "exports").iterdir())
    assert exports == [f"{name}-2.jpg", f"{name}.jpg"]
