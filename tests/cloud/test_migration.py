"""Projects stored under their name (the layout before ids) are found by name and moved to their id's folder."""

from __future__ import annotations

from imagestudio_nb.cloud import clone, list_cloud_projects, list_versions, migrate_layout, push, share
from imagestudio_nb.cloud.documents import read_remote
from imagestudio_nb.cloud.layout import ProjectLayout

from .conftest import make_project, remote_blobs


def _store_under_name(workspace, project) -> dict[str, bytes]:
    """Rewrite the project's cloud copy as the layout before ids wrote it: folder = name, no name metadata,
    the versions as snapshots of the document. Returns the old folder's blobs."""
    new, old = ProjectLayout(workspace.prefix, project.id), ProjectLayout(workspace.prefix, project.name)
    container = workspace.container
    items = list(container.list_blobs(name_starts_with=new.root, include=["snapshots", "metadata"]))
    snapshots = sorted((i for i in items if i.name == new.document and i.snapshot), key=lambda i: i.snapshot)
    for item in snapshots:  # oldest first, as they were taken
        source = container.get_blob_client(item.name, snapshot=item.snapshot)
        metadata = {k: v for k, v in (item.metadata or {}).items() if k != "project_name"}
        container.get_blob_client(old.document).upload_blob(source.download_blob().readall(), overwrite=True,
                                                            metadata=metadata)
        container.get_blob_client(old.document).create_snapshot(metadata=metadata)
    for item in items:
        if item.snapshot or item.name == new.document:
            continue
        data = container.get_blob_client(item.name).download_blob().readall()
        container.upload_blob(old.root + item.name[len(new.root):], data, metadata=item.metadata)
    current = container.get_blob_client(new.document)
    metadata = {k: v for k, v in current.get_blob_properties().metadata.items() if k != "project_name"}
    container.get_blob_client(old.document).upload_blob(current.download_blob().readall(), overwrite=True,
                                                        metadata=metadata)
    current.delete_blob(delete_snapshots="include")
    for item in items:
        if not item.snapshot and item.name != new.document:
            container.delete_blob(item.name)
    return remote_blobs(workspace, project.name + "/")


def test_a_project_stored_under_its_name_is_listed_cloned_and_moved_with_its_versions(cloud, machines):
    project = make_project("Old layout", machines[0], assets=2)
    push(project, cloud, progress=False)
    project.checkpoint("named")
    project.add_layer("paint", name="second")
    push(project, cloud, progress=False)
    old_blobs = _store_under_name(cloud, project)
    assert [(p.name, p.id, p.legacy) for p in list_cloud_projects(cloud)] == [("Old layout", project.id, True)]

    copy = clone("Old layout", cloud, local_workspace=machines[1], progress=False)
    assert copy.to_data() == project.to_data()
    assert [(p.name, p.legacy) for p in list_cloud_projects(cloud)] == [("Old layout", False)]
    versions = list_versions(cloud, "Old layout")
    assert [(v.reason, v.checkpoints, v.kind) for v in versions] == [("sync", [], "key"), ("checkpoint", ["named"], "key")]
    assert remote_blobs(cloud, project.name + "/") == old_blobs  # the old folder is left exactly as it was
    assert migrate_layout(cloud) == []  # nothing left to move


def test_a_push_moves_its_project_out_of_the_name_folder_first(cloud, machines):
    project = make_project("Pushed old", machines[0], assets=2)
    push(project, cloud, progress=False)
    _store_under_name(cloud, project)
    project.add_layer("paint", name="after the move")

    result = push(project, cloud, progress=False)
    assert result.document_uploaded and result.uploaded_assets == 0  # the assets came across from the old folder
    remote = read_remote(cloud, ProjectLayout(cloud.prefix, project.id))
    assert remote.data == project.to_data() and remote.metadata["project_name"] == "Pushed old"
    assert share("Pushed old", cloud, expires_in=60).project_id == project.id


def test_migrate_layout_moves_every_old_project(cloud, machines):
    projects = [make_project(name, machines[0], assets=1, seed=i) for i, name in enumerate(["First", "Second"])]
    for project in projects:
        push(project, cloud, progress=False)
        _store_under_name(cloud, project)
    moved = migrate_layout(cloud)
    assert sorted((row["name"], row["to"], row["document"]) for row in moved) == [
        ("First", f"{cloud.prefix}{projects[0].id}/", True), ("Second", f"{cloud.prefix}{projects[1].id}/", True)]
    for project in projects:
        assert read_remote(cloud, ProjectLayout(cloud.prefix, project.id)).data == project.to_data()
