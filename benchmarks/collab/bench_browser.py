"""Co-editing latency as people see it: browser -> browser (a stroke) and kernel -> browser, in the room.

A real JupyterLab with jupyter-collaboration and two Debian Chromium contexts on one notebook whose Canvas
edits a project under the server root, so both views join the project's room. Measured on a server with
the package's settings (``imagestudio lab``'s ``server_settings``) and on a stock one (the package's
TCP_NODELAY extension off, jupyter-collaboration's defaults), one after the other in the same run:

- browser -> browser: A draws a stroke with the mouse (Playwright); the time from the stroke entering A's
  document (pointer up) to its arrival in B's document (target p95 < 50 ms);
- kernel -> browser: the notebook's kernel adds strokes with ``Project.add_stroke`` (written to the update
  log, which the room merges); the time from the call to the arrival in B's document (target p95 < 100 ms).

Both pages run in one Chromium, so their clocks (``performance.timeOrigin + performance.now()``) agree,
and with the kernel's ``time.time()`` on this machine. Run from the repository root:
``.venv/bin/python benchmarks/collab/bench_browser.py``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imagestudio_nb.cli.lab_cmd import server_settings  # noqa: E402
from tests.browser.coediting import CANVAS_NOTEBOOK, layer_named, select_layer, stroke, view_state  # noqa: E402
from tests.browser.lab import (launch_browser, open_notebook, run_all, wait_for_canvas, wait_until,  # noqa: E402
                               write_notebook)
from tests.servers import start_jupyter_lab  # noqa: E402

STROKES = int(os.environ.get("BENCH_STROKES", "30"))
KERNEL_STROKES = int(os.environ.get("BENCH_KERNEL_STROKES", "60"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
#: "room" (default: the views join the project's room) or "kernel" (the views ask for the kernel relay, D2's
#: fallback without a collaborative server; the kernel's strokes then reach the views over the comm).
TRANSPORT = os.environ.get("BENCH_TRANSPORT", "room")
STOCK = ["--ServerApp.jpserver_extensions", "imagestudio_nb.widgets.server=False"]

# Stamps every stroke that enters this view's document: its key (first point), when, and whether it is local.
MARK = """(root) => {
  const v = root.imagestudioView;
  window.__marks = [];
  v.sync.layers.observeDeep((events, transaction) => {
    const at = performance.timeOrigin + performance.now();
    for (const event of events) {
      let delta = [];
      try { delta = event.delta || []; } catch (e) { delta = []; }
      for (const part of delta) for (const item of (Array.isArray(part.insert) ? part.insert : []))
        if (item && Array.isArray(item.points)) window.__marks.push({
          key: Math.round(item.points[0]) + ',' + Math.round(item.points[1]), at, local: transaction.local });
    }
  });
}"""

KERNEL_CODE = """
import json, time
_ink = next(layer["id"] for layer in project.layers() if layer["name"] == "Ink")
_sent = {{}}
time.sleep(1.0)
for _i in range({count}):
    _x = 3000 + _i
    _sent[f"{{_x}},7"] = time.time() * 1000
    project.add_stroke(_ink, {{"tool": "brush", "size": 4, "color": "#cf222e", "points": [_x, 7, _x + 5, 9]}})
    time.sleep(0.15)
with open({path!r}, "w") as _f:
    json.dump(_sent, _f)
"""


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def marks(page) -> list[dict]:
    return page.evaluate("() => window.__marks")


def execute(page, code: str, timeout: float = 180) -> None:
    """Run ``code`` in the notebook's kernel (as a cell would) and wait for it to finish."""
    status = page.evaluate("""async (code) => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        const future = kernel.requestExecute({ code, store_history: false });
        let error = null;
        future.onIOPub = (msg) => {
            if (msg.header.msg_type === 'error') error = msg.content.ename + ': ' + msg.content.evalue;
        };
        const reply = await future.done;
        return error || reply.content.status;
    }""", code)
    assert status == "ok", status


def measure(browser, lab, label: str) -> dict:
    name = f"Latency {label}"  # label: configuration and round
    # The project in the notebook's folder (the server root), by its absolute path: the room serves it.
    notebook = write_notebook(lab.root, f"latency_{label.replace(' ', '_')}.ipynb",
                              [CANVAS_NOTEBOOK.format(name=name, workspace=", workspace=__import__('os').getcwd()",
                                                      transport="auto" if TRANSPORT == "room" else TRANSPORT)])
    context_a = browser.new_context(viewport={"width": 1500, "height": 1100})
    context_b = browser.new_context(viewport={"width": 1500, "height": 1100})
    try:
        page_a, page_b = context_a.new_page(), context_b.new_page()
        open_notebook(page_a, lab, notebook)
        run_all(page_a)
        a = wait_for_canvas(page_a)
        open_notebook(page_b, lab, notebook)
        b = wait_for_canvas(page_b)
        wait_until(lambda: view_state(a)["transport"] == TRANSPORT and view_state(b)["transport"] == TRANSPORT
                   and view_state(a)["connection"] == view_state(b)["connection"] == "connected",
                   timeout=60, message=f"both views connected ({TRANSPORT})")
        a.evaluate(MARK)
        b.evaluate(MARK)
        select_layer(a, view_state(a), "Ink")
        for i in range(STROKES):
            stroke(page_a, a, 30 + (i * 11) % 330)
            time.sleep(0.2)
        wait_until(lambda: layer_named(view_state(b), "Ink")["strokes"] >= STROKES, timeout=60,
                   message="A's strokes in B")
        time.sleep(1)
        drawn = {m["key"]: m["at"] for m in marks(page_a) if m["local"]}
        seen = {m["key"]: m["at"] for m in marks(page_b) if not m["local"]}
        browser_ms = [seen[key] - at for key, at in drawn.items() if key in seen]
        assert len(drawn) == STROKES and len(browser_ms) == STROKES, (len(drawn), len(browser_ms))

        sent_file = lab.root / f"kernel_sent_{label.replace(' ', '_')}.json"
        execute(page_a, KERNEL_CODE.format(count=KERNEL_STROKES, path=str(sent_file)))
        wait_until(lambda: layer_named(view_state(b), "Ink")["strokes"] >= STROKES + KERNEL_STROKES, timeout=60,
                   message="the kernel's strokes in B")
        time.sleep(1)
        sent = json.loads(sent_file.read_text())
        seen = {m["key"]: m["at"] for m in marks(page_b) if not m["local"]}
        kernel_ms = [seen[key] - at for key, at in sent.items() if key in seen]
        assert len(kernel_ms) == KERNEL_STROKES, len(kernel_ms)
        final_b = layer_named(view_state(b), "Ink")["strokes"]
        assert final_b == STROKES + KERNEL_STROKES, final_b  # nothing lost, nothing doubled
        return {"browser": browser_ms, "kernel": kernel_ms}
    finally:
        context_a.close()
        context_b.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    settings = base / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    os.environ.update(IMAGESTUDIO_USER="bench", JUPYTERLAB_SETTINGS_DIR=str(base / "lab-settings"),
                      IMAGESTUDIO_CONFIG=str(base / "config.toml"))
    figures: dict[str, dict[str, list[float]]] = {"package": {"browser": [], "kernel": []},
                                                  "stock": {"browser": [], "kernel": []}}
    loads, labs = [os.getloadavg()[0]], {}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            for label in ("package", "stock"):
                root = base / label / "root"
                root.mkdir(parents=True)
                os.environ["IMAGESTUDIO_WORKSPACE"] = str(base / label / "workspace")  # the notebook names its own
                settings = server_settings(root) if label == "package" else STOCK
                extra = ["--LabApp.expose_app_in_browser=True", *settings]
                labs[label] = start_jupyter_lab(root, extra_args=extra)
                assert ("TCP_NODELAY" in labs[label].log.read_text()) == (label == "package")
            for round_ in range(ROUNDS):
                for label, lab in labs.items():  # alternate: both servers see the same load over the run
                    measured = measure(browser, lab, f"{label} {round_}")
                    for key, values in measured.items():
                        figures[label][key] += values
                    loads.append(os.getloadavg()[0])
                    print(f"round {round_ + 1} {label}: load average {loads[-1]:.1f}", flush=True)
        finally:
            browser.close()
            for lab in labs.values():
                lab.stop()
    print(f"\ntransport {TRANSPORT}; load average (1 min): {', '.join(f'{x:.1f}' for x in loads)} (2 cores, shared)")
    print(f"{'measure':36s} {'package p50/p95 ms':>20s} {'stock p50/p95 ms':>20s} {'p95 stock/package':>18s}  target")
    for title, key, limit in (("browser -> browser, a stroke", "browser", 50.0),
                              (f"kernel -> browser ({'log, room' if TRANSPORT == 'room' else 'comm relay'})",
                               "kernel", 100.0)):
        a, b = figures["package"][key], figures["stock"][key]
        print(f"{title:36s} {statistics.median(a):9.1f}/{p95(a):9.1f} {statistics.median(b):9.1f}/{p95(b):9.1f} "
              f"{p95(b) / p95(a):17.2f}x  p95 < {limit:.0f} ms {'met' if p95(a) < limit else 'MISSED'} "
              f"(n={len(a)}/{len(b)})")


if __name__ == "__main__":
    main()
