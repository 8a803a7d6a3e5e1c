"""Presence (labextension/src/presence.ts) between real browsers in a real JupyterLab with collaboration.

Each user is a Playwright context with its own token; the page is the presence harness (a minimal view hosting
`Presence`, bundled here with the labextension's esbuild) served at the server's origin, joining the project's
isproj room with y-websocket. What is asserted: the bar names everyone with the colour `/api/me` gives, the other
user's pointer and selection are drawn in their colour (pixels), follow mode, the throttle, and that a late
joiner sees those already present because they re-announce (a client that does not is not seen).
"""

from __future__ import annotations

import json
import os
import secrets
import time

import pytest

from imagestudio_nb.project import Project
from tests.browser.lab import REPO, screenshot_array, wait_until
from tests.browser.presence_harness.pages import (
    BLUE, RED, SCREENSHOTS, TOKENS, USERS, Pages, build_bundle, canvas_shot, canvas_view, chips, colour_count,
    point_at, to_canvas, wait_for_chips)
from tests.servers import start_jupyter_lab

pytestmark = [pytest.mark.slow, pytest.mark.browser]



@pytest.fixture(scope="module")
def harness_js(tmp_path_factory) -> str:
    return build_bundle(tmp_path_factory.mktemp("presence-harness") / "harness.js")


@pytest.fixture(scope="module")
def presence_lab(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("IMAGESTUDIO_PRESENCE_USERS", json.dumps({TOKENS[name]: user for name, user in USERS.items()}))
    patch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    patch.setenv("IMAGESTUDIO_USER", "ana")
    root = tmp_path_factory.mktemp("presence") / "root"
    root.mkdir()
    patch.setenv("IMAGESTUDIO_WORKSPACE", str(root))  # the kernels' projects, inside the server root (the room's)
    server = start_jupyter_lab(root, extra_args=[
        "--ServerApp.identity_provider_class=tests.browser.presence_harness.identities.ColouredUsers",
        "--LabApp.expose_app_in_browser=True"])
    yield server
    server.stop()
    patch.undo()


@pytest.fixture
def project(presence_lab, request) -> str:
    """A fresh project per test (its own room), as a server-relative path."""
    name = "P" + secrets.token_hex(3)
    Project.create(name, workspace=presence_lab.root, owner="ana").close()
    return f"{name}/project.isproj"


@pytest.fixture
def pages(browser, presence_lab, harness_js):
    opened = Pages(browser, presence_lab, harness_js)
    yield opened
    opened.close()


def test_each_page_shows_everyone_with_the_name_and_colour_from_api_me(pages, project):
    ana, bo, cy = (pages.open(user, project) for user in ("ana", "bo", "cy"))
    everyone = {"ana", "bo", "cy"}
    seen = {user: wait_for_chips(page, everyone) for user, page in (("ana", ana), ("bo", bo), ("cy", cy))}
    for user, bar in seen.items():
        assert [name for name, chip in bar.items() if chip["me"]] == [user]  # my own chip is marked, once
        assert bar["ana"]["colour"] == "#d62728" and bar["ana"]["background"] == "rgb(214, 39, 40)"
        assert bar["bo"]["colour"] == "#1f77b4" and bar["ana"]["text"] == "AL" and bar["bo"]["text"] == "BC"
        assert "Ana Lima" in bar["ana"]["title"] and "Cy Park" in bar["cy"]["title"]
    # cy has no colour in /api/me: every page derives the same one from the username.
    assert seen["ana"]["cy"]["colour"] == seen["bo"]["cy"]["colour"] == seen["cy"]["cy"]["colour"]
    assert seen["ana"]["cy"]["colour"].startswith("#")
    page_order = ana.evaluate("() => [...document.querySelectorAll('[data-role=presence] [data-user]')].map(c => c.dataset.user)")
    assert page_order[0] == "ana"  # me first
    bo.locator("[data-role=presence]").screenshot(path=str(SCREENSHOTS / "bar-bo.png"))


def test_a_remote_pointer_is_drawn_where_the_other_user_points_with_name_and_tool(pages, project):
    ana, bo = pages.open("ana", project), pages.open("bo", project)
    wait_for_chips(bo, {"ana", "bo"})
    x, y = 300, 200
    sx, sy = to_canvas(bo, x, y)
    arrow = (sx, sy, sx + 12, sy + 18)
    before = canvas_shot(bo, "pointer-before")
    assert colour_count(before, RED, arrow) == 0
    ana.evaluate("() => harness.setTool('brush')")
    point_at(ana, x, y)
    wait_until(lambda: colour_count(canvas_shot(bo, "pointer-ana-at-300-200"), RED, arrow) > 40, timeout=5,
               message="ana's pointer drawn in red on bo's canvas at (300, 200)")
    shot = canvas_shot(bo, "pointer-ana-at-300-200")
    label = (sx + 10, sy + 16, sx + 60, sy + 36)
    assert colour_count(shot, RED, label) > 200  # the name tag under the arrow
    assert colour_count(shot, RED, (0, 0, sx - 10, shot.shape[0])) == 0  # nothing red left of the pointer
    assert wait_for_chips(bo, {"ana", "bo"})["ana"]["tool"] == "brush"
    assert "brush" in chips(bo)["ana"]["title"]
    # The pointer follows, and leaves with the mouse.
    point_at(ana, 600, 450)
    moved = to_canvas(bo, 600, 450)
    wait_until(lambda: colour_count(canvas_shot(bo, "pointer-moved"), RED, (*moved, moved[0] + 12, moved[1] + 18)) > 40,
               timeout=5, message="ana's pointer moved on bo's canvas")
    assert colour_count(canvas_shot(bo, "pointer-moved"), RED, arrow) == 0
    ana.mouse.move(880, 680)  # off the canvas: pointerleave
    wait_until(lambda: colour_count(canvas_shot(bo, "pointer-left"), RED, (0, 0, 700, 500)) == 0, timeout=5,
               message="ana's pointer gone from bo's canvas after she left it")


def test_pointer_updates_are_throttled(pages, project):
    ana = pages.open("ana", project)
    pages.open("bo", project)  # someone in the room to send to
    wait_for_chips(ana, {"ana", "bo"})
    time.sleep(0.5)
    start_sent, start_moves = len(ana.awareness_sent), ana.evaluate("() => harness.view.pointerMoves")
    began = time.monotonic()
    sx, sy = ana.evaluate("() => harness.docToScreen(100, 100)")
    ana.mouse.move(sx, sy)
    ana.mouse.move(sx + 500, sy + 300, steps=150)
    elapsed = time.monotonic() - began
    time.sleep(0.3)
    moves = ana.evaluate("() => harness.view.pointerMoves") - start_moves
    sent = len(ana.awareness_sent) - start_sent
    print(f"{moves} pointer moves in {elapsed:.2f} s sent {sent} awareness updates")
    assert moves >= 100
    assert 1 <= sent <= elapsed / 0.05 + 3


def test_a_remote_selection_is_outlined_in_the_selectors_colour(pages, project):
    ana, bo = pages.open("ana", project), pages.open("bo", project)
    wait_for_chips(bo, {"ana", "bo"})

    def edges(layer):
        x, y, w, h = {"l_a": (60, 60, 180, 120), "l_b": (380, 240, 220, 160)}[layer]
        points = [(x + w / 2, y), (x + w / 2, y + h), (x, y + h / 2), (x + w, y + h / 2)]
        return [(cx - 3, cy - 3, cx + 4, cy + 4) for cx, cy in (to_canvas(bo, px, py) for px, py in points)]

    assert all(colour_count(canvas_shot(bo, "selection-none"), RED, box) == 0 for box in edges("l_b"))
    ana.evaluate("() => harness.select('l_b')")
    wait_until(lambda: all(colour_count(canvas_shot(bo, "selection-ana-l_b"), RED, box) >= 5 for box in edges("l_b")),
               timeout=5, message="l_b outlined in ana's red on bo's canvas")
    shot = canvas_shot(bo, "selection-ana-l_b")
    assert all(colour_count(shot, RED, box) == 0 for box in edges("l_a"))
    assert all(colour_count(shot, BLUE, box) == 0 for box in edges("l_b"))  # bo's own colour is not used for it
    ana.evaluate("() => harness.select(null)")
    wait_until(lambda: all(colour_count(canvas_shot(bo, "selection-cleared"), RED, box) == 0 for box in edges("l_b")),
               timeout=5, message="the outline gone after ana cleared her selection")


def test_follow_mode_moves_my_viewport_with_the_followed_user_until_i_pan(pages, project):
    ana, bo = pages.open("ana", project), pages.open("bo", project)
    wait_for_chips(bo, {"ana", "bo"})
    ana.evaluate("() => { harness.zoomAt(2.0); harness.pan(-150, -80); }")
    target = ana.evaluate("() => harness.centre()")

    def same_view(page, want):
        got = page.evaluate("() => harness.centre()")
        return abs(got["zoom"] - want["zoom"]) < 1e-6 and abs(got["cx"] - want["cx"]) < 0.5 and abs(got["cy"] - want["cy"]) < 0.5

    assert not same_view(bo, target)
    bo.locator("[data-role=presence] [data-user=ana]").click()
    wait_until(lambda: same_view(bo, target), timeout=5, message="bo's view on ana's centre and zoom")
    assert chips(bo)["ana"]["following"]
    assert bo.locator("[data-role=following]").inner_text().startswith("Following Ana Lima")
    bo.locator("[data-role=presence]").screenshot(path=str(SCREENSHOTS / "following-bar.png"))
    ana.evaluate("() => { harness.zoomAt(1.25); harness.pan(90, 40); }")
    moved = ana.evaluate("() => harness.centre()")
    wait_until(lambda: same_view(bo, moved), timeout=5, message="bo's view following ana's pan and zoom")
    # My own pan ends follow mode: ana's next move no longer moves my view.
    bo.evaluate("() => harness.pan(30, 0)")
    assert not chips(bo)["ana"]["following"] and bo.locator("[data-role=following]").is_hidden()
    mine = bo.evaluate("() => harness.centre()")
    ana.evaluate("() => harness.pan(-60, -60)")
    time.sleep(1.0)
    assert same_view(bo, mine)
    # A second click on the chip stops following too.
    bo.locator("[data-role=presence] [data-user=ana]").click()
    wait_until(lambda: same_view(bo, ana.evaluate("() => harness.centre()")), timeout=5, message="following again")
    bo.locator("[data-role=presence] [data-user=ana]").click()
    assert not chips(bo)["ana"]["following"]
    still = bo.evaluate("() => harness.centre()")
    ana.evaluate("() => harness.pan(70, 20)")
    time.sleep(1.0)
    assert same_view(bo, still)


def test_a_late_joiner_sees_those_already_present_because_they_announce_again(pages, project):
    ana, bo = pages.open("ana", project), pages.open("bo", project)
    # dee announces once and never again, like a client without re-announce.
    dee = pages.open("dee", project, mode="plain")
    wait_for_chips(ana, {"ana", "bo", "dee"})
    dee.evaluate("() => harness.announce()")  # y-protocols renews a state only after 15 s: the window below is shorter
    ana.evaluate("() => harness.select('l_a')")
    joined = time.monotonic()
    cy = pages.open("cy", project)
    seen = wait_for_chips(cy, {"ana", "bo", "cy"}, timeout=5)
    print(f"the late joiner saw ana and bo {time.monotonic() - joined:.2f} s after it started loading")
    assert seen["ana"]["colour"] == "#d62728"
    # ana's selection reached the joiner with her re-announcement.
    x, y, w = 60, 60, 180  # l_a's top edge
    sx, sy = to_canvas(cy, x + w / 2, y)
    wait_until(lambda: colour_count(canvas_shot(cy, "late-joiner"), RED, (sx - 3, sy - 3, sx + 4, sy + 4)) >= 5,
               timeout=5, message="ana's selection outlined on the late joiner's canvas")
    # Negative: dee, who did not announce again, stays unseen by the joiner while she is seen by the others.
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        assert "dee" not in chips(cy)
        time.sleep(0.2)
    assert time.monotonic() - joined < 14  # still inside dee's 15 s renewal period
    assert "dee" in chips(ana) and "dee" in chips(bo)


def test_disposing_presence_withdraws_my_pointer_and_chip_from_others(pages, project):
    ana, bo = pages.open("ana", project), pages.open("bo", project)
    wait_for_chips(bo, {"ana", "bo"})
    point_at(ana, 300, 200)
    sx, sy = to_canvas(bo, 300, 200)
    wait_until(lambda: colour_count(canvas_shot(bo, "dispose-before"), RED, (sx, sy, sx + 12, sy + 18)) > 40,
               timeout=5, message="ana's pointer on bo's canvas")
    ana.evaluate("() => harness.dispose()")
    wait_for_chips(bo, {"bo"})
    wait_until(lambda: colour_count(canvas_shot(bo, "dispose-after"), RED, (0, 0, 700, 500)) == 0, timeout=5,
               message="ana's pointer gone after her Presence was disposed")
    # The transport still carries ana's user (the transport's own dispose removes the whole state).
    assert bo.evaluate("() => [...harness.awareness.getStates().values()].some(s => s.user && s.user.username === 'ana')")


def test_fetch_identity_reads_api_me_and_falls_back_to_a_stable_guest(browser, presence_lab, tmp_path):
    script = build_bundle(tmp_path / "identity.js", "identity_entry.ts")
    context = browser.new_context()
    context.route(f"{presence_lab.url}/presence-harness/identity.js",
                  lambda route: route.fulfill(body=script, content_type="text/javascript"))
    page = context.new_page()

    def identity(config):
        page.goto(f"{presence_lab.url}/presence-harness/page")  # a same-origin document (see Pages.open)
        head = ("" if config is None else
                f'<script id="jupyter-config-data" type="application/json">{json.dumps(config)}</script>')
        page.set_content(f'<!doctype html><html><head>{head}</head><body>'
                         f'<script type="module" src="/presence-harness/identity.js"></script></body></html>')
        page.wait_for_function("() => window.identity", timeout=15_000)
        return page.evaluate("() => window.identity")

    try:
        ana = identity({"baseUrl": "/", "token": TOKENS["ana"]})
        assert (ana["username"], ana["name"], ana["color"], ana["initials"]) == ("ana", "Ana Lima", "#d62728", "AL")
        cy = identity({"baseUrl": "/", "token": TOKENS["cy"]})  # /api/me has no colour for cy
        assert cy["username"] == "cy" and len(cy["color"]) == 7 and cy["color"].startswith("#")
        guest = identity(None)  # no Jupyter server: a guest
        assert guest["username"].startswith("guest-") and guest["color"].startswith("#")
        assert identity(None) == guest  # the same guest after a reload
        assert identity({"baseUrl": "/no-jupyter-here/", "token": "x"}) == guest  # a config nobody answers
        # A wrong token (and no login cookie from the visits above) is refused by /api/me: a guest.
        context.clear_cookies()
        assert identity({"baseUrl": "/", "token": "not-a-token"})["username"] == guest["username"]
    finally:
        context.close()


# --- Through the real Canvas widget (canvas.ts hosts Presence), two users on one notebook ------------------------

CANVAS_CELL = '''
import numpy as np
from imagestudio_nb import Project
from imagestudio_nb.widgets import Canvas
project = Project.create({name!r}, width=512, height=384, owner="ana")
project.add_layer("image", name="Photo", asset=project.assets.add(np.full((192, 256, 3), 235, np.uint8)).hash)
project.flush()
canvas = Canvas(project, transport={transport!r}, height=440)
canvas
'''


@pytest.fixture
def lab_page(browser, presence_lab):
    """A JupyterLab page per user (its own context and token); closed at the end of the test."""
    from types import SimpleNamespace

    from tests.browser.lab import open_notebook

    contexts = []

    def open_as(user: str, notebook: str):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        try:
            open_notebook(page, SimpleNamespace(url=presence_lab.url, token=TOKENS[user]), notebook)
        except Exception:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"open-failed-{user}.png"))
            state = page.evaluate("""() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                return {app: !!window.jupyterapp, path: w && w.context && w.context.path,
                        kernel: w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel
                                && w.sessionContext.session.kernel.status}; }""")
            raise AssertionError(f"{user} could not open {notebook}: {state}; server log: "
                                 f"{presence_lab.log.read_text()[-1500:]}") from None
        return page

    yield open_as
    for context in contexts:
        context.close()
    from tests.browser.lab import shutdown_kernels
    shutdown_kernels(presence_lab)


@pytest.mark.parametrize("transport", ["room", "kernel"])
def test_presence_in_the_real_canvas_bar_pointer_selection_and_follow(lab_page, presence_lab, transport):
    from tests.browser.lab import doc_to_screen, run_all, wait_for_canvas, write_notebook

    name = "Real" + secrets.token_hex(3)
    notebook = write_notebook(presence_lab.root, f"{name}.ipynb", [CANVAS_CELL.format(name=name, transport=transport)])
    ana = lab_page("ana", notebook)
    run_all(ana)
    ana_canvas = wait_for_canvas(ana)
    bo = lab_page("bo", notebook)
    bo_canvas = wait_for_canvas(bo)
    for canvas in (ana_canvas, bo_canvas):
        wait_until(lambda: canvas.get_attribute("data-transport") == transport, timeout=20,
                   message=f"the view on the {transport} transport")
    bars = {user: wait_for_chips(canvas, {"ana", "bo"}, timeout=20)
            for user, canvas in (("ana", ana_canvas), ("bo", bo_canvas))}
    assert bars["ana"]["ana"]["me"] and bars["bo"]["bo"]["me"] and not bars["bo"]["ana"]["me"]
    assert bars["bo"]["ana"]["colour"] == "#d62728" and bars["ana"]["bo"]["colour"] == "#1f77b4"
    bo_canvas.screenshot(path=str(SCREENSHOTS / f"real-canvas-bo-bar-{transport}.png"))

    # ana points at (400, 300) of the document: bo sees her red arrow there.
    ana_canvas.locator("canvas.is-screen").scroll_into_view_if_needed()
    ana.mouse.move(*doc_to_screen(ana, ana_canvas, 400, 300))
    screen = bo_canvas.locator("canvas.is-screen")

    def arrow_pixels(x, y, name):
        view = canvas_view(bo_canvas)
        sx, sy = view["ox"] + x * view["zoom"], view["oy"] + y * view["zoom"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}-{transport}.png").write_bytes(screen.screenshot())
        return colour_count(screenshot_array(screen), RED, (sx, sy, sx + 12, sy + 18))

    wait_until(lambda: arrow_pixels(400, 300, "real-canvas-pointer") > 40, timeout=10,
               message="ana's pointer on bo's real canvas")
    assert colour_count(screenshot_array(screen), RED, (0, 0, 60, 60)) == 0

    # ana selects the photo layer (256 x 192 at the origin): bo sees its outline in red.
    ana_canvas.locator(".is-layer", has_text="Photo").first.click()
    ana.mouse.move(5, 5)  # off the canvas, so only the selection is drawn

    def outline_pixels():
        view = canvas_view(bo_canvas)
        image = screenshot_array(screen)
        (SCREENSHOTS / f"real-canvas-selection-{transport}.png").write_bytes(screen.screenshot())
        points = [(128, 0), (128, 192), (0, 96), (256, 96)]
        return [colour_count(image, RED, (view["ox"] + x * view["zoom"] - 3, view["oy"] + y * view["zoom"] - 3,
                                          view["ox"] + x * view["zoom"] + 4, view["oy"] + y * view["zoom"] + 4))
                for x, y in points]

    wait_until(lambda: min(outline_pixels()) >= 4, timeout=10, message="the photo outlined in ana's red on bo's canvas")

    # bo follows ana; ana zooms in twice: bo's view shows her centre and zoom.
    bo_canvas.locator("[data-role=presence] [data-user=ana]").click()
    ana_canvas.locator("[data-action=zoom-in]").click()
    ana_canvas.locator("[data-action=zoom-in]").click()

    def same(a, b):
        return abs(a["zoom"] - b["zoom"]) < 1e-6 and abs(a["cx"] - b["cx"]) < 1 and abs(a["cy"] - b["cy"]) < 1

    wait_until(lambda: same(canvas_view(bo_canvas), canvas_view(ana_canvas)), timeout=10,
               message="bo's real canvas following ana's zoom")
    assert bo_canvas.locator("[data-role=following]").inner_text().startswith("Following Ana Lima")
    bo_canvas.screenshot(path=str(SCREENSHOTS / f"real-canvas-following-{transport}.png"))
    # bo's own zoom ends follow mode; ana's next zoom leaves bo's view where it is.
    bo_canvas.locator("[data-action=zoom-out]").click()
    wait_until(lambda: bo_canvas.locator("[data-role=following]").is_hidden(), timeout=5,
               message="follow mode ended by bo's own zoom")
    mine = canvas_view(bo_canvas)
    ana_canvas.locator("[data-action=zoom-in]").click()
    time.sleep(1.0)
    assert same(canvas_view(bo_canvas), mine) and not same(canvas_view(ana_canvas), mine)


def test_someone_who_leaves_the_page_disappears_at_once(pages, project):
    ana, bo = pages.open("ana", project), pages.open("bo", project)
    wait_for_chips(bo, {"ana", "bo"})
    point_at(ana, 300, 200)
    sx, sy = to_canvas(bo, 300, 200)
    wait_until(lambda: colour_count(canvas_shot(bo, "leave-before"), RED, (sx, sy, sx + 12, sy + 18)) > 40,
               timeout=5, message="ana's pointer on bo's canvas")
    bo.locator("[data-role=presence] [data-user=ana]").click()
    assert chips(bo)["ana"]["following"]
    left = time.monotonic()
    ana.goto("about:blank")
    wait_for_chips(bo, {"bo"}, timeout=5)  # awareness itself would keep her for 30 s
    print(f"ana's chip left bo's bar {time.monotonic() - left:.2f} s after she left the page")
    assert colour_count(canvas_shot(bo, "leave-after"), RED, (0, 0, 700, 500)) == 0
    assert bo.locator("[data-role=following]").is_hidden()  # nobody left to follow
    assert bo.evaluate("() => { const c = harness.centre(); harness.pan(10, 0); return harness.centre().cx !== c.cx; }")


def test_jupyterlab_colour_variables_are_resolved_on_each_page(pages, project):
    """JupyterLab gives users without a colour `var(--jp-collaborator-colorN)`: each page paints it in its theme."""
    themed = pages.open("ana", project, css=":root { --jp-collaborator-color3: #2ca02c; }")
    unthemed = pages.open("bo", project)
    dee = pages.open("dee", project, mode="plain")
    dee.evaluate("""() => harness.announce({user: {color: 'var(--jp-collaborator-color3)'},
                                            imagestudio: {pointer: [300, 200], tool: 'brush'}})""")
    assert wait_for_chips(themed, {"ana", "bo", "dee"})["dee"]["colour"] == "#2ca02c"
    sx, sy = to_canvas(themed, 300, 200)
    wait_until(lambda: colour_count(canvas_shot(themed, "var-colour-pointer"), (44, 160, 44), (sx, sy, sx + 12, sy + 18)) > 40,
               timeout=5, message="dee's pointer in the theme's green")
    # A page whose theme lacks the variable falls back to the colour derived from the username, never to nothing.
    fallback = wait_for_chips(unthemed, {"ana", "bo", "dee"})["dee"]
    assert fallback["colour"].startswith("#") and fallback["colour"] != "#2ca02c"
    assert fallback["background"] != "rgba(0, 0, 0, 0)"


def test_a_view_in_the_room_sends_only_its_own_presence_not_an_echo_of_others(browser, presence_lab):
    """y-websocket forwards every awareness change, also those it received; the views' providers send only their own,
    so presence traffic grows with the people present, not with its square."""
    from types import SimpleNamespace

    from tests.browser.lab import doc_to_screen, open_notebook, run_all, shutdown_kernels, wait_for_canvas, write_notebook

    name = "Echo" + secrets.token_hex(3)
    notebook = write_notebook(presence_lab.root, f"{name}.ipynb", [CANVAS_CELL.format(name=name, transport="room")])
    sent: dict[str, list[bytes]] = {}
    pages, contexts = {}, []
    try:
        for user in ("ana", "bo", "cy"):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            contexts.append(context)
            page = context.new_page()
            sent[user] = []
            # y-websocket's messages in the project's room: an awareness message starts with the byte 1.
            page.on("websocket", lambda ws, user=user: "isproj" in ws.url and ws.on(
                "framesent", lambda payload: sent[user].append(payload)
                if isinstance(payload, bytes) and payload[:1] == b"\x01" else None))
            open_notebook(page, SimpleNamespace(url=presence_lab.url, token=TOKENS[user]), notebook)
            pages[user] = page
            if user == "ana":  # the others open a notebook whose canvas is already shown
                run_all(page)
                wait_for_canvas(page)
        canvases = {user: wait_for_canvas(page) for user, page in pages.items()}
        for canvas in canvases.values():
            wait_for_chips(canvas, {"ana", "bo", "cy"}, timeout=30)
        time.sleep(1.0)
        before = {user: len(frames) for user, frames in sent.items()}
        ana = pages["ana"]
        canvases["ana"].locator("canvas.is-screen").scroll_into_view_if_needed()
        x, y = doc_to_screen(ana, canvases["ana"], 100, 100)
        ana.mouse.move(x, y)
        ana.mouse.move(x + 300, y + 200, steps=60)
        time.sleep(1.0)
        during = {user: len(frames) - before[user] for user, frames in sent.items()}
        print(f"presence frames sent while ana moved her pointer: {during}")
        assert sum(len(frames) for frames in sent.values()) > 0, "no room websocket was seen"
        assert during["ana"] >= 5, during
        # bo and cy renew their own state at most once here, and never pass ana's moves on.
        assert during["bo"] <= 1 and during["cy"] <= 1, during
    finally:
        for context in contexts:
            context.close()
        shutdown_kernels(presence_lab)
