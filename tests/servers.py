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


#: The lab extension as this checkout builds it (``make install``; npm --prefix labextension/lab run build).
LAB_EXTENSION = Path(__file__).resolve().parents[1] / "labextension" / "lab" / "dist"


def current_lab_extension(data_dir: Path) -> str:
    """A Jupyter data folder whose ``labextensions/`` links the freshly built lab extension, to put first on
    ``JUPYTER_PATH``: an editable install copies the extension once, and a rebuilt one must not be shadowed
    by that stale copy."""
    link = data_dir / "labextensions" / "imagestudio-nb-lab"
    if (LAB_EXTENSION / "package.json").is_file() and not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(LAB_EXTENSION, target_is_directory=True)
    return str(data_dir)


def start_jupyter_lab(root: Path, *, extra_args: list[str] | None = None, timeout: float = 90) -> JupyterLabServer:
    """Start ``jupyter lab`` from this environment on 127.0.0.1 and wait until it answers."""
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        raise RuntimeError("jupyter is not installed in this environment: run `make install` (pip install -e .[dev])")
    port, token = free_port(), secrets.token_hex(16)
    log = root.parent / f"jupyterlab-{port}.log"
    data_path = [current_lab_extension(root.parent / "jupyter-data-current"), os.environ.get("JUPYTER_PATH", "")]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root.parent / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(root.parent / "jupyter-runtime"),
           "JUPYTER_PATH": os.pathsep.join(p for p in data_path if p)}
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
