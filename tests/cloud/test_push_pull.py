"""Push, pull, clone and status: the round trip, and sending only what changed."""

from __future__ import annotations

import pytest

from imagestudio_nb.cloud import clone, list_cloud_projects, pull, push, status, sync
from imagestudio_nb.cloud.layout import sha256_hex
from imagestudio_nb.errors import CloudError, ProjectExistsError, ProjectNotFoundError

from .conftest import make_project, noise_png, remote_blobs


def _assets_bytes(project):
    return {info.hash: project.assets.read(info.hash) for info in project.assets.list()}


def test_push_then_clone_restores_the_whole_project(cloud, machines):
    a, b = machines
    project = make_project("Round trip", a, assets=4)
    project.add_comment("looks good")
    project.checkpoint("first")

    result = push(project, cloud, progress=False)
    assert result.document_uploaded and result.uploaded_assets == 4

    copy = clone("Round trip", cloud, local_workspace=b, progress=False)
    assert copy.path == b / "Round trip"
    assert copy.to_data() == project.to_data()
    assert _assets_bytes(copy) == _assets_bytes(project)
    assert [c["name"] for c in copy.checkpoints()] == ["first"]
    assert status(copy, cloud)["state"] == "in sync"
    assert copy.search("test")  # the search index was built on arrival


def test_a_clone_carries_the_y_history_so_merging_the_copies_duplicates_nothing(cloud, machines):
    from imagestudio_nb.cloud.documents import LocalDocument
    from imagestudio_nb.project.ylog import read_state

    project = make_project("History kept", machines[0], assets=2)
    push(project, cloud, progress=False)
    copy = clone("History kept", cloud, local_workspace=machines[1], progress=False)
    original = LocalDocument.from_doc(project.doc)
    for cloned in (LocalDocument.from_doc(copy.doc), LocalDocument.from_files(copy.path)):
        # The same Y items, not look-alikes built from the JSON: each side already holds the other's state.
        assert cloned.includes(project.doc.get_update()) and original.includes(cloned.update)
    assert (copy.path / "project.ylog").is_file() and not (copy.path / "project.ystate").exists()
    assert LocalDocument.from_update(read_state(copy.path)).data == project.to_data()


def test_assets_upload_once_and_a_second_push_sends_nothing(cloud, machines):
    project = make_project("Once", machines[0], assets=5)
    first = push(project, cloud, progress=False)
    assert first.uploaded_assets == 5

    second = push(project, cloud, progress=False)
    # One listing checks that the remote still holds what the last push left there; nothing is sent.
    assert (second.requests, second.bytes_sent, second.uploaded_assets) == (1, 0, 0)
    assert not second.document_uploaded
    assets = [name for name in remote_blobs(cloud) if "/assets/" in name]
    assert len(assets) == 5


def test_incremental_push_sends_only_the_new_asset_and_the_document(cloud, machines):
    project = make_project("Incremental", machines[0], assets=6)
    push(project, cloud, progress=False)
    layer = project.layers()[2]["id"]
    info = project.assets.add(noise_png(99, size=64))
    project.update_layer(layer, asset=info.hash)

    result = push(project, cloud, progress=False)
    assert result.uploaded_assets == 1
    document = (project.path / "project.isproj").read_bytes()
    state = project.doc.get_update()
    # The new asset, the Y state and the JSON document, and nothing else of substance.
    assert info.bytes + len(document) <= result.bytes_sent <= info.bytes + len(document) + len(state) + 4096


def test_pull_brings_remote_work_and_verified_assets(cloud, machines):
    a, b = machines
    project = make_project("Pulled", a, assets=2)
    push(project, cloud, progress=False)
    copy = clone("Pulled", cloud, local_workspace=b, progress=False)

    info = copy.assets.add(noise_png(7))
    copy.add_layer("image", asset=info.hash, name="From B")
    push(copy, cloud, progress=False)
    assert status(project, cloud)["state"] == "remote changes"

    result = pull(project, cloud, progress=False)
    assert result.downloaded_assets == 1 and result.merged_remote
    assert [layer["name"] for layer in project.layers()][-1] == "From B"
    assert project.assets.read(info.hash) == copy.assets.read(info.hash)
    assert sha256_hex(project.assets.read(info.hash)) == info.hash
    assert status(project, cloud)["state"] == "in sync"
    assert pull(project, cloud, progress=False).bytes_received == 0  # unchanged: one HEAD request


def test_status_tells_local_remote_and_diverged(cloud, machines):
    a, b = machines
    project = make_project("States", a, assets=1)
    assert status(project, cloud)["state"] == "not pushed"
    push(project, cloud, progress=False)
    copy = clone("States", cloud, local_workspace=b, progress=False)
    project.add_layer("paint", name="local")
    assert status(project, cloud)["state"] == "local changes"
    copy.add_layer("paint", name="remote")
    push(copy, cloud, progress=False)
    assert status(project, cloud)["state"] == "diverged"
    sync(project, cloud, progress=False)
    assert status(project, cloud)["state"] == "in sync"


def test_clone_refuses_an_existing_project_and_names_the_remote_ones(cloud, machines):
    a, b = machines
    project = make_project("Only", a, assets=1)
    push(project, cloud, progress=False)
    with pytest.raises(ProjectExistsError, match="sync pull"):
        clone("Only", cloud, local_workspace=a, progress=False)
    with pytest.raises(ProjectNotFoundError, match="Only"):
        clone("Missing", cloud, local_workspace=b, progress=False)


def test_two_projects_with_the_same_name_are_kept_apart(cloud, machines, tmp_path):
    a, b = machines
    mine = make_project("Same name", a, assets=1)
    stranger = make_project("Same name", b, assets=1, seed=5)
    push(mine, cloud, progress=False)
    assert push(stranger, cloud, progress=False).document_uploaded  # its own folder: no collision, no merge
    assert sorted(p.id for p in list_cloud_projects(cloud)) == sorted([mine.id, stranger.id])

    with pytest.raises(CloudError, match="give the id") as caught:
        clone("Same name", cloud, local_workspace=tmp_path, progress=False)
    assert mine.id in str(caught.value) and stranger.id in str(caught.value)
    copy = clone(stranger.id, cloud, local_workspace=tmp_path, progress=False)
    assert copy.to_data() == stranger.to_data() and copy.id != mine.id


def test_a_renamed_project_keeps_its_cloud_folder_and_clones_by_its_new_name(cloud, machines):
    project = make_project("Before", machines[0], assets=2)
    push(project, cloud, progress=False)
    folders = {name.split("/")[1] for name in remote_blobs(cloud)}
    renamed = project.rename("After")
    result = push(renamed, cloud, progress=False)
    assert result.document_uploaded and result.uploaded_assets == 0  # nothing re-sent under a new name
    assert {name.split("/")[1] for name in remote_blobs(cloud)} == folders == {project.id}
    assert [(p.name, p.id) for p in list_cloud_projects(cloud)] == [("After", project.id)]
    copy = clone("After", cloud, local_workspace=machines[1], progress=False)
    assert copy.name == "After" and copy.to_data() == renamed.to_data()
    with pytest.raises(ProjectNotFoundError, match="After"):
        clone("Before", cloud, local_workspace=machines[1], progress=False)


def test_a_lost_sync_record_loses_nothing(cloud, machines):
    project = make_project("Record", machines[0], assets=2)
    push(project, cloud, progress=False)
    (project.path / "cache" / "cloud.json").unlink()
    project.add_layer("paint", name="after")
    result = push(project, cloud, progress=False)
    assert result.merged_remote and result.document_uploaded and result.uploaded_assets == 0
    copy = clone("Record", cloud, local_workspace=machines[1], progress=False)
    assert copy.to_data() == project.to_data()


def test_progress_callback_counts_every_asset(cloud, machines):
    project = make_project("Progress", machines[0], assets=5)
    calls = []
    push(project, cloud, progress=lambda done, total, digest: calls.append((done, total, digest)))
    assert [c[0] for c in calls] == [1, 2, 3, 4, 5] and {c[1] for c in calls} == {5}
    assert {c[2] for c in calls} == {info.hash for info in project.assets.list()}
