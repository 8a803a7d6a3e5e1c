"""Cloud `verify()` fed deliberately different blobs in a real Azurite: it must say so, and only then.

An intact copy reports nothing; one flipped bit (same size, metadata untouched or rewritten to match)
in an asset or a Y state blob is reported; a blob whose only good copy is itself damaged locally is
reported as unrepairable and left alone rather than "repaired" with bad bytes.
"""

from __future__ import annotations

import hashlib

from imagestudio_nb.cloud import push, verify
from imagestudio_nb.cloud.layout import ProjectLayout

from .conftest import make_project


def _flip_one_bit(data: bytes) -> bytes:
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x01
    return bytes(flipped)


def _damage(cloud, name: str, *, matching_metadata: bool = False) -> bytes:
    """Flip one bit of a blob in place (same size); optionally rewrite its sha256 metadata to match."""
    blob = cloud.container.get_blob_client(name)
    metadata = dict(blob.get_blob_properties().metadata or {})
    damaged = _flip_one_bit(blob.download_blob().readall())
    if matching_metadata:
        metadata["sha256"] = hashlib.sha256(damaged).hexdigest()
    blob.upload_blob(damaged, overwrite=True, metadata=metadata)
    return damaged


def test_an_intact_copy_reports_nothing(cloud, machines):
    project = make_project("Intact", machines[0], assets=3)
    push(project, cloud, progress=False)
    report = verify(project, cloud, repair=False)
    assert (report["corrupt"], report["unrepairable"], report["repaired"], report["document"]) == ([], [], [], "ok")
    assert report["checked"] >= 3 + 1


def test_one_flipped_bit_in_an_asset_blob_is_reported_even_with_matching_metadata(cloud, machines):
    project = make_project("Bit flip", machines[0], assets=3)
    push(project, cloud, progress=False)
    layout = ProjectLayout(cloud.prefix, project.id)
    victim = project.assets.list()[2]
    name = layout.asset(victim.hash, victim.extension)
    _damage(cloud, name, matching_metadata=True)

    report = verify(project, cloud, repair=False)
    assert report["corrupt"] == [name] and report["unrepairable"] == [name] and report["document"] == "ok"


def test_a_damaged_y_state_blob_is_reported_as_unrepairable(cloud, machines):
    project = make_project("State", machines[0], assets=1)
    push(project, cloud, progress=False)
    layout = ProjectLayout(cloud.prefix, project.id)
    states = list(cloud.container.list_blob_names(name_starts_with=layout.states))
    assert states, "a push stores the document's Y state beside it"
    _damage(cloud, states[0])

    report = verify(project, cloud)  # with repair: there is no local copy of a Y state blob to repair from
    assert report["corrupt"] == [states[0]] and report["unrepairable"] == [states[0]] and report["repaired"] == []


def test_a_blob_whose_local_copy_is_damaged_too_is_left_alone(cloud, machines):
    project = make_project("Both damaged", machines[0], assets=2)
    push(project, cloud, progress=False)
    layout = ProjectLayout(cloud.prefix, project.id)
    victim = project.assets.list()[0]
    name = layout.asset(victim.hash, victim.extension)
    damaged_remote = _damage(cloud, name)
    path = project.assets.path(victim.hash)
    path.write_bytes(_flip_one_bit(path.read_bytes()))

    report = verify(project, cloud)  # repair allowed, but no good copy exists
    assert report["corrupt"] == [name] and report["unrepairable"] == [name] and report["repaired"] == []
    assert cloud.container.get_blob_client(name).download_blob().readall() == damaged_remote
