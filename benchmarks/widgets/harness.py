"""A JupyterLab (127.0.0.1) and Debian's Chromium for the widget benchmarks, with a notebook that opens a
1024x1024 project; the timings are taken in the browser with performance.now()."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.browser.lab import enable_widget_server_extension, launch_browser, open_notebook, run_all, write_notebook  # noqa: E402
from tests.servers import remove_tree, start_jupyter_lab  # noqa: E402

SETUP = """import imagestudio_nb as studio
from imagestudio_nb.widgets import Canvas, FilterPanel
project = studio.Project.create("Bench", exist_ok=True)
results = studio.generate("a harbour at dusk with boats", model="local", size="1024x1024", seed=5,
                          project=project, progress=False)
photo = project.add_layer("generated", name="Photo", asset=results[0].asset)
ink = project.add_layer("paint", name="Ink")"""


@contextmanager
def lab_page(cells: list[str], *, nodelay: bool = True):
    """A page showing a notebook made of ``SETUP`` plus ``cells``, run to the end; ``nodelay`` enables the
    project's server extension that turns Nagle's algorithm off (stock Jupyter Server otherwise)."""
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="imagestudio-bench-"))
    root = base / "root"
    root.mkdir()
    settings = base / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    os.environ.update(IMAGESTUDIO_WORKSPACE=str(base / "workspace"), IMAGESTUDIO_CONFIG=str(base / "config.toml"),
                      IMAGESTUDIO_PROMPT_HISTORY="off", JUPYTERLAB_SETTINGS_DIR=str(base / "lab-settings"))
    enable_widget_server_extension(base / "jupyter-config", enabled=nodelay)
    server = start_jupyter_lab(root, extra_args=["--LabApp.expose_app_in_browser=True"])
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            notebook = write_notebook(root, "bench.ipynb", [SETUP, *cells])
            open_notebook(page, server, notebook)
            run_all(page)
            yield page
            browser.close()
    finally:
        server.stop()
        remove_tree(base)


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(values):7.2f} ms   p95 {p95:7.2f} ms   (n={len(values)})"


def metrics(page, name: str) -> list[float]:
    return page.evaluate(f"() => (window.__imagestudioMetrics || {{}})[{name!r}] || []")


def reset_metrics(page) -> None:
    page.evaluate("() => { window.__imagestudioMetrics = {}; }")
