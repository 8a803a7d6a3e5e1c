"""Two browsers on ONE notebook kernel, through the kernel relay (DESIGN.md D2 without a room): each sees the
other's strokes and moves, each keeps its own tool, selection and zoom, each undoes only its own changes, and a
view that lost an update resyncs by itself. Real JupyterLab, real kernel, two Chromium contexts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.browser.coediting import (CANVAS_NOTEBOOK, layer_named, live_names, open_second_view, select_layer,
                                     stroke, drag, view_state)
from tests.browser.lab import open_notebook, read_project, run_all, wait_for_canvas, wait_until, write_notebook

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SHOTS = Path(os.environ.get("IMAGESTUDIO_SCREENSHOTS") or tempfile.mkdtemp(prefix="coediting-shots-"))


@pytest.fixture
def second_page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    yield page
    context.close()


def _two_views(lab, page, second_page, name):
    notebook = write_notebook(lab.root, f"{name.replace(' ', '_')}.ipynb",
                              [CANVAS_NOTEBOOK.format(name=name, transport="kernel", workspace="")])
    open_notebook(page, lab, notebook)
    run_all(page)
    a = wait_for_canvas(page)
    b = open_second_view(second_page, lab, notebook, SHOTS)
    return a, b


def _saved(lab, name):
    return read_project(lab.workspace, name)["layers"]


def test_two_browsers_on_one_kernel_see_each_others_edits_and_keep_their_own_view_state(lab, page, second_page):
    name = "Relay pair"
    a, b = _two_views(lab, page, second_page, name)
    state_a, state_b = view_state(a), view_state(b)
    assert state_a["transport"] == state_b["transport"] == "kernel"
    assert state_a["connection"] == state_b["connection"] == "connected"
    assert live_names(state_a) == live_names(state_b) == ["Photo", "Ink"]

    # A paints on Ink: the stroke reaches B's document (and the saved project) exactly once.
    select_layer(a, state_a, "Ink")
    stroke(page, a, 100)
    wait_until(lambda: layer_named(view_state(b), "Ink")["strokes"] == 1, message="A's stroke in B's view")
    wait_until(lambda: len(next(l for l in _saved(lab, name) if l["name"] == "Ink")["strokes"]) == 1,
               message="A's stroke saved")
    # B moves the photo: the move reaches A's document.
    select_layer(b, state_b, "Photo")
    b.locator(".is-tool[data-tool=move]").click()
    drag(second_page, b, [(250, 200), (280, 220), (310, 240)])
    wait_until(lambda: abs((layer_named(view_state(a), "Photo")["x"] or 0) - 60) < 3, message="B's move in A's view")
    assert abs(next(l for l in _saved(lab, name) if l["name"] == "Photo")["transform"]["x"] - 60) < 3 or \
        wait_until(lambda: abs(next(l for l in _saved(lab, name) if l["name"] == "Photo")["transform"]["x"] - 60) < 3,
                   message="B's move saved")
    # And B paints, A moves: each direction once more.
    select_layer(b, state_b, "Ink")
    stroke(second_page, b, 300)
    wait_until(lambda: layer_named(view_state(a), "Ink")["strokes"] == 2, message="B's stroke in A's view")
    select_layer(a, state_a, "Photo")
    a.locator(".is-tool[data-tool=move]").click()
    drag(page, a, [(250, 200), (230, 200), (210, 200)])
    wait_until(lambda: abs((layer_named(view_state(b), "Photo")["x"] or 0) - 20) < 3, message="A's move in B's view")
    assert layer_named(view_state(b), "Ink")["strokes"] == 2
    # Back to the tools of the checks below: A on Ink with the brush, B on Photo with move.
    select_layer(a, state_a, "Ink")
    a.locator(".is-tool[data-tool=brush]").click()
    select_layer(b, state_b, "Photo")
    b.locator(".is-tool[data-tool=move]").click()
    # B zooms in; each view keeps its own tool, selection and zoom.
    b.locator("[data-action=zoom-in]").click()
    state_a, state_b = view_state(a), view_state(b)
    assert (state_a["tool"], state_b["tool"]) == ("brush", "move")
    assert state_a["selected"] == layer_named(state_a, "Ink")["id"] and state_b["selected"] == layer_named(state_b, "Photo")["id"]
    assert abs(state_b["zoom"] / state_a["zoom"] - 1.25) < 0.01
    assert a.locator(".is-tool[data-tool=brush]").get_attribute("class").count("is-active") == 1
    assert "is-active" not in b.locator(".is-tool[data-tool=brush]").get_attribute("class")
    # Both views received the other's updates over the relay (and their own back, tagged).
    assert state_a["stats"]["received"] >= 1 and state_b["stats"]["received"] >= 1
    page.screenshot(path=str(SHOTS / "relay-pair-a.png"))
    second_page.screenshot(path=str(SHOTS / "relay-pair-b.png"))


def test_undo_in_one_browser_never_removes_the_other_browsers_layer(lab, page, second_page):
    name = "Relay undo"
    a, b = _two_views(lab, page, second_page, name)
    # B moves the photo (its only change); A adds a paint layer through the kernel (a call A caused).
    state_b = view_state(b)
    select_layer(b, state_b, "Photo")
    b.locator(".is-tool[data-tool=move]").click()
    drag(second_page, b, [(250, 200), (300, 200)])
    wait_until(lambda: abs((layer_named(view_state(a), "Photo")["x"] or 0) - 50) < 3, message="B's move in A")
    a.locator("[data-action=add-paint]").click()
    wait_until(lambda: "Paint" in live_names(view_state(b)), message="A's new layer in B's view")
    assert view_state(a)["undo"] == 1 and view_state(b)["undo"] == 1
    # B's Undo takes back B's move, not A's layer; a second Undo has nothing of B's left.
    b.locator("[data-action=undo]").click()
    wait_until(lambda: abs(layer_named(view_state(a), "Photo")["x"] or 0) < 0.5, message="B's move undone in A")
    assert b.locator("[data-action=undo]").is_disabled()
    second_page.keyboard.press("Control+z")
    page.wait_for_timeout(500)
    assert "Paint" in live_names(view_state(a)) and "Paint" in live_names(view_state(b))
    wait_until(lambda: [l["name"] for l in _saved(lab, name)] == ["Photo", "Ink", "Paint"], message="A's layer kept")
    # A's Undo removes the layer A's call added (the kernel's change, tagged with A's view); Redo brings it back.
    a.locator("[data-action=undo]").click()
    wait_until(lambda: "Paint" not in live_names(view_state(b)), message="A's layer undone, seen by B")
    wait_until(lambda: [l["name"] for l in _saved(lab, name) if not l.get("deleted")] == ["Photo", "Ink"],
               message="A's undo saved")
    a.locator("[data-action=redo]").click()
    wait_until(lambda: "Paint" in live_names(view_state(b)), message="A's redo seen by B")


def test_a_view_that_loses_an_update_resyncs_and_converges(lab, page, second_page):
    name = "Relay resync"
    a, b = _two_views(lab, page, second_page, name)
    state_a = view_state(a)
    select_layer(a, state_a, "Ink")
    # B loses the next update (the test hook drops it, as a lost message would): the periodic resync repairs it.
    b.evaluate("(root) => { root.imagestudioView.transport.dropIncoming = 1; }")
    stroke(page, a, 80)
    wait_until(lambda: view_state(b)["stats"]["dropped"] == 1, message="B dropped one update")
    wait_until(lambda: layer_named(view_state(b), "Ink")["strokes"] == 1, timeout=10, message="B resynced (periodic)")
    # B loses one, then receives a later update built on it: it cannot apply that one and asks at once.
    b.evaluate("(root) => { root.imagestudioView.transport.dropIncoming = 1; }")
    stroke(page, a, 140)
    wait_until(lambda: view_state(b)["stats"]["dropped"] == 2, message="B dropped a second update")
    resyncs = view_state(b)["stats"]["resyncs"]
    stroke(page, a, 200)
    wait_until(lambda: layer_named(view_state(b), "Ink")["strokes"] == 3, timeout=10, message="B converged")
    assert view_state(b)["stats"]["resyncs"] > resyncs
    assert layer_named(view_state(a), "Ink")["strokes"] == 3
    wait_until(lambda: len(next(l for l in _saved(lab, name) if l["name"] == "Ink")["strokes"]) == 3, message="3 saved")
    # Nothing is left pending in either view: no silent freeze.
    for view in (a, b):
        assert view.evaluate("(root) => !root.imagestudioView.transport.stuck")


def test_a_layer_deleted_in_one_view_is_listed_and_restored_in_the_other(lab, page, second_page):
    name = "Relay delete"
    a, b = _two_views(lab, page, second_page, name)
    state_a, state_b = view_state(a), view_state(b)
    select_layer(b, state_b, "Ink")
    select_layer(a, state_a, "Ink")
    a.locator("[data-action=delete]").click()
    wait_until(lambda: layer_named(view_state(b), "Ink")["deleted"], message="the delete in B")
    assert live_names(view_state(b)) == ["Photo"] and b.locator(".is-layer").count() == 1
    saved = wait_until(lambda: (ink := next(l for l in _saved(lab, name) if l["name"] == "Ink")) and ink.get("deleted") and ink,
                       message="the delete saved")
    assert saved["deleted_by"] and saved["deleted_at"]
    # B listed it under "Deleted layers" and restores it; the layer comes back in A.
    deleted = b.locator("[data-role=deleted-layers]")
    deleted.locator("summary").click()
    assert deleted.locator(".is-deleted-layer").count() == 1
    deleted.locator("[data-action=restore]").click()
    wait_until(lambda: live_names(view_state(a)) == ["Photo", "Ink"], message="the restore in A")
    assert b.locator("[data-role=deleted-layers]").is_hidden()
    wait_until(lambda: not next(l for l in _saved(lab, name) if l["name"] == "Ink").get("deleted"), message="restore saved")
    # A deletes again and undoes its own delete: the layer is back, with no help from B.
    a.locator(f".is-layer[data-layer-id='{layer_named(state_a, 'Ink')['id']}']").click()
    a.locator("[data-action=delete]").click()
    wait_until(lambda: layer_named(view_state(b), "Ink")["deleted"], message="the second delete in B")
    page.screenshot(path=str(SHOTS / "relay-delete-a.png"))
    a.locator("[data-action=undo]").click()
    wait_until(lambda: live_names(view_state(b)) == ["Photo", "Ink"], message="A's delete undone, seen by B")
    second_page.screenshot(path=str(SHOTS / "relay-delete-b.png"))
