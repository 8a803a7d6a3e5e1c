"""Faults: the storage stops in the middle of a sync, or is offline; nothing is lost, duplicated or half-written."""

from __future__ import annotations

import socket

import pytest
from azure.core.exceptions import ResourceNotFoundError

from imagestudio_nb.cloud import clone, connect, push, status
from imagestudio_nb.cloud.layout import ProjectLayout, sha256_hex
from imagestudio_nb.errors import CloudUnavailableError

from .conftest import make_project, remote_blobs


def _connect(server, container="faults"):
    return connect(connection_string=server.connection_string, container=container, retry_total=1,
                   retry_backoff=0.05, timeout=5, concurrency=4)


def _assert_sound(workspace, project):
    """Every asset exactly once under its final name, each matching its hash; nothing else stray."""
    blobs = remote_blobs(workspace)
    layout = ProjectLayout(workspace.prefix, project.id)
    assets = {name: data for name, data in blobs.items() if name.startswith(layout.assets)}
    expected = {layout.asset(info.hash, info.extension) for info in project.assets.list()}
    assert set(assets) == expected
    for name, data in blobs.items():
        if name.startswith((layout.assets, layout.states)):
            assert sha256_hex(data) == ProjectLayout.asset_hash(name), f"{name} holds other content than its name"
        else:
            assert name == layout.document, f"unexpected blob {name}"


@pytest.mark.parametrize("kill", [True, False], ids=["killed", "stopped"])
def test_sync_resumes_after_the_storage_dies_mid_push(private_azurite, machines, kill):
    project = make_project("Interrupted", machines[0], assets=24)
    workspace = _connect(private_azurite)

    def stop_after_eight(done, total, digest):
        if done == 8:
            private_azurite.stop(kill=kill)

    with pytest.raises(CloudUnavailableError, match="saved locally"):
        push(project, workspace, progress=stop_after_eight)
    assert len(project.assets.list()) == 24  # the local project is untouched
    private_azurite.start()  # same port, same data folder
    try:
        kept = len(list(workspace.container.list_blob_names(
            name_starts_with=ProjectLayout(workspace.prefix, project.id).assets)))
    except ResourceNotFoundError:  # a kill may lose Azurite's last metadata writes, the container included
        kept = 0
    assert kept >= 8 or kill

    result = push(project, workspace, progress=False)
    assert result.document_uploaded
    assert result.uploaded_assets == 24 - kept  # exactly what the storage lacked: nothing twice, nothing missed
    _assert_sound(workspace, project)
    copy = clone("Interrupted", workspace, local_workspace=machines[1], progress=False)
    assert copy.to_data() == project.to_data()
    assert push(project, workspace, progress=False).requests == 1  # the listing that checks the remote


def test_work_continues_offline_and_catches_up_on_reconnect(private_azurite, machines):
    project = make_project("Offline", machines[0], assets=2)
    workspace = _connect(private_azurite)
    push(project, workspace, progress=False)
    private_azurite.stop()

    layer = project.add_layer("paint", name="made offline")
    with pytest.raises(CloudUnavailableError):
        push(project, workspace, progress=False)
    assert status(project, workspace)["state"] == "offline"
    assert project.layer(layer)["name"] == "made offline"

    private_azurite.start()
    assert status(project, workspace)["state"] == "local changes"
    push(project, workspace, progress=False)
    assert status(project, workspace)["state"] == "in sync"
    copy = clone("Offline", workspace, local_workspace=machines[1], progress=False)
    assert "made offline" in [l["name"] for l in copy.layers()]


def test_an_interrupted_clone_leaves_no_project_behind(private_azurite, machines):
    project = make_project("Half clone", machines[0], assets=12)
    workspace = _connect(private_azurite)
    push(project, workspace, progress=False)

    def stop_after_three(done, total, digest):
        if done == 3:
            private_azurite.stop()  # (a kill within Azurite's 5 s autosave would also lose the pushed project)

    with pytest.raises(CloudUnavailableError):
        clone("Half clone", workspace, local_workspace=machines[1], progress=stop_after_three)
    assert list(machines[1].iterdir()) == []
    private_azurite.start()
    copy = clone("Half clone", workspace, local_workspace=machines[1], progress=False)
    assert copy.to_data() == project.to_data()


def test_a_truncated_upload_creates_no_blob(private_azurite):
    """The property the uploads rely on: a Put Blob whose body is cut short leaves nothing under the name."""
    workspace = _connect(private_azurite)
    blob = workspace.container.get_blob_client("projects/x/assets/" + "0" * 64 + ".png")
    request = blob.url.split(str(private_azurite.port), 1)[1]
    from azure.storage.blob import generate_blob_sas, BlobSasPermissions
    from datetime import datetime, timedelta, timezone

    from imagestudio_nb.cloud.azurite import DEV_ACCOUNT, DEV_KEY

    sas = generate_blob_sas(DEV_ACCOUNT, "faults", "projects/x/assets/" + "0" * 64 + ".png", account_key=DEV_KEY,
                            permission=BlobSasPermissions(create=True, write=True),
                            expiry=datetime.now(timezone.utc) + timedelta(minutes=5))
    with socket.create_connection(("127.0.0.1", private_azurite.port)) as sock:
        sock.sendall((f"PUT {request}?{sas} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-ms-blob-type: BlockBlob\r\n"
                      "x-ms-version: 2021-08-06\r\nIf-None-Match: *\r\nContent-Length: 100000\r\n\r\n").encode()
                     + b"x" * 40000)
    assert not blob.exists()
