"""The Canvas in a real JupyterLab and Chromium: the notebook runs, strokes, layers, undo/redo, export."""

from __future__ import annotations

import numpy as np
import pytest

from tests.browser.lab import (copy_notebook, doc_to_screen, open_notebook, read_project, run_all,
                               screenshot_array, wait_for_canvas, wait_until)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _layers(server):
    return read_project(server.workspace, "Canvas tour")["layers"]


def _ink(server):
    return next(layer for layer in _layers(server) if layer["name"] == "Ink")


def test_notebook_runs_and_a_drawn_stroke_reaches_the_document(lab_server, page):
    notebook = copy_notebook("03_canvas.ipynb", lab_server.root)
    open_notebook(page, lab_server, notebook)
    run_all(page)
    canvas = wait_for_canvas(page)
    before = len(_ink(lab_server)["strokes"])
    canvas.locator("[data-tool=brush]").click()
    page.mouse.move(*doc_to_screen(page, canvas, 200, 200))
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(*doc_to_screen(page, canvas, 200 + step * 15, 200 + step * 5))
    page.mouse.up()
    strokes = wait_until(lambda: (s := _ink(lab_server)["strokes"]) and len(s) == before + 1 and s,
                         message="the stroke in the saved document")
    stroke = strokes[-1]
    assert stroke["tool"] == "brush" and stroke["color"] == "#1e90ff"
    points = np.array(stroke["points"], float).reshape(-1, 2)
    assert abs(points[0, 0] - 200) < 3 and abs(points[-1, 0] - 500) < 3 and abs(points[-1, 1] - 300) < 3
    assert len(points) < 21  # straight runs are simplified into a compact list
    page.wait_for_timeout(300)
    shot = screenshot_array(canvas.locator("canvas.is-screen"))
    box = canvas.locator("canvas.is-screen").bounding_box()
    x, y = doc_to_screen(page, canvas, 350, 250)
    pixel = shot[int(round(y - box["y"])), int(round(x - box["x"]))]
    assert abs(int(pixel[0]) - 0x1e) < 40 and abs(int(pixel[2]) - 0xff) < 40, pixel
