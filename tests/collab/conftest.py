"""Fixtures for the collaboration tests: a JupyterLab with several users, and a plain Yjs client in node."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import start_jupyter_lab

#: Tokens of the users of the multi-user lab; "eve" is denied "write" by the Jupyter server itself.
USERS = {name: f"{name}-{secrets.token_hex(8)}" for name in ("ana", "bo", "cy", "dee", "eve")}
NODE_CLIENT = Path(__file__).with_name("node")


def run_in_thread(coroutine_function, timeout: float = 180):
    """Run ``coroutine_function()`` to completion in a fresh thread's event loop.

    A fresh thread has no running loop, whatever other fixtures (Playwright's sync API) left in this one.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function())).result(timeout)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab with jupyter-collaboration on 127.0.0.1, one user (its token)."""
    root = tmp_path_factory.mktemp("lab") / "root"
    root.mkdir()
    server = start_jupyter_lab(root)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def multiuser_lab(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("IMAGESTUDIO_TEST_USERS", json.dumps({token: name for name, token in USERS.items()}))
    patch.setenv("IMAGESTUDIO_TEST_READONLY", "eve")
    patch.setenv("PYTHONPATH", os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    root = tmp_path_factory.mktemp("multiuser") / "root"
    root.mkdir()
    server = start_jupyter_lab(root, extra_args=[
        "--ServerApp.identity_provider_class=tests.collab.identities.TokenPerUser",
        "--ServerApp.authorizer_class=tests.collab.identities.ReadOnlyUsers"])
    yield server
    server.stop()
    patch.undo()


@pytest.fixture(scope="session")
def node_client() -> Path:
    """The node room client, its packages installed from the lockfile (npm ci) when missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed for the Yjs client tests: install Node.js 20 (make test does)")
    if not (NODE_CLIENT / "node_modules" / "y-websocket").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_CLIENT, check=True, timeout=600)
    return NODE_CLIENT / "room_client.mjs"
