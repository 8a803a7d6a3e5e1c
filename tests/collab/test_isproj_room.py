"""The jupyter-collaboration contract: a real JupyterLab serves .isproj files as the `isproj` document type."""

from __future__ import annotations

import asyncio
import time

import pytest
from pycrdt import Array, Map

from imagestudio_nb.collab import join_project_room, open_collaboration_session
from imagestudio_nb.project import Project
from imagestudio_nb.project.document import layer_to_y, new_layer
from tests.collab.conftest import run_in_thread

pytestmark = pytest.mark.slow




def _run(coroutine_function):
    return run_in_thread(coroutine_function, 120)


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_session_uses_the_isproj_room(lab):
    Project.create("RoomName", workspace=lab.root)
    session = open_collaboration_session(lab.url, "RoomName/project.isproj", token=lab.token)
    assert session.room == f"text:isproj:{session.file_id}"


def test_python_client_edit_is_written_back_to_the_file(lab):
    project = Project.create("Shared", workspace=lab.root, width=640, height=480)
    project.add_layer("paint", name="Before")
    project.save()  # the server reads the file: put the change on disk now, not after the autosave delay

    async def edit_in_room():
        async with join_project_room(lab.url, "Shared/project.isproj", token=lab.token) as doc:
            layers = doc.get("layers", type=Array)
            assert [layer["name"] for layer in layers] == ["Before"]  # the server loaded the file
            assert doc.get("meta", type=Map)["name"] == "Shared"
            layers.append(layer_to_y(new_layer("text", name="From Python", text={"content": "hi"})))
            await asyncio.sleep(0.5)  # let the update leave before the connection closes

    _run(edit_in_room)
    document = project.path / "project.isproj"
    assert _wait_for(lambda: "From Python" in document.read_text()), document.read_text()[:2000]
    reopened = Project.open(project.path)
    assert [layer["name"] for layer in reopened.layers()] == ["Before", "From Python"]
    # The server wrote the same canonical format: integers stayed integers.
    assert reopened.canvas_size == (640, 480)
    assert '"width": 640' in document.read_text()
