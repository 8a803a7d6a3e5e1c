"""Automatic backup on save: debounced, in the background, never blocking, catching up after an outage."""

from __future__ import annotations

import threading

import pytest

from imagestudio_nb.cloud import disable_auto_backup, enable_auto_backup, list_versions, pull, status
from imagestudio_nb.cloud.documents import read_remote
from imagestudio_nb.cloud.layout import ProjectLayout
from imagestudio_nb.project.project import SAVE_HOOKS

from .conftest import make_project
from .test_faults import _connect


@pytest.fixture
def backups():
    started = []

    def start(workspace, **options):
        backup = enable_auto_backup(workspace, **options)
        started.append(backup)
        return backup

    yield start
    disable_auto_backup(flush=False)
    assert not [hook for hook in SAVE_HOOKS if getattr(hook, "__module__", "").startswith("imagestudio_nb.cloud")]


def test_a_burst_of_saves_makes_one_backup(cloud, machines, backups):
    project = make_project("Burst", machines[0], assets=2)
    backup = backups(cloud, delay=0.5)
    for index in range(6):
        project.add_layer("paint", name=f"stroke {index}")
    assert backup.flush(timeout=60)
    assert len(list_versions(cloud, "Burst")) == 1
    remote = read_remote(cloud, ProjectLayout(cloud.prefix, project.id))
    assert remote.data == project.to_data()
    assert backup.status()["Burst"]["state"] == "backed up"
    assert status(project, cloud)["state"] == "in sync"


def test_saving_never_waits_for_the_storage(private_azurite, machines, backups):
    workspace = _connect(private_azurite)
    project = make_project("Never blocks", machines[0], assets=1)
    backup = backups(workspace, delay=0.05, max_backoff=0.2)
    assert backup.flush(timeout=60)
    private_azurite.stop()

    # The upload path is stalled on purpose: a save must still return at once.
    gate = threading.Event()
    original = backup._backup

    def stalled(*args):
        gate.wait(30)
        return original(*args)

    backup._backup = stalled
    project.add_layer("paint", name="while offline")
    project.add_layer("paint", name="still offline")
    assert len(project.layers()) == 3  # both saves returned while the backup thread is stuck
    gate.set()
    assert not backup.flush(timeout=10)  # cannot succeed while the storage is down
    assert backup.status()["Never blocks"]["state"] == "offline"

    private_azurite.start()
    assert backup.flush(timeout=60)
    assert backup.status()["Never blocks"]["state"] == "backed up"
    remote = read_remote(workspace, ProjectLayout(workspace.prefix, project.id))
    assert {"while offline", "still offline"} <= {layer["name"] for layer in remote.data["layers"]}


def test_background_backup_merges_remote_work_without_touching_the_notebook(cloud, machines, backups):
    from imagestudio_nb.cloud import clone, push

    project = make_project("Merged later", machines[0], assets=1)
    push(project, cloud, progress=False)
    other = clone("Merged later", cloud, local_workspace=machines[1], progress=False)
    other.add_layer("paint", name="from elsewhere")
    push(other, cloud, progress=False)

    backup = backups(cloud, delay=0.05)
    project.add_layer("paint", name="here")
    assert backup.flush(timeout=60)
    assert "from elsewhere" not in [l["name"] for l in project.layers()]
    assert status(project, cloud)["state"] in ("remote changes", "diverged")
    pull(project, cloud, progress=False)
    assert {"from elsewhere", "here"} <= {l["name"] for l in project.layers()}
