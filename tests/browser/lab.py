"""Driving JupyterLab in Debian's Chromium with Playwright: start the browser, open and run a notebook,
find a widget's output, map document coordinates to the screen, read the document from Python."""

from __future__ import annotations

import io
import json
import shutil
import time
from pathlib import Path

import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[2]


def require_chromium() -> Path:
    """Debian's chromium, or a failure that names the install step (never a skip)."""
    if not CHROMIUM.exists():
        raise RuntimeError("Chromium is missing at /usr/bin/chromium: run `make test` (it runs "
                           "scripts/install-system-deps.sh, which installs Debian's chromium) or "
                           "`apt-get install -y chromium`")
    bundle = REPO / "imagestudio_nb" / "widgets" / "static" / "canvas.js"
    if not bundle.exists():
        raise RuntimeError(f"{bundle} is missing: run `make install` (pip builds the front end with npm), or "
                           "`npm --prefix labextension install && npm --prefix labextension run build`")
    return CHROMIUM


def enable_widget_server_extension(config_dir: Path, enabled: bool = True) -> None:
    """Enable (or disable) ``imagestudio_nb.widgets.server`` (TCP_NODELAY on websockets) for a server using
    ``config_dir``; the package's install enables it already, this makes a test independent of that."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"imagestudio_nb.widgets.server": enabled}}}))


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=str(require_chromium()), headless=True, args=CHROMIUM_FLAGS)


def copy_notebook(name: str, root: Path) -> str:
    """Copy ``notebooks/<name>`` into the server's root and return its path relative to the root."""
    target = root / name
    shutil.copy(REPO / "notebooks" / name, target)
    return name


def tour_notebook(root: Path, project: str) -> str:
    """A copy of ``notebooks/03_canvas.ipynb`` working on project ``project`` (each test gets its own kernel)."""
    text = (REPO / "notebooks" / "03_canvas.ipynb").read_text(encoding="utf-8")
    name = f"{project.replace(' ', '_')}.ipynb"
    (root / name).write_text(text.replace("Canvas tour", project), encoding="utf-8")
    return name


def shutdown_kernels(server) -> None:
    """Stop every kernel of the server (each test opens its own notebook and kernel)."""
    import urllib.request

    headers = {"Authorization": f"token {server.token}"}
    with urllib.request.urlopen(urllib.request.Request(f"{server.url}/api/sessions", headers=headers)) as reply:
        sessions = json.load(reply)
    for session in sessions:
        request = urllib.request.Request(f"{server.url}/api/sessions/{session['id']}", method="DELETE", headers=headers)
        urllib.request.urlopen(request).close()


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    """Write a small code-only notebook into the server's root."""
    import nbformat as nbf

    nb = nbf.v4.new_notebook(cells=[nbf.v4.new_code_cell(src) for src in cells],
                             metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbf.write(nb, root / name)
    return name


def open_notebook(page, server, path: str, *, timeout: float = 90_000) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is idle."""
    import secrets

    # A fresh JupyterLab workspace per page, so that tabs of earlier tests are not restored.
    page.goto(f"{server.url}/lab/workspaces/t{secrets.token_hex(4)}/tree/{path}?token={server.token}", timeout=timeout)
    page.wait_for_function("(path) => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.context && "
                           "window.jupyterapp.shell.currentWidget.context.path === path && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           arg=path, timeout=timeout)


def run_all(page, *, timeout: float = 120_000) -> None:
    """Run every cell and wait until the last one has an execution count and the kernel is idle."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function("""() => {
            const nb = window.jupyterapp.shell.currentWidget;
            const cells = nb.content.widgets.filter(c => c.model.type === 'code');
            const kernel = nb.sessionContext.session.kernel;
            return cells.every(c => c.model.executionCount) && kernel.status === 'idle';
        }""", timeout=timeout)
    except Exception:
        state = page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget;
            return {path: nb.context.path, kernel: nb.sessionContext.session?.kernel?.status,
                    counts: nb.content.widgets.filter(c => c.model.type === 'code').map(c => c.model.executionCount)}; }""")
        raise AssertionError(f"the notebook did not finish running: {state}") from None
    errors = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .filter(c => c.model.type === 'code')
        .flatMap(c => { const out = c.model.outputs; const list = [];
            for (let i = 0; i < out.length; i++) { const o = out.get(i).toJSON();
                if (o.output_type === 'error') list.push(o.ename + ': ' + o.evalue); }
            return list; })""")
    assert not errors, f"notebook cells raised: {errors}"


def wait_for_canvas(page, *, index: int = 0, timeout: float = 60_000):
    """The index-th Canvas widget once it has drawn the document."""
    canvas = page.locator(".is-canvas").nth(index)
    canvas.locator("canvas.is-screen[data-ready='1']").wait_for(timeout=timeout)
    return canvas


def doc_to_screen(page, canvas, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of document point (x, y) in a Canvas widget."""
    screen = canvas.locator("canvas.is-screen")
    box = screen.bounding_box()
    view = screen.evaluate("(el) => ({zoom: +el.dataset.zoom, ox: +el.dataset.ox, oy: +el.dataset.oy})")
    return box["x"] + view["ox"] + x * view["zoom"], box["y"] + view["oy"] + y * view["zoom"]


def screenshot_array(locator) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"))


def read_project(workspace: Path, name: str):
    """The project as saved on disk, read in this (the test's) process.

    The saved file's text, unless a writer is between truncating and writing it (jupyter_server writes a room's
    file in place, so a reader can see it empty or half-written: DESIGN.md's facts); then the project as its
    update log has it, which is what the file is a snapshot of.
    """
    from imagestudio_nb.errors import DocumentFormatError
    from imagestudio_nb.project import Project
    from imagestudio_nb.project.document import loads_document

    text = (workspace / name / "project.isproj").read_text(encoding="utf-8")
    try:
        return loads_document(text)
    except DocumentFormatError:
        project = Project.open(workspace / name)
        try:
            return project.to_data()
        finally:
            project.close()


def wait_until(predicate, *, timeout: float = 20, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            last = None
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}; last value {last!r}")
