"""Real servers started by the test suite: JupyterLab with jupyter-collaboration on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class JupyterLabServer:
    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_jupyter_lab(root: Path, *, extra_args: list[str] | None = None, timeout: float = 90) -> JupyterLabServer:
    """Start ``jupyter lab`` from this environment on 127.0.0.1 and wait until it answers."""
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        raise RuntimeError("jupyter is not installed in this environment: run `make install` (pip install -e .[dev])")
    port, token = free_port(), secrets.token_hex(16)
    log = root.parent / f"jupyterlab-{port}.log"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root.parent / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(root.parent / "jupyter-runtime")}
    command = [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.open_browser=False", "--ServerApp.allow_root=True", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate", *(extra_args or [])]
    handle = open(log, "wb")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            request = urllib.request.Request(f"{url}/api/status", headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(request, timeout=2):
                return JupyterLabServer(url, token, root, process, log)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
