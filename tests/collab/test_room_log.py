"""Inside a collaborative JupyterLab the server's document is one more writer on the project's update log.

A real JupyterLab with jupyter-collaboration, a Y client in the room (pycrdt's websocket provider, the
same protocol the browser's y-websocket speaks) and a separate Python process editing the same project
through the log at the same time: nothing is lost on either side, and nothing is doubled.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time

import pytest
from pycrdt import Array

from imagestudio_nb.collab import join_project_room
from imagestudio_nb.project import Project
from imagestudio_nb.project.document import layer_to_y, new_layer
from imagestudio_nb.project.ylog import UpdateLog
from tests.collab.conftest import run_in_thread

pytestmark = pytest.mark.slow




def _run(coroutine_function):
    return run_in_thread(coroutine_function, 180)


def _names(layers) -> list[str]:
    return [layer["name"] for layer in layers]


def _read_json(document):
    """The file's JSON; jupyter_server writes in place, so a read can catch it half-written: read again."""
    for _ in range(50):
        try:
            return json.loads(document.read_text())
        except json.JSONDecodeError:
            time.sleep(0.05)
    return json.loads(document.read_text())


def _kernel_like_writer(folder, count: int, pause: float) -> subprocess.Popen:
    script = textwrap.dedent(f"""
        import time
        from imagestudio_nb.project import Project
        p = Project.open({str(folder)!r})
        for i in range({count}):
            p.add_layer("paint", name=f"kernel-{{i}}")
            print("ack", i, flush=True)
            time.sleep({pause})
    """)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**__import__("os").environ, "IMAGESTUDIO_ORIGIN": "kernel"})


def test_room_and_a_kernel_process_edit_at_once_and_nothing_is_lost(lab):
    project = Project.create("Both", workspace=lab.root)
    project.add_layer("paint", name="base")
    project.close()
    arrival: dict[str, float] = {}

    async def edit_in_room():
        async with join_project_room(lab.url, "Both/project.isproj", token=lab.token) as doc:
            layers = doc.get("layers", type=Array)
            deadline = time.monotonic() + 30
            while _names(layers) != ["base"] and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert _names(layers) == ["base"]
            writer = _kernel_like_writer(project.path, 10, 0.15)
            started = time.monotonic()
            for i in range(10):
                layers.append(layer_to_y(new_layer("text", name=f"room-{i}")))
                await asyncio.sleep(0.12)
            # Every kernel layer arrives in the room, pushed by the server from the log.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                names = _names(layers)
                for name in names:
                    arrival.setdefault(name, time.monotonic() - started)
                if sum(n.startswith("kernel-") for n in names) == 10:
                    break
                await asyncio.sleep(0.05)
            out, _ = writer.communicate(timeout=60)
            assert writer.returncode == 0 and out.count("ack") == 10
            await asyncio.sleep(0.5)  # let the room's last updates leave
            return _names(layers)

    in_room = _run(edit_in_room)
    expected = {"base"} | {f"room-{i}" for i in range(10)} | {f"kernel-{i}" for i in range(10)}
    assert sorted(in_room) == sorted(expected) and len(in_room) == 21

    # A fresh process reading the log sees the same 21 layers, each once.
    check = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import json
        from imagestudio_nb.project import Project
        print(json.dumps([l["name"] for l in Project.open({str(project.path)!r}).layers()]))
    """)], capture_output=True, text=True, check=True, timeout=120)
    from_log = json.loads(check.stdout)
    assert sorted(from_log) == sorted(expected) and len(from_log) == 21
    # The room's updates are in the log as the room's, the kernel's as the kernel's.
    log = UpdateLog(project.path)
    origins = {row.origin for row in log.rows()}
    assert {"room", "kernel"} <= origins, origins
    assert log.room_holder() is not None  # the server holds the room: kernels leave the JSON to it
    log.close()
    # The server writes the file with all of it.
    document = project.path / "project.isproj"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        on_disk = _names(_read_json(document)["layers"])
        if sorted(on_disk) == sorted(expected):
            break
        time.sleep(0.2)
    assert sorted(on_disk) == sorted(expected)


def test_a_file_changed_on_disk_is_merged_and_clients_keep_editing(lab):
    project = Project.create("HandEdit", workspace=lab.root)
    keep = project.add_layer("paint", name="keep")
    renamed = project.add_layer("paint", name="old name")
    project.close()
    document = project.path / "project.isproj"

    async def scenario():
        async with join_project_room(lab.url, "HandEdit/project.isproj", token=lab.token) as doc:
            layers = doc.get("layers", type=Array)
            deadline = time.monotonic() + 30
            while len(layers) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            held = layers[0]  # a Y item this client holds: a clear-and-refill would kill it
            # Someone edits the file by hand while the room is open.
            data = _read_json(document)
            for layer in data["layers"]:
                if layer["id"] == renamed:
                    layer["name"] = "new name"
            document.write_text(json.dumps(data, indent=1))
            deadline = time.monotonic() + 30
            while "new name" not in _names(layers) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            names_after_edit = _names(layers)
            # The client's old item still works: its edit reaches the server and the file.
            held["name"] = "kept and renamed by the client"
            await asyncio.sleep(1.0)
            return names_after_edit

    names_after_edit = _run(scenario)
    assert names_after_edit == ["keep", "new name"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        layers = {layer["id"]: layer["name"] for layer in _read_json(document)["layers"]}
        if layers.get(keep) == "kept and renamed by the client":
            break
        time.sleep(0.2)
    assert layers == {keep: "kept and renamed by the client", renamed: "new name"}
    reopened = Project.open(project.path)
    assert {layer["id"]: layer["name"] for layer in reopened.layers()} == layers
