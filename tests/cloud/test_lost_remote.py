"""A remote that lost the last push (document, container, one asset, an older copy put back, an emulator
restarted empty) is noticed by the next push from the remote's side and made whole again."""

from __future__ import annotations

import shutil

from imagestudio_nb.cloud import clone, connect, pull, push, status, verify
from imagestudio_nb.cloud.documents import read_remote
from imagestudio_nb.cloud.layout import ProjectLayout, sha256_hex

from .conftest import make_project, noise_png


def _assert_whole(workspace, project) -> None:
    """The cloud holds the project as it is locally: its document, its Y state and every asset, all verified."""
    layout = ProjectLayout(workspace.prefix, project.id)
    remote = read_remote(workspace, layout)
    assert remote is not None and remote.data == project.to_data()
    for info in project.assets.list():
        data = workspace.container.get_blob_client(layout.asset(info.hash, info.extension)).download_blob().readall()
        assert sha256_hex(data) == info.hash
    report = verify(project, workspace, repair=False)
    assert (report["corrupt"], report["document"]) == ([], "ok")


def _delete_document(workspace, project) -> None:
    blob = workspace.container.get_blob_client(ProjectLayout(workspace.prefix, project.id).document)
    blob.delete_blob(delete_snapshots="include")


def test_push_restores_a_deleted_document(cloud, machines):
    project = make_project("Doc gone", machines[0], assets=3)
    push(project, cloud, progress=False)
    _delete_document(cloud, project)
    assert status(project, cloud)["state"] == "remote lost"
    assert pull(project, cloud, progress=False).state == "remote lost"

    result = push(project, cloud, progress=False)
    assert result.remote_findings == ["the document is gone"]
    assert result.document_uploaded and result.uploaded_assets == 0  # the assets were still there
    _assert_whole(cloud, project)
    assert clone("Doc gone", cloud, local_workspace=machines[1], progress=False).to_data() == project.to_data()


def test_push_restores_a_project_someone_deleted_from_the_cloud(cloud, machines):
    project = make_project("Deleted", machines[0], assets=3)
    push(project, cloud, progress=False)
    for name in list(cloud.container.list_blob_names(name_starts_with=ProjectLayout(cloud.prefix, project.id).root)):
        cloud.container.delete_blob(name, delete_snapshots="include")

    result = push(project, cloud, progress=False)
    assert result.remote_findings == ["the document is gone"]
    assert result.document_uploaded and result.uploaded_assets == 3
    _assert_whole(cloud, project)


def test_push_restores_a_deleted_container(cloud, machines):
    project = make_project("Container gone", machines[0], assets=3)
    push(project, cloud, progress=False)
    cloud.container.delete_container()

    result = push(project, cloud, progress=False)
    assert result.remote_findings == ["the container is gone"]
    assert result.document_uploaded and result.uploaded_assets == 3
    _assert_whole(cloud, project)


def test_push_sends_again_an_asset_the_remote_lost(cloud, machines):
    project = make_project("Asset gone", machines[0], assets=4)
    push(project, cloud, progress=False)
    victim = project.assets.list()[1]
    cloud.container.delete_blob(ProjectLayout(cloud.prefix, project.id).asset(victim.hash, victim.extension))

    result = push(project, cloud, progress=False)
    assert result.remote_findings == ["1 assets were missing"]
    assert result.uploaded_assets == 1 and not result.document_uploaded  # the document was as pushed
    _assert_whole(cloud, project)
    assert push(project, cloud, progress=False).remote_findings == []


def test_push_restores_the_last_push_when_an_older_copy_was_put_back(cloud, machines):
    project = make_project("Rolled back", machines[0], assets=2)
    push(project, cloud, progress=False)
    blob = cloud.container.get_blob_client(ProjectLayout(cloud.prefix, project.id).document)
    older, older_metadata = blob.download_blob().readall(), blob.get_blob_properties().metadata
    info = project.assets.add(noise_png(42))
    project.add_layer("image", asset=info.hash, name="only in the last push")
    push(project, cloud, progress=False)
    blob.upload_blob(older, overwrite=True, metadata=older_metadata)  # as a restore from an old backup would
    cloud.container.delete_blob(ProjectLayout(cloud.prefix, project.id).asset(info.hash, info.extension))

    result = push(project, cloud, progress=False)  # nothing changed locally: the record alone would say "in sync"
    assert result.remote_findings == ["the document is not the one last pushed (another push, or an older copy put back)"]
    assert result.document_uploaded and result.uploaded_assets == 1
    _assert_whole(cloud, project)
    assert "only in the last push" in [layer["name"] for layer in project.layers()]


def test_push_refills_an_emulator_restarted_without_its_data(private_azurite, machines):
    workspace = connect(connection_string=private_azurite.connection_string, container="restarted",
                        retry_total=1, retry_backoff=0.05, timeout=10)
    project = make_project("Restarted", machines[0], assets=3)
    push(project, workspace, progress=False)
    private_azurite.stop()
    shutil.rmtree(private_azurite.location)
    private_azurite.start()  # same port, empty data folder

    result = push(project, workspace, progress=False)
    assert result.remote_findings == ["the container is gone"] and result.uploaded_assets == 3
    _assert_whole(workspace, project)


def test_a_push_with_a_stale_record_is_detected(cloud, machines):
    mine = make_project("Stale record", machines[0], assets=1)
    push(mine, cloud, progress=False)
    theirs = clone("Stale record", cloud, local_workspace=machines[1], progress=False)
    theirs.add_layer("paint", name="pushed elsewhere")
    push(theirs, cloud, progress=False)
    # Nothing changed on this machine and its record matches its document: only the remote shows it is stale.
    result = push(mine, cloud, progress=False)
    assert result.remote_findings == ["the document is not the one last pushed (another push, or an older copy put back)"]
    assert result.merged_remote and not result.document_uploaded  # the remote already held everything
    assert "pushed elsewhere" in [layer["name"] for layer in mine.layers()]
    assert push(mine, cloud, progress=False).remote_findings == []  # the record is current again


def test_a_lost_y_state_is_detected_and_sent_again(cloud, machines):
    project = make_project("State gone", machines[0], assets=1)
    push(project, cloud, progress=False)
    layout = ProjectLayout(cloud.prefix, project.id)
    for name in list(cloud.container.list_blob_names(name_starts_with=layout.states)):
        cloud.container.delete_blob(name)

    result = push(project, cloud, progress=False)
    assert result.remote_findings == ["the document's Y state is gone"] and result.document_uploaded
    _assert_whole(cloud, project)
