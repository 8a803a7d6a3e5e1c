"""Integrity and secrecy: downloads are checked against their hashes; secrets never reach files, logs or errors."""

from __future__ import annotations

import logging

import pytest

from imagestudio_nb.cloud import clone, connect, pull, push, share
from imagestudio_nb.cloud.azurite import DEV_KEY
from imagestudio_nb.cloud.layout import ProjectLayout
from imagestudio_nb.errors import CredentialsError, DataError

from .conftest import make_project


def test_a_tampered_remote_asset_is_refused_and_nothing_is_written(cloud, machines):
    project = make_project("Tampered", machines[0], assets=3)
    push(project, cloud, progress=False)
    victim = project.assets.list()[1]
    name = ProjectLayout(cloud.prefix, project.id).asset(victim.hash, victim.extension)
    cloud.container.get_blob_client(name).upload_blob(b"not the picture you expect", overwrite=True)

    with pytest.raises(DataError, match=victim.hash[:12]):
        clone("Tampered", cloud, local_workspace=machines[1], progress=False)
    assert list(machines[1].iterdir()) == []


def test_a_tampered_remote_document_is_not_merged(cloud, machines):
    project = make_project("Edited remotely", machines[0], assets=1)
    push(project, cloud, progress=False)
    copy = clone("Edited remotely", cloud, local_workspace=machines[1], progress=False)
    copy.add_layer("paint", name="B")
    push(copy, cloud, progress=False)
    blob = cloud.container.get_blob_client(ProjectLayout(cloud.prefix, project.id).document)
    metadata = blob.get_blob_properties().metadata
    text = blob.download_blob().readall().replace(b'"B"', b'"Evil"')
    blob.upload_blob(text, overwrite=True, metadata=metadata)
    before = project.to_data()

    with pytest.raises(DataError, match="does not match"):
        pull(project, cloud, progress=False)
    assert project.to_data() == before


def test_a_corrupt_local_asset_is_not_uploaded(cloud, machines):
    project = make_project("Corrupt", machines[0], assets=2)
    path = project.assets.path(project.assets.list()[0].hash)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="does not match its SHA-256"):
        push(project, cloud, progress=False)


def _all_text(folder):
    return b"\n".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_secrets_stay_out_of_project_files_logs_and_errors(azurite, cloud, machines, caplog, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("AZURE_STORAGE_CONTAINER", cloud.container_name)
    caplog.set_level(logging.DEBUG)
    configured = connect(retry_total=0)  # from the environment, as a user would
    project = make_project("Secret", machines[0], assets=2)
    push(project, configured, progress=False)
    link = share(project, configured, expires_in=600)
    copy = clone("Secret", configured, local_workspace=machines[1], progress=False)

    signature = link.url.split("sig=", 1)[1].split("&", 1)[0]
    for folder in (project.path, copy.path):
        content = _all_text(folder)
        assert DEV_KEY.encode() not in content and b"AccountKey" not in content
        assert b"sig=" not in content
    assert DEV_KEY not in caplog.text and "AccountKey=" not in caplog.text and signature not in caplog.text
    assert DEV_KEY not in repr(configured)

    wrong = azurite.connection_string.replace(DEV_KEY, "d3JvbmcgdHdpY2Ugb3ZlciBhbmQgb3ZlciBhZ2Fpbg==")
    with pytest.raises(CredentialsError) as caught:
        connect(connection_string=wrong, container=cloud.container_name, retry_total=0)
    assert "d3JvbmcgdHdpY2Ug" not in str(caught.value) and "AccountKey" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_verify_repairs_a_tampered_asset_and_document_from_good_local_copies(cloud, machines):
    from imagestudio_nb.cloud import verify

    project = make_project("Repair", machines[0], assets=3)
    push(project, cloud, progress=False)
    copy = clone("Repair", cloud, local_workspace=machines[1], progress=False)
    copy.add_layer("paint", name="remote only")
    push(copy, cloud, progress=False)
    layout = ProjectLayout(cloud.prefix, project.id)
    victim = project.assets.list()[0]
    cloud.container.get_blob_client(layout.asset(victim.hash, victim.extension)).upload_blob(b"junk", overwrite=True)
    document = cloud.container.get_blob_client(layout.document)
    metadata = document.get_blob_properties().metadata
    document.upload_blob(document.download_blob().readall() + b" ", overwrite=True, metadata=metadata)

    assert verify(project, cloud, repair=False)["corrupt"] == [layout.asset(victim.hash, victim.extension)]
    report = verify(project, cloud)
    assert report["repaired"] == [layout.asset(victim.hash, victim.extension)] and report["document"] == "repaired"
    assert "remote only" in [layer["name"] for layer in project.layers()]  # the intact remote state was merged
    again = verify(project, cloud, repair=False)
    assert (again["corrupt"], again["unrepairable"], again["document"]) == ([], [], "ok")
    third = clone("Repair", cloud, local_workspace=machines[0] / "third", progress=False)
    assert third.to_data() == project.to_data()
