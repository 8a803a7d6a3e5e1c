"""The Studio tab's HTTP backend (imagestudio_nb/collab/studio_api.py) on a real multi-user JupyterLab.

It answers the canvas's widget messages through the Python Canvas's own handlers; roles are enforced on
the server (viewers and commenters read, their calls are refused with 403); nothing outside a project
folder under the server root is ever read.
"""

from __future__ import annotations

import io
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagestudio_nb.collab.studio_api import pack, unpack
from imagestudio_nb.project import Project
from tests.collab.conftest import USERS
from tests.servers import start_jupyter_lab

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LAB_EXTENSION = REPO / "labextension" / "lab" / "dist"


def start_studio_lab(tmp_path_factory, name: str, extra: list[str] = ()):
    """A multi-user JupyterLab (tokens per user, "eve" read-only) with the package's server extensions
    enabled in its own config and the freshly built lab extension first on its JUPYTER_PATH."""
    if not (LAB_EXTENSION / "package.json").is_file():
        raise RuntimeError(f"{LAB_EXTENSION} is not built: run `make install` (or `npm --prefix labextension/lab "
                           "install && npm --prefix labextension/lab run build`)")
    base = tmp_path_factory.mktemp(name)
    root = base / "root"
    root.mkdir()
    data = base / "jupyter-data" / "labextensions"
    data.mkdir(parents=True)
    (data / "imagestudio-nb-lab").symlink_to(LAB_EXTENSION, target_is_directory=True)
    config = base / "jupyter-config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": {
        "imagestudio_nb.collab.studio_api": True, "imagestudio_nb.collab.enforce": True,
        "imagestudio_nb.widgets.server": True}}}))
    patch = pytest.MonkeyPatch()
    patch.setenv("IMAGESTUDIO_TEST_USERS", json.dumps({token: user for user, token in USERS.items()}))
    patch.setenv("IMAGESTUDIO_TEST_READONLY", "eve")
    patch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    patch.setenv("JUPYTER_PATH", str(base / "jupyter-data"))
    try:
        server = start_jupyter_lab(root, extra_args=[
            "--ServerApp.identity_provider_class=tests.collab.identities.TokenPerUser",
            "--ServerApp.authorizer_class=tests.collab.identities.ReadOnlyUsers", *extra])
    except Exception:
        patch.undo()
        raise
    return server, patch


@pytest.fixture(scope="module")
def studio_lab(tmp_path_factory):
    server, patch = start_studio_lab(tmp_path_factory, "studio-api")
    yield server
    server.stop()
    patch.undo()


def post(lab, user: str | None, path: str, message: dict, buffers=()) -> tuple[int, dict, list[bytes]]:
    url = f"{lab.url}/imagestudio/studio?path={urllib.parse.quote(path)}"
    headers = {"Content-Type": "application/octet-stream"}
    if user:
        headers["Authorization"] = f"token {USERS[user]}"
    request = urllib.request.Request(url, data=pack(message, list(buffers)), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            status, body = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    try:
        reply_message, out = unpack(body)
    except Exception:
        reply_message, out = {"raw": body[:200].decode("utf-8", "replace")}, []
    return status, reply_message, out


def png(color=(200, 40, 40), size=(16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0], 3), color, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def project(studio_lab):
    patch = pytest.MonkeyPatch()
    patch.setenv("IMAGESTUDIO_USER", "ana")
    try:
        p = Project.create("ApiRoles", workspace=studio_lab.root, width=64, height=48)
        asset = p.assets.add(png(), source="test")
        image = p.add_layer("image", name="photo", asset=asset.hash)
        p.set_role("bo", "viewer")
        p.set_role("cy", "commenter")
        p.close()
    finally:
        patch.undo()
    return {"path": "ApiRoles/project.isproj", "folder": p.path, "asset": asset.hash, "image": image}


def layer_names(folder: Path) -> list[str]:
    """The layers as the project's log has them (read fresh, then closed: a test may open it as someone else)."""
    project = Project.open(folder)
    try:
        return [layer["name"] for layer in project.layers()]
    finally:
        project.close()


def test_every_role_reads_assets_and_rasters(studio_lab, project):
    for user in ("ana", "bo", "cy", "dee", "eve"):
        status, reply, buffers = post(studio_lab, user, project["path"], {"type": "asset", "hash": project["asset"]})
        assert status == 200, reply
        assert buffers == [png()] and reply["mime"] == "image/png"
    status, reply, buffers = post(studio_lab, "bo", project["path"], {"type": "layer-raster", "layer": project["image"]})
    assert status == 200 and reply["mime"] and len(buffers) == 1 and buffers[0]


def test_the_server_tells_each_caller_the_role_it_enforces(studio_lab, project):
    expected = {"ana": ("owner", True), "bo": ("viewer", False), "cy": ("commenter", False),
                "dee": ("editor", True), "eve": ("viewer", False)}  # eve: Jupyter denies her "write"
    for user, (role, writes) in expected.items():
        status, reply, _ = post(studio_lab, user, project["path"], {"type": "role"})
        assert status == 200 and reply["result"] == {"role": role, "username": user, "writes": writes}, reply


def test_viewers_and_commenters_calls_are_refused_and_change_nothing(studio_lab, project):
    before = layer_names(project["folder"])
    for user, role in (("bo", "viewer"), ("cy", "commenter")):
        status, reply, _ = post(studio_lab, user, project["path"],
                                {"type": "call", "method": "add_layer", "args": {"kind": "paint", "name": f"by {user}"}})
        assert status == 403, reply
        assert role in reply["error"] and "editor role" in reply["error"]
        status, reply, _ = post(studio_lab, user, project["path"],
                                {"type": "call", "method": "remove_layer", "args": {"layer_id": project["image"]}})
        assert status == 403, reply
    assert layer_names(project["folder"]) == before


def test_a_user_the_server_denies_write_is_refused_whatever_the_document_says(studio_lab, project):
    # "eve" has no role in the document (so "editor" by default), but Jupyter's authorizer denies her "write".
    status, reply, _ = post(studio_lab, "eve", project["path"],
                            {"type": "call", "method": "add_layer", "args": {"kind": "paint", "name": "by eve"}})
    assert status == 403 and "viewer" in reply["error"]
    assert "by eve" not in layer_names(project["folder"])


def test_an_editor_calls_the_canvas_and_the_change_reaches_the_log(studio_lab, project):
    status, reply, _ = post(studio_lab, "dee", project["path"],
                            {"type": "call", "method": "add_layer", "args": {"kind": "paint", "name": "by dee"},
                             "view": "view-dee"})
    assert status == 200, reply
    layer_id = reply["result"]
    reopened = Project.open(project["folder"])
    assert [l["id"] for l in reopened.layers() if l["name"] == "by dee"] == [layer_id]
    reopened.close()
    # The canvas's own validation answers as it would in a kernel: a clear message, not a traceback.
    status, reply, _ = post(studio_lab, "dee", project["path"],
                            {"type": "call", "method": "add_layer", "args": {"kind": "sculpture"}})
    assert status == 400 and "sculpture" in reply["error"]
    status, reply, _ = post(studio_lab, "dee", project["path"], {"type": "call", "method": "__init__", "args": {}})
    assert status == 400 and "no action" in reply["error"]


def test_an_editors_upload_travels_as_a_binary_buffer_and_becomes_a_layer(studio_lab, project):
    picture = png((10, 120, 200), (24, 20))
    status, reply, _ = post(studio_lab, "ana", project["path"],
                            {"type": "call", "method": "add_image_file", "args": {"name": "sky.png"}}, [picture])
    assert status == 200, reply
    status, reply, buffers = post(studio_lab, "bo", project["path"], {"type": "layer-raster", "layer": reply["result"]})
    assert status == 200 and buffers and reply["mime"]
    opened = Project.open(project["folder"])
    layer = next(l for l in opened.layers() if l["name"] == "sky")
    opened.close()
    status, reply, buffers = post(studio_lab, "bo", project["path"], {"type": "asset", "hash": layer["asset"]})
    assert status == 200 and buffers == [picture]
    status, reply, buffers = post(studio_lab, "bo", project["path"], {"type": "layer-raster", "layer": "l_missing"})
    assert status in (400, 404) and buffers == [] and "l_missing" in reply["error"]


def test_export_renders_with_python_for_editors_and_writes_nothing_for_viewers(studio_lab, project):
    exports = project["folder"] / "exports"
    status, reply, _ = post(studio_lab, "bo", project["path"], {"type": "call", "method": "export", "args": {}})
    assert status == 403 and not exports.exists()  # an export writes into the project folder
    status, reply, buffers = post(studio_lab, "ana", project["path"],
                                  {"type": "call", "method": "export", "args": {"format": "png"}})
    assert status == 200 and reply["result"]["mime"] == "image/png"
    image = Image.open(io.BytesIO(buffers[0]))
    assert image.size == (64, 48) and (exports / reply["result"]["filename"]).read_bytes() == buffers[0]


def test_a_role_changed_after_the_first_call_is_enforced_at_once(studio_lab, project, monkeypatch):
    status, _, _ = post(studio_lab, "cy", project["path"], {"type": "asset", "hash": project["asset"]})
    assert status == 200
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    p = Project.open(project["folder"])
    p.set_role("dee", "viewer")
    p.close()
    status, reply, _ = post(studio_lab, "dee", project["path"],
                            {"type": "call", "method": "add_layer", "args": {"kind": "paint", "name": "late"}})
    assert status == 403 and "viewer" in reply["error"]
    p = Project.open(project["folder"])
    p.set_role("dee", None)
    p.close()
    assert "late" not in layer_names(project["folder"])


def test_paths_outside_the_root_or_not_a_project_are_refused(studio_lab, project, tmp_path):
    outside = tmp_path / "Secret"
    outside.mkdir()
    (outside / "project.isproj").write_text("{}")
    (outside / "assets").mkdir()
    (studio_lab.root / "Linked").symlink_to(outside, target_is_directory=True)
    (studio_lab.root / "notes.txt").write_text("not a project")
    asset = {"type": "asset", "hash": project["asset"]}
    cases = {
        "../" * 6 + str(outside)[1:] + "/project.isproj": 403,   # climbs out of the root
        "Linked/project.isproj": 403,                          # a symlink out of the root
        str(outside / "project.isproj"): 400,                  # absolute paths are not accepted
        "notes.txt": 400,                                      # not a project document
        "Missing/project.isproj": 404,
    }
    for path, expected in cases.items():
        status, reply, buffers = post(studio_lab, "ana", path, asset)
        assert (status, buffers) == (expected, []), (path, reply)
        assert reply.get("error")
    # An asset reference that tries to name a file is not a hash: nothing is read.
    for ref in ("../../project.isproj", "../" * 8 + "etc/passwd", "/etc/passwd"):
        status, reply, buffers = post(studio_lab, "ana", project["path"], {"type": "asset", "hash": ref})
        assert status in (400, 404) and buffers == [], (ref, reply)


def test_messages_the_tab_must_not_send_and_strangers_are_refused(studio_lab, project):
    for kind in ("y-update", "y-sync", "awareness", "reply"):
        status, reply, _ = post(studio_lab, "ana", project["path"], {"type": kind})
        assert status == 400 and "may send" in reply["error"]
    status, reply, _ = post(studio_lab, None, project["path"], {"type": "asset", "hash": project["asset"]})
    assert status == 403 and "raw" in reply  # Jupyter's own refusal: no token, no answer from the canvas
    request = urllib.request.Request(f"{studio_lab.url}/imagestudio/studio?path={project['path']}", data=b"\x00\x00",
                                     method="POST", headers={"Authorization": f"token {USERS['ana']}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400 and b"not a Studio message frame" in refused.value.read()


def test_the_widget_bundle_is_served_to_tabs_and_nothing_else(studio_lab):
    headers = {"Authorization": f"token {USERS['bo']}"}
    with urllib.request.urlopen(urllib.request.Request(f"{studio_lab.url}/imagestudio/static/canvas.js",
                                                       headers=headers), timeout=30) as reply:
        assert reply.headers["Content-Type"].startswith("text/javascript")
        assert reply.read() == (REPO / "imagestudio_nb" / "widgets" / "static" / "canvas.js").read_bytes()
    for name in ("gallery.js", "secret.css", "..%2F_base.py"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"{studio_lab.url}/imagestudio/static/{name}",
                                                          headers=headers), timeout=30)
        assert refused.value.code == 404


def test_a_call_is_made_as_the_person_who_asked_not_as_the_server(studio_lab, monkeypatch):
    """Everyone but ana and bo is a viewer here: the server process's own user would be refused, and the log
    must name who made each change."""
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    p = Project.create("AsCaller", workspace=studio_lab.root, width=32, height=32)
    p.set_role("*", "viewer")
    p.set_role("bo", "editor")
    p.close()
    monkeypatch.delenv("IMAGESTUDIO_USER")
    for user in ("bo", "ana"):
        status, reply, _ = post(studio_lab, user, "AsCaller/project.isproj",
                                {"type": "call", "method": "add_layer", "args": {"kind": "paint", "name": f"by {user}"}})
        assert status == 200, reply
    status, reply, _ = post(studio_lab, "dee", "AsCaller/project.isproj",
                            {"type": "call", "method": "add_layer", "args": {"kind": "paint", "name": "by dee"}})
    assert status == 403 and "viewer" in reply["error"]
    reopened = Project.open(p.path)
    try:
        rows = [row for row in reopened.log.rows() if row.origin != "create"]
        assert [row.user for row in rows][-2:] == ["bo", "ana"]
        assert [l["name"] for l in reopened.layers()] == ["by bo", "by ana"]
    finally:
        reopened.close()


def test_a_calls_changes_come_back_to_the_view_that_asked_so_its_undo_covers_them(studio_lab, project):
    """The tab applies these with its own origin (its Y UndoManager tracks it); other views get them from the room."""
    from pycrdt import Array, Doc

    before = Project.open(project["folder"])
    state = before.doc.get_update()
    before.close()
    status, reply, buffers = post(studio_lab, "dee", project["path"],
                                  {"type": "call", "method": "add_layer", "args": {"kind": "paint", "name": "dee's own"},
                                   "view": "view-of-dee"})
    assert status == 200 and reply["updates"] >= 1 and len(buffers) == reply["updates"], reply
    doc = Doc()
    doc.apply_update(state)
    for update in buffers:
        doc.apply_update(update)
    assert "dee's own" in [layer["name"] for layer in doc.get("layers", type=Array).to_py()]
    # Without a view (or for another view's changes) nothing comes back: they are not the caller's to undo.
    status, reply, buffers = post(studio_lab, "dee", project["path"],
                                  {"type": "call", "method": "add_layer", "args": {"kind": "paint", "name": "no view"}})
    assert status == 200 and "updates" not in reply and buffers == []
