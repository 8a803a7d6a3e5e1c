"""Two copies of a project edited offline, then synced: both keep all their work."""

from __future__ import annotations

import threading

from imagestudio_nb.cloud import clone, pull, push, sync
from imagestudio_nb.cloud.documents import read_remote
from imagestudio_nb.cloud.layout import ProjectLayout

from .conftest import make_project, noise_png, remote_blobs


def _two_copies(cloud, machines, name="Shared"):
    a, b = machines
    original = make_project(name, a, assets=2)
    push(original, cloud, progress=False)
    return original, clone(name, cloud, local_workspace=b, progress=False)


def test_sync_merges_concurrent_offline_edits(cloud, machines):
    mine, theirs = _two_copies(cloud, machines)
    first = mine.layers()[0]["id"]
    # Offline on machine A
    mine.add_layer("text", name="A's title")
    mine.update_layer(first, opacity=0.25)
    a_asset = mine.assets.add(noise_png(101))
    mine.add_layer("image", asset=a_asset.hash, name="A's image")
    # Offline on machine B
    theirs.add_comment("B was here")
    theirs.update_layer(first, visible=False)
    b_asset = theirs.assets.add(noise_png(202))
    theirs.add_layer("image", asset=b_asset.hash, name="B's image")

    push(mine, cloud, progress=False)
    result = push(theirs, cloud, progress=False)
    assert result.merged_remote and result.document_uploaded
    pull(mine, cloud, progress=False)

    assert mine.to_data() == theirs.to_data()
    names = [layer["name"] for layer in mine.layers()]
    assert {"A's title", "A's image", "B's image"} <= set(names)
    assert len(names) == len(set(names)) == 5  # nothing duplicated
    layer = mine.layer(first)
    assert layer["opacity"] == 0.25 and layer["visible"] is False
    assert [c["text"] for c in mine.comments()] == ["B was here"]
    for project in (mine, theirs):
        assert project.assets.read(a_asset.hash) and project.assets.read(b_asset.hash)


def test_simultaneous_pushes_from_two_machines_both_land(cloud, machines):
    mine, theirs = _two_copies(cloud, machines, "Race")
    for round_ in range(3):
        mine.add_layer("paint", name=f"A{round_}")
        theirs.add_layer("paint", name=f"B{round_}")
        barrier = threading.Barrier(2)
        errors = []

        def run(project):
            try:
                barrier.wait()
                push(project, cloud, progress=False)
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(p,)) for p in (mine, theirs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
    sync(mine, cloud, progress=False)
    sync(theirs, cloud, progress=False)
    remote = read_remote(cloud, ProjectLayout(cloud.prefix, mine.id))
    names = sorted(layer["name"] for layer in remote.data["layers"])
    assert names == sorted(["Layer 0", "Layer 1", *(f"A{i}" for i in range(3)), *(f"B{i}" for i in range(3))])
    assert mine.to_data() == theirs.to_data() == remote.data


def test_background_merge_uploads_both_without_touching_the_open_project(cloud, machines):
    mine, theirs = _two_copies(cloud, machines, "Background")
    theirs.add_layer("paint", name="remote work")
    push(theirs, cloud, progress=False)
    mine.add_layer("paint", name="local work")
    mine.save()  # a background push reads what was saved, as the automatic backup does after a save
    before = mine.to_data()

    result = push(mine, cloud, progress=False, merge_into_local=False, from_disk=True)
    assert result.merged_remote and result.document_uploaded
    assert mine.to_data() == before  # the open project is not changed by a background push
    remote = read_remote(cloud, ProjectLayout(cloud.prefix, mine.id))
    assert {"remote work", "local work"} <= {layer["name"] for layer in remote.data["layers"]}
    pull(mine, cloud, progress=False)
    assert mine.to_data() == remote.data


def test_a_merge_that_adds_nothing_uploads_nothing(cloud, machines):
    mine, theirs = _two_copies(cloud, machines, "Same edit")
    theirs.add_layer("paint", name="B")
    push(theirs, cloud, progress=False)
    pull(mine, cloud, progress=False)
    versions_before = len([n for n in remote_blobs(cloud) if "/states/" in n])
    assert push(mine, cloud, progress=False).requests == 1  # the listing that checks the remote
    assert len([n for n in remote_blobs(cloud) if "/states/" in n]) == versions_before


def test_a_push_after_a_background_merge_keeps_the_remote_work(cloud, machines):
    mine, theirs = _two_copies(cloud, machines, "Stale")
    theirs.add_layer("paint", name="remote work")
    push(theirs, cloud, progress=False)
    mine.add_layer("paint", name="first local")
    push(mine, cloud, progress=False, merge_into_local=False, from_disk=True)  # the open project lacks "remote work"
    mine.add_layer("paint", name="second local")
    push(mine, cloud, progress=False)
    remote = read_remote(cloud, ProjectLayout(cloud.prefix, mine.id))
    assert {"remote work", "first local", "second local"} <= {layer["name"] for layer in remote.data["layers"]}
    assert remote.data == mine.to_data()
