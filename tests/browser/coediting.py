"""Helpers of the co-editing browser tests: a notebook with one Canvas, a second browser context on the same
lab, and what a view holds (read from its own Y doc, undo stack and transport, through the test hook
``root.imagestudioView``)."""

from __future__ import annotations

from tests.browser.lab import doc_to_screen, open_notebook, wait_for_canvas

CANVAS_NOTEBOOK = '''
import numpy as np
from imagestudio_nb import Project
from imagestudio_nb.widgets import Canvas
photo = np.zeros((384, 512, 3), np.uint8)
photo[:, :256] = (200, 40, 40)
photo[:, 256:] = (40, 40, 200)
project = Project.create({name!r}, width=512, height=384{workspace})
project.add_layer("image", name="Photo", asset=project.assets.add(photo).hash)
project.add_layer("paint", name="Ink")
project.flush()
canvas = Canvas(project, transport={transport!r}, height=440)
canvas
'''

VIEW_STATE = """(root) => {
  const v = root.imagestudioView;
  const layers = v.sync.layers.toArray().map((m) => {
    const t = m.get('transform');
    return { id: m.get('id'), name: m.get('name'), deleted: m.get('deleted') === true,
             strokes: m.get('strokes') ? m.get('strokes').length : 0,
             x: t && t.get ? t.get('x') : null };
  });
  return { layers, tool: v.tool, selected: v.selected, zoom: v.zoom, transport: root.dataset.transport || null,
           connection: root.dataset.connection, stats: v.transport && v.transport.stats ? { ...v.transport.stats } : null,
           undo: v.sync.undoManager.undoStack.length, redo: v.sync.undoManager.redoStack.length };
}"""


def view_state(canvas) -> dict:
    """What one view holds: its layers (from its own Y doc), tool, selection, zoom, transport and undo depth."""
    return canvas.evaluate(VIEW_STATE)


def layer_named(state: dict, name: str) -> dict:
    return next(layer for layer in state["layers"] if layer["name"] == name)


def live_names(state: dict) -> list[str]:
    return [layer["name"] for layer in state["layers"] if not layer["deleted"]]


def open_second_view(page, lab, notebook: str, shots=None):
    """The same notebook (same kernel) in another browser context: its Canvas output renders a second view.

    JupyterLab's widget manager sometimes renders the output before it has loaded the kernel's widget models
    ("widget model not found", an ipywidgets race when a second front end joins a running kernel); the page is
    then reloaded once, as a person would.
    """
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
    open_notebook(page, lab, notebook)
    for attempt in range(2):
        try:
            return wait_for_canvas(page, timeout=45_000)
        except Exception:
            if attempt == 0 and any("widget model not found" in m for m in messages):
                messages.clear()
                open_notebook(page, lab, notebook)
                continue
            if shots is not None:
                page.screenshot(path=str(shots / "second-view-failed.png"))
            raise AssertionError(f"the second view never drew; its console said: {messages[-15:]}") from None


def drag(page, canvas, points) -> None:
    canvas.locator("canvas.is-screen").scroll_into_view_if_needed()
    page.mouse.move(*doc_to_screen(page, canvas, *points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*doc_to_screen(page, canvas, *point), steps=2)
    page.mouse.up()


def select_layer(canvas, state: dict, name: str) -> None:
    canvas.locator(f".is-layer[data-layer-id='{layer_named(state, name)['id']}']").click()


def stroke(page, canvas, y: float) -> None:
    """Select the brush and draw a horizontal stroke at document height ``y``."""
    canvas.locator(".is-tool[data-tool=brush]").click()
    drag(page, canvas, [(60 + step * 20, y) for step in range(12)])
