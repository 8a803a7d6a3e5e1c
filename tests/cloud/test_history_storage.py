"""Version history (snapshots, or versioned keys), usage, quota and clean-up."""

from __future__ import annotations

import pytest

from imagestudio_nb.cloud import clean, clone, connect, list_versions, push, restore_version, usage
from imagestudio_nb.cloud.layout import ProjectLayout
from imagestudio_nb.errors import NotFoundError, QuotaExceededError

from .conftest import container_name, make_project, noise_png, remote_blobs


def test_every_sync_and_checkpoint_is_kept_as_a_version(cloud, machines):
    project = make_project("History", machines[0], assets=1)
    push(project, cloud, progress=False)
    project.add_layer("paint", name="second")
    project.checkpoint("draft one")
    push(project, cloud, progress=False)
    project.add_layer("paint", name="third")
    push(project, cloud, progress=False)
    push(project, cloud, progress=False)  # nothing changed: no new version

    versions = list_versions(cloud, "History")
    assert [v.reason for v in versions] == ["sync", "checkpoint", "sync"]
    assert versions[1].checkpoints == ["draft one"]
    assert all(v.kind == "snapshot" for v in versions)


def test_restore_brings_back_a_version_as_a_new_change(cloud, machines):
    project = make_project("Restore", machines[0], assets=2)
    push(project, cloud, progress=False)
    project.checkpoint("two layers")
    push(project, cloud, progress=False)
    for layer in project.layers():
        project.remove_layer(layer["id"])
    project.add_layer("paint", name="scribble")
    push(project, cloud, progress=False)

    result = restore_version(project, "two layers", cloud, progress=False)
    assert [l["name"] for l in project.layers()] == ["Layer 0", "Layer 1"]
    assert result["sync"]["document_uploaded"]
    assert len(list_versions(cloud, "Restore")) == 4  # the versions after it stay
    assert project.undo()  # the restore is an ordinary change
    assert [l["name"] for l in project.layers()] == ["scribble"]
    with pytest.raises(NotFoundError, match="versions:"):
        restore_version(project, "no such version", cloud)


def test_versioned_keys_stand_in_where_snapshots_are_unavailable(azurite, machines, request):
    workspace = connect(connection_string=azurite.connection_string, container=container_name(request),
                        use_snapshots=False)
    project = make_project("Keys", machines[0], assets=1)
    push(project, workspace, progress=False)
    project.checkpoint("named")
    push(project, workspace, progress=False)
    versions = list_versions(workspace, "Keys")
    assert [v.kind for v in versions] == ["key", "key"] and versions[1].checkpoints == ["named"]
    assert any(name.startswith(ProjectLayout(workspace.prefix, project.id).versions) for name in remote_blobs(workspace))
    project.add_layer("paint", name="later")
    restore_version(project, "named", workspace, push=False, progress=False)
    assert "later" not in [l["name"] for l in project.layers()]


def test_usage_is_reported_per_project(cloud, machines):
    one = make_project("One", machines[0], assets=2)
    two = make_project("Two", machines[0], assets=5, seed=3)
    push(one, cloud, progress=False)
    push(two, cloud, progress=False)
    report = usage(cloud)
    assert set(report["projects"]) == {one.id, two.id}  # by folder: the project's id
    row = report["projects"][two.id]
    assert row["name"] == "Two" and row["asset_count"] == 5
    assert row["assets"] == sum(i.bytes for i in two.assets.list())
    assert report["total_bytes"] == sum(row["bytes"] for row in report["projects"].values())
    assert usage(cloud, "One")["projects"].keys() == {one.id}
    assert usage(cloud, one)["projects"].keys() == {one.id}


def test_quota_refuses_a_push_before_sending_anything(azurite, machines, request):
    project = make_project("Big", machines[0], assets=4)
    size = sum(info.bytes for info in project.assets.list())
    workspace = connect(connection_string=azurite.connection_string, container=container_name(request),
                        quota_bytes=size // 2)
    with pytest.raises(QuotaExceededError, match="quota") as caught:
        push(project, workspace, progress=False)
    assert caught.value.needed > size and caught.value.quota == size // 2
    assert remote_blobs(workspace) == {}
    workspace.quota_bytes = size * 3
    assert push(project, workspace, progress=False).document_uploaded


def test_clean_up_removes_only_what_no_version_references(cloud, machines):
    project = make_project("Tidy", machines[0], assets=3)
    push(project, cloud, progress=False)
    extra = project.assets.add(noise_png(77))
    layer = project.add_layer("image", asset=extra.hash, name="temporary")
    push(project, cloud, progress=False)
    project.remove_layer(layer)
    project.clean_assets(dry_run=False)
    push(project, cloud, progress=False)

    # Every version still referencing the extra asset keeps it.
    assert clean("Tidy", cloud, min_age=0)["assets"] == []
    dry = clean("Tidy", cloud, keep_versions=1, min_age=0)
    assert dry["dry_run"] and len(dry["versions"]) == 2
    assert [a["hash"] for a in dry["assets"]] == [extra.hash]
    before = remote_blobs(cloud)
    assert clean("Tidy", cloud, keep_versions=1, min_age=0)["bytes"] == dry["bytes"]
    assert remote_blobs(cloud) == before  # a dry run changes nothing

    done = clean("Tidy", cloud, dry_run=False, keep_versions=1, min_age=0)
    assert done["assets"] == dry["assets"]
    assert len(list_versions(cloud, "Tidy")) == 1
    copy = clone("Tidy", cloud, local_workspace=machines[1], progress=False)
    assert copy.to_data() == project.to_data()
    assert clean("Tidy", cloud, min_age=0)["bytes"] == 0


def test_clean_up_keeps_young_blobs_a_push_may_be_about_to_use(cloud, machines):
    project = make_project("Young", machines[0], assets=1)
    push(project, cloud, progress=False)
    stray = ProjectLayout(cloud.prefix, project.id).asset("f" * 64, "png")
    cloud.container.upload_blob(stray, b"uncommitted")
    assert clean("Young", cloud)["assets"] == []  # default min_age keeps it
    assert [a["hash"] for a in clean("Young", cloud, min_age=0)["assets"]] == ["f" * 64]


def test_a_checkpoint_is_labelled_once_whichever_machine_made_it(cloud, machines):
    project = make_project("Labels", machines[0], assets=1)
    push(project, cloud, progress=False)
    other = clone("Labels", cloud, local_workspace=machines[1], progress=False)
    other.checkpoint("made on B")
    push(other, cloud, progress=False)
    from imagestudio_nb.cloud import pull

    pull(project, cloud, progress=False)
    project.add_layer("paint", name="later on A")
    push(project, cloud, progress=False)
    labelled = [v.checkpoints for v in list_versions(cloud, "Labels") if v.checkpoints]
    assert labelled == [["made on B"]]
