"""Helpers of the presence browser tests: the users and their tokens, harness pages opened as a user, the
presence chips a page shows, and pixel counts on its canvas."""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.browser.lab import wait_until

HARNESS = Path(__file__).parent
#: The users; "cy" has no colour, as jupyter_server's own identity has none: a colour is derived from the name.
USERS = {
    "ana": {"username": "ana", "name": "Ana Lima", "color": "#d62728"},
    "bo": {"username": "bo", "name": "Bo Chen", "color": "#1f77b4"},
    "cy": {"username": "cy", "name": "Cy Park"},
    "dee": {"username": "dee", "name": "Dee Ray", "color": "#9467bd"},
}
TOKENS = {name: f"{name}-{secrets.token_hex(8)}" for name in USERS}
RED, BLUE, PURPLE = (214, 39, 40), (31, 119, 180), (148, 103, 189)
SCREENSHOTS = Path(os.environ.get("IMAGESTUDIO_SCREENSHOTS", "/tmp/imagestudio-presence-screenshots"))


def build_bundle(out: Path, entry: str = "harness.ts") -> str:
    """Bundle ``entry`` (which imports labextension/src/presence.ts) with the labextension's esbuild."""
    built = subprocess.run(["node", str(HARNESS / "build.mjs"), str(out), entry], capture_output=True, text=True,
                           timeout=120)
    assert built.returncode == 0, f"the harness did not build (run `npm --prefix labextension ci`): {built.stderr}"
    return out.read_text(encoding="utf-8")


class Pages:
    """Opens harness pages as different users and closes their contexts at the end of the test."""

    def __init__(self, browser, server, harness_js):
        self.browser, self.server, self.harness_js = browser, server, harness_js
        self.contexts = []

    def open(self, user: str, path: str, *, mode: str = "presence", css: str = ""):
        context = self.browser.new_context(viewport={"width": 900, "height": 700})
        self.contexts.append(context)
        config = json.dumps({"baseUrl": "/", "token": TOKENS[user]})
        html = (f'<!doctype html><html><head><meta charset="utf-8">'
                f'<script id="jupyter-config-data" type="application/json">{config}</script><style>{css}</style></head>'
                f'<body style="margin:0;font-family:sans-serif"><div id="root"></div>'
                f'<script type="module" src="/presence-harness/harness.js"></script></body></html>')

        context.route(f"{self.server.url}/presence-harness/harness.js",
                      lambda route: route.fulfill(body=self.harness_js, content_type="text/javascript"))
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.awareness_sent = []
        page.on("websocket", lambda ws: ws.on(
            "framesent", lambda payload: page.awareness_sent.append(time.monotonic())
            if isinstance(payload, bytes) and payload[:1] == b"\x01" else None))
        page.console = []
        page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
        # The document must come from the server itself: Chromium's local-network-access checks treat a page made
        # up by a route as public and refuse its websocket to 127.0.0.1. The server's 404 page is a small
        # same-origin HTML answer without the API's `default-src 'none'`; set_content keeps its URL (and address
        # space) and replaces the document.
        page.goto(f"{self.server.url}/presence-harness/page?path={path}&mode={mode}")
        page.set_content(html)
        try:
            page.wait_for_function("() => window.harness && window.harness.synced", timeout=30_000)
        except Exception:
            raise AssertionError(f"{user}'s harness did not join {path}: errors {page.errors}, console "
                                 f"{page.console[-10:]}") from None
        assert page.errors == []
        return page

    def close(self):
        for context in self.contexts:
            context.close()


def chips(target) -> dict[str, dict]:
    """The presence chips in a page or under a locator (a Canvas widget), by username."""
    scope = target.locator("body") if hasattr(target, "goto") else target
    return scope.evaluate("""(root) => Object.fromEntries([...root.querySelectorAll('[data-role=presence] [data-user]')]
        .map(c => [c.dataset.user, {title: c.title, colour: c.dataset.colour, tool: c.dataset.tool,
                                     me: c.dataset.me === '1', following: c.dataset.following === '1',
                                     background: getComputedStyle(c).backgroundColor, text: c.textContent}]))""")


def wait_for_chips(page, users: set[str], timeout: float = 10) -> dict[str, dict]:
    return wait_until(lambda: (found := chips(page)) and set(found) == users and found, timeout=timeout,
                      message=f"the presence bar to show exactly {sorted(users)}")


def canvas_shot(page, name: str) -> np.ndarray:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = page.locator("canvas.is-screen").screenshot()
    (SCREENSHOTS / f"{name}.png").write_bytes(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def colour_count(image: np.ndarray, colour, box) -> int:
    """Pixels within 30 per channel of ``colour`` in ``box`` = (x0, y0, x1, y1), canvas-element pixels."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    region = image[max(0, y0):y1, max(0, x0):x1].astype(int)
    return int((np.abs(region - np.array(colour)).max(axis=2) <= 30).sum())


def to_canvas(page, x: float, y: float) -> tuple[float, float]:
    """Document point (x, y) in canvas-element pixels of ``page``."""
    view = page.evaluate("() => harness.view")
    return view["ox"] + x * view["zoom"], view["oy"] + y * view["zoom"]


def point_at(page, x: float, y: float) -> None:
    sx, sy = page.evaluate("([x, y]) => harness.docToScreen(x, y)", [x, y])
    page.mouse.move(sx, sy)


def canvas_view(canvas) -> dict:
    return canvas.locator("canvas.is-screen").evaluate("""(el) => { const r = el.getBoundingClientRect();
        const zoom = +el.dataset.zoom, ox = +el.dataset.ox, oy = +el.dataset.oy;
        return {zoom, ox, oy, cx: (r.width / 2 - ox) / zoom, cy: (r.height / 2 - oy) / zoom}; }""")
