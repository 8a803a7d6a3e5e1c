"""`.isproj` files as Studio tabs in a real collaborative JupyterLab (the prebuilt extension in
labextension/lab), driven in Debian's Chromium as distinct users.

Double-clicking a project opens the Studio (not the text editor) and Open With still offers the JSON
editor; a tab's strokes and layers reach a plain Yjs client in node and the project's log, and the node
client's layer appears in the tab; a viewer's tab changes nothing (the server refuses it).
"""

from __future__ import annotations

import json
import os
import re
import runpy
import secrets
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from imagestudio_nb.collab import open_collaboration_session
from imagestudio_nb.project import Project
from imagestudio_nb.project.schema import ROOTS
from tests.browser.lab import doc_to_screen, launch_browser, wait_until
from tests.collab.conftest import NODE_CLIENT, USERS
from tests.collab.test_studio_api import REPO, start_studio_lab


SHOTS = Path(os.environ.get("IMAGESTUDIO_SCREENSHOTS", "/tmp/imagestudio-screenshots"))

# A plain Yjs client (CommonJS builds of the node client's own packages): adds a layer, then waits until the
# document has the layer and the strokes the test names, and prints what it saw.
WATCHER = textwrap.dedent("""
    const Y = require('yjs');
    const { WebsocketProvider } = require('y-websocket');
    const WebSocket = require('ws');
    const [base, room, sessionId, token, scriptText] = process.argv.slice(2);
    const script = JSON.parse(scriptText);
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(base, room, doc,
      { WebSocketPolyfill: WebSocket, params: { sessionId, token }, disableBc: true });
    const layers = doc.getArray('layers');
    const seen = () => {
      const all = layers.toArray();
      const names = all.map((l) => l.get('name'));
      const strokes = {};
      for (const l of all) strokes[l.get('name')] = (l.get('strokes') || { length: 0 }).length;
      return { names, strokes };
    };
    const done = () => {
      const { names, strokes } = seen();
      return script.wait_for.every((n) => names.includes(n))
        && Object.entries(script.strokes || {}).every(([n, k]) => (strokes[n] || 0) >= k);
    };
    provider.on('sync', (synced) => {
      if (!synced) return;
      for (const name of script.add || []) {
        const layer = new Y.Map();
        const transform = new Y.Map();
        for (const [k, v] of Object.entries({ x: 0, y: 0, scale_x: 1, scale_y: 1, rotation: 0, crop: null })) transform.set(k, v);
        for (const [k, v] of Object.entries({ id: 'l_' + Math.random().toString(16).slice(2, 14).padEnd(12, '0'), name,
          kind: 'paint', asset: null, visible: true, locked: false, opacity: 1, blend_mode: 'normal', filters: [],
          mask: null })) layer.set(k, v);
        layer.set('transform', transform);
        layer.set('strokes', new Y.Array());
        layers.push([layer]);
      }
      const started = Date.now();
      const timer = setInterval(() => {
        if (done() || Date.now() - started > (script.timeout_ms || 60000)) {
          clearInterval(timer);
          process.stdout.write(JSON.stringify({ ...seen(), complete: done() }) + '\\n');
          provider.destroy();
          process.exit(0);
        }
      }, 50);
    });
""")


@pytest.fixture(scope="module")
def tab_lab(tmp_path_factory):
    server, patch = start_studio_lab(tmp_path_factory, "studio-tab", ["--LabApp.expose_app_in_browser=True"])
    yield server
    server.stop()
    patch.undo()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


def new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: print("page error:", error, (error.stack or "")[:600]))
    return page


def make_project(lab, name: str, *, roles: dict[str, str] | None = None) -> Path:
    patch = pytest.MonkeyPatch()
    patch.setenv("IMAGESTUDIO_USER", "ana")
    try:
        project = Project.create(name, workspace=lab.root, width=320, height=240)
        project.add_layer("paint", name="ink")
        for user, role in (roles or {}).items():
            project.set_role(user, role)
        project.close()
    finally:
        patch.undo()
    return project.path


def read_layers(folder: Path) -> list[dict]:
    """The layers as the project's log has them (Project.open reads it), read fresh each time."""
    project = Project.open(folder)
    try:
        return project.layers()
    finally:
        project.close()


def open_lab(page, lab, user: str, path: str) -> None:
    page.goto(f"{lab.url}/lab/workspaces/t{secrets.token_hex(4)}/tree/{path}?token={USERS[user]}", timeout=90_000)


def studio(page, *, timeout: float = 90_000):
    """The open Studio tab's canvas, once it has drawn the room's document."""
    tab = page.locator(".is-lab-studio-tab:visible .is-canvas")
    tab.locator("canvas.is-screen[data-ready='1']").wait_for(timeout=timeout)
    return tab


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"studio_tab_{name}.png"
    page.screenshot(path=str(path))
    return path


def stroke(page, tab, points) -> None:
    page.mouse.move(*doc_to_screen(page, tab, *points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*doc_to_screen(page, tab, *point), steps=4)
    page.mouse.up()


def watcher(lab, path: str, user: str, tmp_path: Path, script: dict) -> subprocess.Popen:
    node = shutil.which("node")
    if not node or not (NODE_CLIENT / "node_modules" / "y-websocket").is_dir():
        raise RuntimeError("the node Yjs client needs Node.js 20 and `npm ci` in tests/collab/node (make test does)")
    source = tmp_path / "watcher.cjs"
    source.write_text(WATCHER)
    session = open_collaboration_session(lab.url, path, token=USERS[user])
    base = lab.url.replace("http://", "ws://") + "/api/collaboration/room"
    return subprocess.Popen([node, str(source), base, session.room, session.session_id, USERS[user], json.dumps(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NODE_PATH": str(NODE_CLIENT / "node_modules")})


def test_the_extensions_roots_are_written_from_the_schema():
    writer = runpy.run_path(str(REPO / "labextension" / "lab" / "write_roots.py"))
    text = (REPO / "labextension" / "lab" / "src" / "roots.ts").read_text(encoding="utf-8")
    assert text == writer["roots_module"](), "run `python labextension/lab/write_roots.py` after changing ROOTS"
    for name, kind in ROOTS.items():
        assert f'"{name}": "{kind.__name__}"' in text


@pytest.mark.slow
@pytest.mark.browser
def test_double_click_opens_a_studio_tab_and_open_with_offers_the_json_editor(tab_lab, browser):
    make_project(tab_lab, "Opened")
    page = new_page(browser)
    open_lab(page, tab_lab, "ana", "Opened")
    item = page.locator(".jp-DirListing-item", has_text="project.isproj")
    item.dblclick()
    tab = studio(page)
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.node.classList.contains('is-lab-studio-tab')")
    assert page.locator(".jp-MainAreaWidget .jp-FileEditor").count() == 0  # not the text editor
    assert tab.locator("[data-layer-id]", has_text="ink").count() == 1
    assert tab.get_attribute("data-transport") == "room"
    # The tab's shared model is the extension's IsprojDoc, with exactly the schema's roots and Y types.
    roots = page.evaluate("""() => { const doc = window.jupyterapp.shell.currentWidget.context.model.sharedModel;
        return Object.fromEntries(Object.entries(doc.roots).map(([name, root]) =>
            [name, doc.ydoc.share.get(name) !== root ? 'not the document root'
                   : typeof root.push === 'function' ? 'Array' : typeof root.set === 'function' ? 'Map' : '?'])); }""")
    assert roots == {name: kind.__name__ for name, kind in ROOTS.items()}
    page.wait_for_function("() => document.querySelector('.is-lab-studio-tab .is-canvas')?.dataset.connection === 'connected'")
    shot(page, "double_click")
    item.click(button="right")
    page.locator(".lm-Menu-item", has_text="Open With").hover()
    submenu = page.locator(".lm-Menu").last
    submenu.locator(".lm-Menu-itemLabel", has_text="Editor").wait_for()
    offered = submenu.locator(".lm-Menu-itemLabel").all_inner_texts()
    shot(page, "open_with")
    assert "Studio" in offered and "Editor" in offered, offered
    submenu.locator(".lm-Menu-itemLabel", has_text="Editor").click()
    editor = page.locator(".jp-MainAreaWidget:visible .jp-FileEditor .cm-content")
    editor.wait_for(timeout=60_000)
    wait_until(lambda: '"layers"' in editor.inner_text(), message="the JSON text in the editor")
    page.context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_tabs_edits_reach_a_node_client_and_the_log_and_the_node_clients_layer_reaches_the_tab(tab_lab, browser,
                                                                                                 tmp_path):
    folder = make_project(tab_lab, "Travels")
    page = new_page(browser)
    open_lab(page, tab_lab, "ana", "Travels/project.isproj")
    tab = studio(page)
    node = watcher(tab_lab, "Travels/project.isproj", "dee", tmp_path,
                   {"add": ["from-node"], "wait_for": ["Paint", "from-node"], "strokes": {"ink": 1}, "timeout_ms": 90000})
    # The node client's layer appears in the tab's layers panel.
    tab.locator("[data-layer-id]", has_text="from-node").wait_for(timeout=30_000)
    # A stroke on "ink" (through the room) and a new layer (through the tab's HTTP backend).
    tab.locator("[data-layer-id]", has_text="ink").click()
    tab.locator(".is-tool[data-tool='brush']").click()
    stroke(page, tab, [(40, 40), (120, 90), (200, 120)])
    tab.locator("[data-action='add-paint']").click()
    tab.locator("[data-layer-id]", has_text=re.compile("Paint")).wait_for(timeout=30_000)  # the name, not the kind
    out, err = node.communicate(timeout=120)
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["complete"], (seen, err[-2000:])
    assert sorted(seen["names"]) == ["Paint", "from-node", "ink"] and seen["strokes"]["ink"] >= 1
    logged = wait_until(lambda: (lambda layers: layers if {l["name"] for l in layers} == {"ink", "from-node", "Paint"}
                                 and next(l for l in layers if l["name"] == "ink")["strokes"] else None)(read_layers(folder)),
                        timeout=30, message="the tab's stroke and layers in the project's log")
    ink = next(layer for layer in logged if layer["name"] == "ink")
    assert len(ink["strokes"]) == 1 and len(ink["strokes"][0]["points"]) >= 4
    shot(page, "edits_travel")
    page.context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_tabs_undo_takes_back_the_layer_its_own_call_added_and_nobody_elses(tab_lab, browser, tmp_path):
    folder = make_project(tab_lab, "TabUndo")
    page = new_page(browser)
    open_lab(page, tab_lab, "ana", "TabUndo/project.isproj")
    tab = studio(page)
    # Someone else (a node client as dee) adds a layer; then this tab adds one through its HTTP backend.
    node = watcher(tab_lab, "TabUndo/project.isproj", "dee", tmp_path,
                   {"add": ["dee's"], "wait_for": ["dee's"], "timeout_ms": 60000})
    out, err = node.communicate(timeout=90)
    assert json.loads(out.strip().splitlines()[-1])["complete"], err[-2000:]
    tab.locator("[data-layer-id]", has_text="dee's").wait_for(timeout=30_000)
    tab.locator("[data-action='add-paint']").click()
    tab.locator("[data-layer-id]", has_text=re.compile("Paint")).wait_for(timeout=30_000)
    undo = tab.locator("[data-action='undo']")
    wait_until(lambda: undo.is_enabled(), timeout=10, message="the tab's Undo enabled by its own call")
    undo.click()
    wait_until(lambda: {l["name"] for l in read_layers(folder)} == {"ink", "dee's"}, timeout=30,
               message="the tab's layer undone in the log, dee's kept")
    tab.locator("[data-layer-id]", has_text=re.compile("Paint")).wait_for(state="detached", timeout=10_000)
    wait_until(lambda: not undo.is_enabled(), timeout=10, message="nothing else is the tab's to undo")
    shot(page, "undo_own_call")
    page.context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_viewers_tab_cannot_change_the_document(tab_lab, browser):
    folder = make_project(tab_lab, "Viewed", roles={"bo": "viewer"})
    page = new_page(browser)
    open_lab(page, tab_lab, "bo", "Viewed/project.isproj")
    tab = studio(page)
    banner = page.locator(".is-lab-studio-tab .is-lab-readonly")
    banner.wait_for(timeout=30_000)  # the tab says so before anything is tried
    assert "bo is a viewer" in banner.inner_text() and banner.get_attribute("data-writes") == "false"
    # The canvas is view only: the editing tools and export are off; panning, zooming and the colour picker stay.
    page.wait_for_function("() => document.querySelector('.is-lab-studio-tab .is-canvas')?.dataset.readonly === 'true'")
    assert tab.locator(".is-tool[data-tool='brush']").is_disabled()
    assert tab.locator("[data-action='export']").is_disabled()  # an export is written into the project
    assert tab.locator(".is-tool[data-tool='pan']").is_enabled() and tab.get_attribute("data-tool") == "pan"
    assert tab.locator(".is-layers").evaluate("(el) => el.inert")
    tab.locator("canvas.is-screen").focus()
    page.keyboard.press("b")  # the brush's shortcut: refused, with the reason
    assert tab.get_attribute("data-tool") == "pan" and "View only" in tab.locator(".is-status").last.inner_text()
    stroke(page, tab, [(40, 40), (160, 160)])  # pans the view, paints nothing
    shot(page, "viewer_view_only")
    # Whatever the page does, the server refuses: a call (403, with the reason) and a change made straight in
    # the view's own document (the room's role check drops it).
    refused = tab.evaluate("""(el) => el.imagestudioView.channel.call('add_layer', {kind: 'paint', name: 'Sneaky'})
        .then(() => 'accepted', (error) => String(error.message || error))""")
    assert refused != "accepted" and "editor" in refused, refused
    tab.evaluate("""(el) => { const doc = el.imagestudioView.sync.doc;
        const ink = doc.getArray('layers').toArray().find((l) => l.get('name') === 'ink');
        ink.get('strokes').push([{tool: 'brush', size: 5, color: '#ff0000', points: [1, 2, 3, 4]}]); }""")
    # An editor's tab opened afterwards (fresh from the room) and the log hold neither the stroke nor a layer.
    other = new_page(browser)
    open_lab(other, tab_lab, "ana", "Viewed/project.isproj")
    editor_tab = studio(other)
    other.wait_for_function("() => document.querySelector('.is-lab-studio-tab .is-lab-readonly')?.dataset.writes === 'true'")
    assert not other.locator(".is-lab-studio-tab .is-lab-readonly").is_visible()
    assert editor_tab.get_attribute("data-readonly") is None and editor_tab.locator(".is-tool[data-tool='brush']").is_enabled()
    assert editor_tab.locator("[data-action='export']").is_enabled()
    other.wait_for_timeout(1500)
    assert editor_tab.locator("[data-layer-id]").all_inner_texts() and \
        [t for t in editor_tab.locator("[data-layer-id]").all_inner_texts() if "Paint" in t or "Sneaky" in t] == []
    layers = read_layers(folder)
    assert [layer["name"] for layer in layers] == ["ink"] and layers[0]["strokes"] == []
    page.context.close()
    other.context.close()


# Mounts the widget bundle's canvas on a JupyterLab page as a notebook view would (documentPath absolute, as
# the Canvas widget's `document_path`), with no kernel behind its channel: only the room can feed it.
MOUNT = """async ({documentPath, dropBridge, slot}) => {
    if (dropBridge) delete globalThis[Symbol.for('imagestudio.rooms')];
    const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
    const base = new URL(config.baseUrl, location.href);
    const module = await import(new URL('imagestudio/static/canvas.js', base).href);
    if (!document.querySelector('link[data-test-css]')) {  // the widget's stylesheet, as anywidget adds it
        const link = Object.assign(document.createElement('link'), {rel: 'stylesheet',
                                   href: new URL('imagestudio/static/studio.css', base).href});
        link.dataset.testCss = '1';
        document.head.append(link);
        await new Promise((resolve) => { link.onload = resolve; link.onerror = resolve; });
    }
    const host = document.createElement('div');
    host.className = 'test-host';
    host.dataset.slot = String(slot);
    host.style.cssText = 'position:fixed;top:30px;left:10px;width:1360px;height:820px;z-index:100000;' +
        'background:white;overflow:hidden';
    document.body.append(host);
    const refuse = async (what) => { throw new Error(`no kernel behind this view (${what})`); };
    const channel = {request: refuse, call: refuse, on: () => () => undefined, send: () => undefined};
    module.mountCanvas(host, {channel, documentPath, transportChoice: 'room', height: 600});
}"""

INK_STROKES = """(el) => { const doc = el.imagestudioView.sync.doc;
    const ink = doc.getArray('layers').toArray().find((l) => l.get('name') === 'ink');
    return ink ? ink.get('strokes').length : -1; }"""


@pytest.mark.slow
@pytest.mark.browser
def test_notebook_views_join_the_room_through_the_bridge_or_their_own_provider(tab_lab, browser, tmp_path):
    folder = make_project(tab_lab, "Views")
    document = str(folder.resolve() / "project.isproj")
    pages, views = [], []
    for drop_bridge in (False, True):  # the extension's bridge; then no extension: the view's own provider
        page = new_page(browser)
        open_lab(page, tab_lab, "dee", "")
        page.wait_for_function("() => window.jupyterapp && window[Symbol.for('imagestudio.rooms')]", timeout=90_000)
        page.evaluate(MOUNT, {"documentPath": document, "dropBridge": drop_bridge, "slot": 0})
        pages.append(page)
        views.append(page.locator(".test-host[data-slot='0'] .is-canvas"))
    for page, view in zip(pages, views):
        view.locator("canvas.is-screen[data-ready='1']").wait_for(timeout=60_000)
        assert view.get_attribute("data-transport") == "room"
        page.wait_for_function("(el) => el.dataset.connection === 'connected'", arg=view.element_handle(), timeout=30_000)
        # Presence carries Jupyter's identity of the user (JupyterLab's user manager, or /api/me).
        user = view.evaluate("(el) => el.imagestudioView.transport.awareness.getLocalState().user")
        assert user and user["username"] == "dee" and user["color"], user
    node = watcher(tab_lab, "Views/project.isproj", "ana", tmp_path,
                   {"add": ["from-node"], "wait_for": ["from-node"], "strokes": {"ink": 2}, "timeout_ms": 90000})
    for view in views:
        view.locator("[data-layer-id]", has_text="from-node").wait_for(timeout=30_000)
    for index, (page, view) in enumerate(zip(pages, views)):  # each view's stroke reaches the other, node and log
        view.locator("[data-layer-id]", has_text="ink").click()
        view.locator(".is-tool[data-tool='brush']").click()
        stroke(page, view, [(40, 40 + 80 * index), (150, 60 + 80 * index), (260, 80 + 80 * index)])
        other = views[1 - index]
        wait_until(lambda: other.evaluate(INK_STROKES) == index + 1, message=f"view {index}'s stroke in the other view")
    out, err = node.communicate(timeout=120)
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["complete"] and seen["strokes"]["ink"] == 2, (seen, err[-2000:])
    wait_until(lambda: len(next(l for l in read_layers(folder) if l["name"] == "ink")["strokes"]) == 2,
               timeout=30, message="both views' strokes in the project's log")
    shot(pages[0], "notebook_view_bridge")
    shot(pages[1], "notebook_view_own_provider")
    # A document outside the server root has no room here: the view falls back to the kernel relay.
    pages[1].evaluate(MOUNT, {"documentPath": str(tmp_path / "Elsewhere" / "project.isproj"), "dropBridge": True,
                              "slot": 1})
    outside = pages[1].locator(".test-host[data-slot='1'] .is-canvas")
    pages[1].wait_for_function("(el) => el.dataset.transport === 'kernel'", arg=outside.element_handle(), timeout=30_000)
    # A file the server has no room for (the session request fails): the same, through the bridge or not.
    missing = str(tab_lab.root.resolve() / "Missing" / "project.isproj")
    for page, drop_bridge in zip(pages, (False, True)):
        page.evaluate(MOUNT, {"documentPath": missing, "dropBridge": drop_bridge, "slot": 2})
        view = page.locator(".test-host[data-slot='2'] .is-canvas")
        page.wait_for_function("(el) => el.dataset.transport === 'kernel'", arg=view.element_handle(), timeout=30_000)
    assert pages[0].evaluate("() => window[Symbol.for('imagestudio.rooms')].own.size") == 1  # the failed room let go
    for page in pages:
        page.context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_notebook_view_shares_the_open_tabs_room_and_outlives_the_tab(tab_lab, browser):
    folder = make_project(tab_lab, "Outlives")
    page = new_page(browser)
    open_lab(page, tab_lab, "ana", "Outlives/project.isproj")
    studio(page)
    page.evaluate(MOUNT, {"documentPath": str(folder.resolve() / "project.isproj"), "dropBridge": False, "slot": 0})
    view = page.locator(".test-host[data-slot='0'] .is-canvas")
    view.locator("canvas.is-screen[data-ready='1']").wait_for(timeout=60_000)
    rooms = "() => { const r = window[Symbol.for('imagestudio.rooms')]; return [r.onTab.size, r.own.size]; }"
    assert page.evaluate(rooms) == [2, 0]  # the tab's canvas and the notebook view, both on the tab's shared model
    page.evaluate("""() => { for (const w of window.jupyterapp.shell.widgets('main'))
                               if (w.node.classList.contains('is-lab-studio-tab')) w.close(); }""")
    page.wait_for_function(f"() => ({rooms})().join() === '0,1'", timeout=30_000)  # moved to a room of its own
    page.wait_for_function("(el) => el.dataset.connection === 'connected'", arg=view.element_handle(), timeout=30_000)
    view.locator("[data-layer-id]", has_text="ink").click()
    view.locator(".is-tool[data-tool='brush']").click()
    stroke(page, view, [(40, 40), (150, 90), (260, 120)])
    wait_until(lambda: len(next(l for l in read_layers(folder) if l["name"] == "ink")["strokes"]) == 1,
               timeout=30, message="the notebook view's stroke in the log after the tab closed")
    shot(page, "outlives_tab")
    page.context.close()
