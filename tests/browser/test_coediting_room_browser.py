"""Two browsers in a JupyterLab with collaboration, on a project under the server root: both views join the
project's room (not the kernel relay), see each other's strokes through it, and a view taken offline shows it,
keeps the strokes drawn meanwhile and merges them within a second of reconnecting."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from tests.browser.coediting import (CANVAS_NOTEBOOK, layer_named, live_names, open_second_view, select_layer, stroke,
                                     view_state)
from tests.browser.lab import open_notebook, read_project, run_all, wait_for_canvas, wait_until, write_notebook

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SHOTS = Path(os.environ.get("IMAGESTUDIO_SCREENSHOTS") or tempfile.mkdtemp(prefix="coediting-shots-"))


@pytest.fixture
def second_context(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    yield context
    context.close()


def _room_views(lab, page, second_context, name):
    # The project lives under the server root (the kernel's working folder), so the room can serve it.
    notebook = write_notebook(lab.root, f"{name.replace(' ', '_')}.ipynb",
                              [CANVAS_NOTEBOOK.format(name=name, transport="auto", workspace=", workspace=__import__('os').getcwd()")])
    open_notebook(page, lab, notebook)
    run_all(page)
    a = wait_for_canvas(page)
    second = second_context.new_page()
    b = open_second_view(second, lab, notebook, SHOTS)
    return a, b, second


def _dismiss_dialogs(page) -> None:
    page.wait_for_timeout(300)
    for _ in range(3):
        dialog = page.locator(".jp-Dialog")
        if not dialog.count():
            return
        dialog.locator(".jp-Dialog-button").last.click()
        page.wait_for_timeout(200)


def test_two_browsers_converge_through_the_room(lab, page, second_context):
    a, b, second = _room_views(lab, page, second_context, "Room pair")
    wait_until(lambda: view_state(a)["transport"] == "room" and view_state(b)["transport"] == "room",
               message="both views in the room")
    assert view_state(a)["connection"] == view_state(b)["connection"] == "connected"
    assert a.locator("[data-role=connection]").inner_text().endswith("connected")
    select_layer(a, view_state(a), "Ink")
    stroke(page, a, 100)
    wait_until(lambda: layer_named(view_state(b), "Ink")["strokes"] == 1, message="A's stroke in B through the room")
    select_layer(b, view_state(b), "Ink")
    stroke(second, b, 200)
    wait_until(lambda: layer_named(view_state(a), "Ink")["strokes"] == 2, message="B's stroke in A through the room")
    assert layer_named(view_state(b), "Ink")["strokes"] == 2
    # A layer a call adds (the kernel writes it to the log; the room serves it) reaches both views.
    a.locator("[data-action=add-paint]").click()
    wait_until(lambda: "Paint" in live_names(view_state(b)), timeout=15, message="the kernel's layer in B through the room")
    page.screenshot(path=str(SHOTS / "room-pair-a.png"))


def test_strokes_drawn_offline_merge_within_a_second_of_reconnecting(lab, page, second_context):
    a, b, second = _room_views(lab, page, second_context, "Room offline")
    wait_until(lambda: view_state(b)["transport"] == "room" and view_state(b)["connection"] == "connected",
               message="B in the room")
    select_layer(b, view_state(b), "Ink")
    second_context.set_offline(True)
    wait_until(lambda: view_state(b)["connection"] == "offline", timeout=30, message="B shows it is offline")
    badge = b.locator("[data-role=connection]")
    assert badge.inner_text().endswith("offline") and badge.get_attribute("data-state") == "offline"
    second.screenshot(path=str(SHOTS / "room-offline-b.png"))
    # JupyterLab itself says its server is unreachable (a modal dialog): dismissed, as a person would.
    _dismiss_dialogs(second)
    stroke(second, b, 120)
    _dismiss_dialogs(second)
    stroke(second, b, 180)
    assert layer_named(view_state(b), "Ink")["strokes"] == 2
    time.sleep(1)
    assert layer_named(view_state(a), "Ink")["strokes"] == 0  # nothing leaks while offline
    second_context.set_offline(False)
    back = time.monotonic()
    wait_until(lambda: view_state(b)["connection"] == "connected", timeout=30, message="B reconnected")
    reconnected = time.monotonic()
    wait_until(lambda: layer_named(view_state(a), "Ink")["strokes"] == 2, timeout=10, interval=0.02,
               message="B's offline strokes in A")
    merged = time.monotonic()
    assert merged - reconnected < 1.0, f"merged {merged - reconnected:.2f} s after reconnecting"
    assert b.locator("[data-role=connection]").inner_text().endswith("connected")
    second.screenshot(path=str(SHOTS / "room-reconnected-b.png"))
    print(f"offline strokes: reconnected {reconnected - back:.2f} s after going online, merged {merged - reconnected:.2f} s later")


def test_a_layer_deleted_while_someone_paints_on_it_offline_keeps_their_stroke_and_comes_back(lab, page, second_context):
    name = "Room delete"
    a, b, second = _room_views(lab, page, second_context, name)
    wait_until(lambda: view_state(a)["transport"] == view_state(b)["transport"] == "room", message="both in the room")
    select_layer(a, view_state(a), "Ink")
    select_layer(b, view_state(b), "Ink")
    # B paints on Ink while offline; meanwhile A deletes Ink.
    second_context.set_offline(True)
    wait_until(lambda: view_state(b)["connection"] == "offline", message="B offline")
    _dismiss_dialogs(second)
    stroke(second, b, 150)
    a.locator("[data-action=delete]").click()
    wait_until(lambda: layer_named(view_state(a), "Ink")["deleted"], message="A deleted Ink")
    assert not layer_named(view_state(b), "Ink")["deleted"] and layer_named(view_state(b), "Ink")["strokes"] == 1
    second_context.set_offline(False)
    # Both views converge: Ink deleted, B's stroke kept in it; B's view lists it under Deleted layers.
    wait_until(lambda: layer_named(view_state(b), "Ink")["deleted"], timeout=15, message="the delete reached B")
    wait_until(lambda: layer_named(view_state(a), "Ink")["strokes"] == 1, timeout=15, message="B's stroke reached A")
    assert live_names(view_state(a)) == live_names(view_state(b)) == ["Photo"]
    assert view_state(b)["selected"] is None  # B's selection went with the layer
    saved = wait_until(lambda: (ink := next(l for l in read_project(lab.root, name)["layers"] if l["name"] == "Ink"))
                       and ink.get("deleted") and len(ink["strokes"]) == 1 and ink, timeout=30, message="saved")
    assert saved["deleted_by"]
    _dismiss_dialogs(second)  # JupyterLab's own "server unreachable" dialog from the outage
    b.locator("[data-role=deleted-layers] summary").click()
    second.screenshot(path=str(SHOTS / "room-deleted-b.png"))
    b.locator("[data-role=deleted-layers] [data-action=restore]").click()
    wait_until(lambda: live_names(view_state(a)) == ["Photo", "Ink"], message="restored in A")
    assert layer_named(view_state(a), "Ink")["strokes"] == 1
    page.screenshot(path=str(SHOTS / "room-restored-a.png"))
