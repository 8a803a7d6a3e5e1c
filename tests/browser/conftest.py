"""Browser fixtures: one JupyterLab (with jupyter-collaboration) on 127.0.0.1 and one Debian Chromium per
session; each test gets a fresh page. A missing Chromium fails with the install step, never skips."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.browser.lab import enable_widget_server_extension, launch_browser, require_chromium, shutdown_kernels
from tests.servers import remove_tree, start_jupyter_lab


@pytest.fixture(scope="session")
def lab_server():
    require_chromium()
    base = Path(tempfile.mkdtemp(prefix="imagestudio-lab-"))
    root = base / "root"
    root.mkdir()
    workspace = base / "workspace"
    saved = {k: os.environ.get(k) for k in ("IMAGESTUDIO_WORKSPACE", "IMAGESTUDIO_CONFIG", "IMAGESTUDIO_USER",
                                            "JUPYTERLAB_SETTINGS_DIR", "IMAGESTUDIO_PROMPT_HISTORY")}
    settings = base / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "get notified about Jupyter news?" toast over the widgets.
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    os.environ.update(IMAGESTUDIO_WORKSPACE=str(workspace), IMAGESTUDIO_CONFIG=str(base / "config.toml"),
                      IMAGESTUDIO_USER="tester", JUPYTERLAB_SETTINGS_DIR=str(base / "lab-settings"),
                      IMAGESTUDIO_PROMPT_HISTORY=str(base / "prompt_history.sqlite"))
    enable_widget_server_extension(base / "jupyter-config")
    try:
        server = start_jupyter_lab(root, extra_args=["--LabApp.expose_app_in_browser=True"])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    server.workspace = workspace
    yield server
    server.stop()
    remove_tree(base)


@pytest.fixture(scope="module")
def browser():
    # Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread, which
    # would break `asyncio.run` in the test modules that follow.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def lab(lab_server):
    """The session's JupyterLab; every kernel this test started is stopped afterwards."""
    yield lab_server
    shutdown_kernels(lab_server)
