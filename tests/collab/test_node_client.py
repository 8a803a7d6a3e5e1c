"""A plain Yjs client in node (yjs + y-websocket: nobody here wrote it) in an isproj room.

The server-side document is one more writer on the project's update log: the node client and a Python
process writing through the log edit at once and nothing is lost; a viewer's node client is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from imagestudio_nb.collab import open_collaboration_session
from imagestudio_nb.project import Project
from tests.collab.conftest import USERS

pytestmark = pytest.mark.slow


def _node(client, lab, path, user, script, *, timeout=120):
    session = open_collaboration_session(lab.url, path, token=USERS["ana"])
    base = lab.url.replace("http://", "ws://") + "/api/collaboration/room"
    done = subprocess.run(["node", str(client), base, session.room, session.session_id, USERS[user],
                           json.dumps(script)], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_node_client_and_a_python_process_edit_at_once_and_nothing_is_lost(multiuser_lab, node_client,
                                                                              monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    project = Project.create("NodeAndKernel", workspace=multiuser_lab.root)
    project.add_layer("paint", name="base")
    project.close()
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from imagestudio_nb.project import Project
        time.sleep(2.0)  # the node client is in the room by then
        p = Project.open({str(project.path)!r})
        for i in range(10):
            p.add_layer("paint", name=f"kernel-{{i}}")
            time.sleep(0.1)
    """)], env={**os.environ, "IMAGESTUDIO_USER": "ana"})
    kernel_names = [f"kernel-{i}" for i in range(10)]
    node_names = [f"node-{i}" for i in range(10)]
    seen = _node(node_client, multiuser_lab, "NodeAndKernel/project.isproj", "dee",
                 {"add": node_names, "pause_ms": 150, "wait_for": kernel_names, "timeout_ms": 60000})
    assert writer.wait(timeout=120) == 0
    expected = sorted(["base", *kernel_names, *node_names])
    assert sorted(seen["names"]) == expected and seen["denials"] == []
    reopened = Project.open(project.path)
    assert sorted(layer["name"] for layer in reopened.layers()) == expected  # each exactly once
    print("kernel layers reached the node client after (ms from its first edit):",
          [seen["arrivals"][name] for name in kernel_names])


def test_a_viewers_node_client_is_refused_and_changes_nothing(multiuser_lab, node_client, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    project = Project.create("NodeViewer", workspace=multiuser_lab.root)
    project.add_layer("paint", name="base")
    project.set_role("bo", "viewer")
    project.close()
    refused = _node(node_client, multiuser_lab, "NodeViewer/project.isproj", "bo", {"add": ["by viewer"]})
    assert refused["denials"] and "viewer" in refused["denials"][0]
    allowed = _node(node_client, multiuser_lab, "NodeViewer/project.isproj", "dee", {"add": ["by editor"]})
    assert allowed["denials"] == [] and "by viewer" not in allowed["names"]
    assert [layer["name"] for layer in Project.open(project.path).layers()] == ["base", "by editor"]
