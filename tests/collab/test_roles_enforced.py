"""Roles are enforced by the server: a viewer's or a commenter's forbidden edits reach neither the room
nor the file, and the client is told why; the Python API refuses the same edits.

A real JupyterLab with jupyter-collaboration and the package's server extension, several users (a token
each), Y clients in the room (pycrdt's websocket provider).
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from pycrdt import Array, Decoder, Doc, Map, Provider

from imagestudio_nb.collab.room import _WebsocketChannel, open_collaboration_session
from imagestudio_nb.errors import InvalidArgumentError, PermissionDeniedError
from imagestudio_nb.project import Project
from imagestudio_nb.project.document import layer_to_y, new_layer
from imagestudio_nb.project.ydoc import _client_ids
from tests.collab.conftest import USERS, run_in_thread

pytestmark = pytest.mark.slow

class _Recording(_WebsocketChannel):
    """A room channel that keeps the permission-denied messages the server sends."""

    def __init__(self, websocket, path):
        super().__init__(websocket, path)
        self.denials: list[str] = []

    async def recv(self) -> bytes:
        while True:
            message = await super().recv()
            if message[:2] == b"\x02\x00":
                decoder = Decoder(message[2:])
                self.denials.append(decoder.read_var_string())
                continue
            return message


async def _as_user(lab, path, user, action, *, settle=1.0):
    import anyio
    import websockets

    session = open_collaboration_session(lab.url, path, token=USERS["ana"])  # whoever may open sessions
    url = f"{lab.url.replace('http://', 'ws://')}/api/collaboration/room/{session.room}?sessionId={session.session_id}"
    doc = Doc()
    async with websockets.connect(url, additional_headers={"Authorization": f"token {USERS[user]}"},
                                  max_size=None) as websocket:
        channel = _Recording(websocket, session.room)
        async with Provider(doc, channel) as provider:
            with anyio.fail_after(30):
                await provider.synced.wait()
            action(doc)
            await asyncio.sleep(settle)
    return channel.denials


def _run(coroutine):
    return run_in_thread(lambda: coroutine)


def _file_layers(project):
    for _ in range(50):
        try:
            return [layer["name"] for layer in json.loads((project.path / "project.isproj").read_text())["layers"]]
        except json.JSONDecodeError:
            time.sleep(0.05)
    raise AssertionError("project.isproj stayed unreadable")


def test_roles_are_enforced_in_the_room_and_the_refused_client_is_told_why(multiuser_lab, monkeypatch):
    lab = multiuser_lab
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    project = Project.create("Team", workspace=lab.root)
    project.add_layer("paint", name="base")
    project.set_role("bo", "viewer")
    project.set_role("cy", "commenter")
    project.set_role("dee", "editor")
    project.close()
    path = "Team/project.isproj"

    def add_layer(name):
        return lambda doc: doc.get("layers", type=Array).append(layer_to_y(new_layer("paint", name=name)))

    def add_comment(doc):
        doc.get("comments", type=Array).append(Map({"id": "c_cy", "text": "nice", "author": "cy"}))

    def make_owner(who):
        return lambda doc: doc.get("roles", type=Map).__setitem__(who, "owner")

    viewer = _run(_as_user(lab, path, "bo", add_layer("by viewer")))
    commenter_layer = _run(_as_user(lab, path, "cy", add_layer("by commenter")))
    commenter_comment = _run(_as_user(lab, path, "cy", add_comment))
    editor_layer = _run(_as_user(lab, path, "dee", add_layer("by editor")))
    editor_roles = _run(_as_user(lab, path, "dee", make_owner("dee")))
    readonly = _run(_as_user(lab, path, "eve", add_layer("by read-only user")))  # no role: editor by default
    owner_roles = _run(_as_user(lab, path, "ana", make_owner("cy")))

    assert viewer and "viewer" in viewer[0]
    assert commenter_layer and "commenter" in commenter_layer[0]
    assert commenter_comment == [] and editor_layer == [] and owner_roles == []
    assert editor_roles and "only owners" in editor_roles[0]
    assert readonly and "viewer" in readonly[0]  # the Jupyter server denies eve "write"

    # A second client sees exactly the allowed changes, and so does the file.
    seen = {}

    def look(doc):
        seen["layers"] = [layer["name"] for layer in doc.get("layers", type=Array).to_py()]
        seen["comments"] = [c["text"] for c in doc.get("comments", type=Array).to_py()]
        seen["roles"] = doc.get("roles", type=Map).to_py()

    _run(_as_user(lab, path, "ana", look, settle=0.2))
    assert seen["layers"] == ["base", "by editor"]
    assert seen["comments"] == ["nice"]
    assert seen["roles"] == {"ana": "owner", "bo": "viewer", "cy": "owner", "dee": "editor"}
    deadline = time.monotonic() + 30
    while _file_layers(project) != ["base", "by editor"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _file_layers(project) == ["base", "by editor"]
    reopened = Project.open(project.path)
    assert [layer["name"] for layer in reopened.layers()] == ["base", "by editor"]


def test_the_python_api_refuses_the_same_edits(workspace, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    project = Project.create("Local")
    project.set_role("bo", "viewer")
    project.set_role("cy", "commenter")
    with pytest.raises(InvalidArgumentError, match="last owner"):
        project.set_role("ana", "editor")
    project.close()
    monkeypatch.setenv("IMAGESTUDIO_USER", "bo")
    as_viewer = Project.open("Local")
    with pytest.raises(PermissionDeniedError, match="viewer"):
        as_viewer.add_layer("paint")
    with pytest.raises(PermissionDeniedError, match="viewer"):
        as_viewer.add_comment("hello")
    as_viewer.close()
    monkeypatch.setenv("IMAGESTUDIO_USER", "cy")
    as_commenter = Project.open("Local")
    as_commenter.add_comment("a comment is fine")
    with pytest.raises(PermissionDeniedError, match="commenter"):
        as_commenter.add_layer("paint")
    with pytest.raises(PermissionDeniedError, match="commenter"):
        as_commenter.set_role("cy", "owner")
    assert [c["text"] for c in as_commenter.comments()] == ["a comment is fine"]
    assert as_commenter.layers() == []
    as_commenter.close()
    monkeypatch.setenv("IMAGESTUDIO_USER", "dee")  # not listed: an editor by default
    as_editor = Project.open("Local")
    as_editor.add_layer("paint", name="by editor")
    with pytest.raises(PermissionDeniedError, match="only owners"):
        as_editor.set_role("dee", "owner")
    assert as_editor.role() == "editor" and as_editor.roles() == {"ana": "owner", "bo": "viewer", "cy": "commenter"}


def test_the_cli_sets_roles_and_refuses_a_viewer_with_exit_code_11(workspace):
    import subprocess
    import sys

    def cli(user, *args):
        env = {**os.environ, "IMAGESTUDIO_USER": user}
        from pathlib import Path

        return subprocess.run([str(Path(sys.executable).with_name("imagestudio")), *args], capture_output=True, text=True,
                              env=env, timeout=120)

    assert cli("ana", "project", "create", "Cli").returncode == 0
    assert cli("ana", "project", "role", "Cli", "bo", "viewer").returncode == 0
    refused = cli("bo", "project", "checkpoint", "Cli", "v1")
    assert refused.returncode == 11
    assert refused.stderr.strip().splitlines() == [
        "error (PermissionDeniedError): 'bo' is a viewer of this project and cannot change it; "
        "ask an owner for the editor role"]
    shown = cli("bo", "project", "role", "Cli", "--json")
    assert json.loads(shown.stdout) == {"roles": {"ana": "owner", "bo": "viewer"}, "you": "viewer"}


def test_the_log_names_who_made_each_change_in_the_room(multiuser_lab):
    """The room appends its clients' changes to the project's log with the sender's name (timeline, audit)."""
    os.environ["IMAGESTUDIO_USER"] = "ana"
    try:
        project = Project.create("WhoDidIt", workspace=multiuser_lab.root)
        project.set_role("cy", "commenter")
        project.close()
    finally:
        del os.environ["IMAGESTUDIO_USER"]
    path = "WhoDidIt/project.isproj"

    def add(name):
        def action(doc):
            with doc.transaction():
                doc.get("layers", type=Array).append(layer_to_y(new_layer("paint", name=name)))
        return action

    def comment(doc):
        with doc.transaction():
            doc.get("comments", type=Array).append(Map({"id": "c_by_cy", "text": "nice", "author": "cy"}))

    run_in_thread(lambda: _as_user(multiuser_lab, path, "bo", add("by bo")))
    run_in_thread(lambda: _as_user(multiuser_lab, path, "ana", add("by ana")))
    run_in_thread(lambda: _as_user(multiuser_lab, path, "cy", comment))
    time.sleep(0.5)
    reopened = Project.open(multiuser_lab.root / "WhoDidIt")
    try:
        # Rows that add content carry the sender's client id; rows of deletions alone carry none (and no name).
        rooms = [(row.user, _client_ids(row.data)) for row in reopened.log.rows() if row.origin == "room"]
        assert [user for user, clients in rooms if clients] == ["bo", "ana", "cy"], rooms
        assert [l["name"] for l in reopened.layers()] == ["by bo", "by ana"]
    finally:
        reopened.close()
