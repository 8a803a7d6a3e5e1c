"""``imagestudio lab`` starts a real JupyterLab whose settings are the package's, seen from outside.

The checks read what the running server shows: its log (the extensions it loaded, when the room saved
the file), where its room store wrote, and which address its socket listens on. The same checks run
against a stock ``jupyter lab`` and must fail there, or they would prove nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from pycrdt import Array

from imagestudio_nb.cli.lab_cmd import COLLABORATION_SETTINGS, ystore_path
from imagestudio_nb.collab import join_project_room
from imagestudio_nb.project import Project
from imagestudio_nb.project.document import layer_to_y, new_layer
from tests.collab.conftest import run_in_thread
from tests.servers import start_jupyter_lab

pytestmark = pytest.mark.slow

IMAGESTUDIO = Path(sys.executable).with_name("imagestudio")
SAVE_DELAY = COLLABORATION_SETTINGS["YDocExtension.document_save_delay"]


def _jupyter_env(folder: Path) -> dict[str, str]:
    return {**os.environ, "JUPYTER_CONFIG_DIR": str(folder / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(folder / "jupyter-runtime")}


def start_imagestudio_lab(root: Path, token: str):
    """``imagestudio lab ROOT --port 0``; returns (process, url, log path) once the server answers."""
    log = root.parent / "imagestudio-lab.log"
    handle = open(log, "wb")
    process = subprocess.Popen([str(IMAGESTUDIO), "lab", str(root), "--port", "0", "--no-browser",
                                f"--IdentityProvider.token={token}"], stdout=handle, stderr=subprocess.STDOUT,
                               env=_jupyter_env(root.parent), cwd=root.parent)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"imagestudio lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        found = re.search(r"http://127\.0\.0\.1:(\d+)/lab", log.read_text(errors="replace"))
        if found:
            url = f"http://127.0.0.1:{found.group(1)}"
            try:
                request = urllib.request.Request(f"{url}/api/status", headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(request, timeout=2):
                    return process, url, log
            except OSError:
                pass
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"imagestudio lab did not answer within 90 s:\n{log.read_text()[-3000:]}")


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as the kernel writes them) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def _save_after_last_edit(url: str, token: str, root: Path, log: Path) -> float:
    """Seconds between a room client's last edit and the server's next save of the room's file."""
    project = Project.create(f"Settings{secrets.token_hex(3)}", workspace=root)
    project.close()
    path = f"{project.path.name}/project.isproj"
    saves_before = log.read_text(errors="replace").count("Saving the content from room")

    async def edit() -> float:
        async with join_project_room(url, path, token=token) as doc:
            await asyncio.sleep(SAVE_DELAY * 2)  # the room's own first save (if any) is behind us
            layers = doc.get("layers", type=Array)
            for i in range(3):
                await asyncio.sleep(0.05)
                layers.append(layer_to_y(new_layer("paint", name=f"edit-{i}")))
            last_edit = datetime.now()  # the update leaves after this: the server's wait starts later still
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                saves = re.findall(r"\[I (\S+ \S+) ServerApp\] Saving the content from room",
                                   log.read_text(errors="replace"))
                later = [datetime.fromisoformat(stamp) for stamp in saves[saves_before:]
                         if datetime.fromisoformat(stamp) > last_edit]
                if later:
                    return (later[0] - last_edit).total_seconds()
                await asyncio.sleep(0.1)
            raise AssertionError("the room never saved its file after the edits")

    waited = run_in_thread(edit)
    names = [layer["name"] for layer in Project.open(project.path).layers()]
    assert names == ["edit-0", "edit-1", "edit-2"]
    return waited


def observed_settings(url: str, token: str, root: Path, log: Path) -> dict[str, object]:
    """What the running server shows of the package's settings."""
    port = int(url.rsplit(":", 1)[1])
    save_wait = _save_after_last_edit(url, token, root, log)
    text = log.read_text(errors="replace")
    return {
        "collaboration": "jupyter_server_ydoc | extension was successfully loaded" in text,
        "nodelay": "websockets send without Nagle's delay (TCP_NODELAY)" in text,
        "roles": "project roles are enforced in .isproj rooms" in text,
        "save_wait": save_wait,
        "ystore_here": ystore_path(root).is_file() and ystore_path(root).stat().st_size > 0,
        "loopback_only": _listening_addresses(port) <= {"0100007F", "00000000000000000000000001000000"},
    }


def test_imagestudio_lab_starts_collaboration_with_the_package_settings(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    token = secrets.token_hex(16)
    process, url, log = start_imagestudio_lab(root, token)
    try:
        seen = observed_settings(url, token, root, log)
        print("imagestudio lab:", seen)
        assert seen["collaboration"] and seen["nodelay"] and seen["roles"], log.read_text()[-3000:]
        assert seen["save_wait"] >= SAVE_DELAY - 0.01, seen  # debounced by the package's delay, not stock 1 s
        assert seen["ystore_here"] and seen["loopback_only"], seen
        assert token not in log.read_text()  # Jupyter prints the URL with `token=...`, never the token
    finally:
        process.terminate()
        assert process.wait(30) is not None


def test_the_same_checks_fail_on_a_stock_jupyter_lab(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_jupyter_lab(root, extra_args=["--ServerApp.jpserver_extensions",
                                                 "imagestudio_nb.widgets.server=False"])
    try:
        seen = observed_settings(server.url, server.token, root, server.log)
    finally:
        server.stop()
    print("stock jupyter lab:", seen)
    assert seen["collaboration"] and seen["roles"]  # installed with the package, as in any lab
    assert not seen["nodelay"] and not seen["ystore_here"], seen
    assert seen["save_wait"] < SAVE_DELAY - 0.01, seen  # stock saves 1 s after the last change


def _environment_without(tmp_path: Path, left_out: set[str]) -> Path:
    """A site folder holding links to everything this environment has installed but ``left_out``."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    folder = tmp_path / "site"
    folder.mkdir()
    for entry in site.iterdir():
        top = entry.name.split("-")[0].split(".")[0].lower()
        if top not in left_out and not entry.name.endswith(".pth"):
            (folder / entry.name).symlink_to(entry)
    return folder


def test_imagestudio_lab_without_the_lab_extra_says_how_to_install_it(tmp_path):
    site = _environment_without(tmp_path, {"jupyterlab", "jupyter_collaboration", "jupyter_server_ydoc"})
    repository = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-S", "-c", "from imagestudio_nb.cli import main; main()",
                           "lab", str(tmp_path), "--no-browser"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(repository), str(site)])})
    assert done.returncode == 4, done.stderr[-2000:]  # ConfigError
    assert "error (ConfigError)" in done.stderr and "jupyter-collaboration" in done.stderr
    assert "jupyterlab" in done.stderr and "imagestudio_nb[lab]" in done.stderr
    assert "Traceback" not in done.stderr


def test_imagestudio_lab_refuses_a_missing_path_and_a_file_outside_its_root(tmp_path):
    missing = subprocess.run([str(IMAGESTUDIO), "lab", str(tmp_path / "nowhere")], capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "a").mkdir()
    (tmp_path / "b.ipynb").write_text("{}")
    outside = subprocess.run([str(IMAGESTUDIO), "lab", str(tmp_path / "b.ipynb"), "--root", str(tmp_path / "a")],
                             capture_output=True, text=True, timeout=60)
    assert outside.returncode == 2 and "outside the server's root" in outside.stderr
