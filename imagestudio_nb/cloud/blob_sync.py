"""Push, pull, sync and status of a project against a cloud workspace (DESIGN.md D5).

Assets upload once, by hash, as conditional creates in parallel; the document uploads under its
ETag; on a conflict the remote Y state is merged and the merge uploaded, so two machines that edited
offline both keep all their work. Nothing here ever writes a secret, and a failed sync leaves the
local project exactly as it was (or with the remote's work merged in, never less).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CloudError, DataError, SyncConflictError
from ..project.files import write_atomic
from .connection import CloudWorkspace, connect
from .documents import (DocumentConflict, LocalDocument, RemoteDocument, include_state, read_remote, remote_etag,
                        utc_now, write_document)
from .inventory import lost_since_push, take_inventory
from .layout import ProjectLayout, document_assets, state_vector_key
from .migration import migrate_if_stored_by_name
from .record import RECORD_PATH, SyncRecord, load_base_state, load_record, save_base_state, save_record
from .storage import check_quota
from .transfer import BlobItem, ProgressCallback, download_items, upload_blob_once, upload_items
from .versions import make_version

if TYPE_CHECKING:
    from ..project import Project

MAX_ATTEMPTS = 6

_locks: dict[Path, threading.RLock] = {}
_locks_guard = threading.Lock()


def _lock(path: Path) -> threading.RLock:
    # One sync at a time per project folder in this process (a background backup and a foreground push).
    with _locks_guard:
        return _locks.setdefault(Path(path).resolve(), threading.RLock())


@dataclass
class SyncResult:
    """What a push, pull or sync did."""

    project: str
    action: str
    state: str                    # "in sync", "local changes", ... (see ``status``)
    uploaded_assets: int = 0
    downloaded_assets: int = 0
    document_uploaded: bool = False
    merged_remote: bool = False
    attempts: int = 0
    version: str | None = None
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    #: How the remote differed from what the last push left there (a push restores it), e.g. "the document is gone".
    remote_findings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_from_remote(remote: RemoteDocument, checkpoints: list[str]) -> SyncRecord:
    """The sync record of a remote document just read (``checkpoints``: ids already labelled on a version)."""
    # Checkpoints the remote already holds were labelled on a version by whoever pushed them.
    labelled = sorted(set(checkpoints) | {c["id"] for c in remote.data.get("checkpoints") or []})
    return SyncRecord(etag=remote.etag, state_vector=state_vector_key(remote.state_vector), json_sha256=remote.json_sha256,
                      state_sha256=remote.state_sha256, checkpoints=labelled, last_sync=utc_now())


def _asset_items(layout: ProjectLayout, folder: Path, data: dict[str, Any]) -> list[BlobItem]:
    items = []
    for digest, extension in document_assets(data).items():
        size = int((data["assets"][digest] or {}).get("bytes") or 0)
        items.append(BlobItem(digest, layout.asset(digest, extension), folder / "assets" / f"{digest}.{extension}", size))
    return items


def _remote_names(workspace: CloudWorkspace, layout: ProjectLayout) -> set[str]:
    inventory = take_inventory(workspace, layout)
    if not inventory.container_exists:  # deleted since the last look: start afresh
        workspace.ensure_container()
    return inventory.names


def _upload_assets(workspace: CloudWorkspace, layout: ProjectLayout, folder: Path, local: LocalDocument,
                   progress: bool | ProgressCallback, present: set[str], *, extra_bytes: int = 0) -> int:
    """Upload the assets ``local`` lists that are not among the ``present`` blob names."""
    missing = [item for item in _asset_items(layout, folder, local.data) if item.blob_name not in present]
    for item in missing:
        if not item.path.is_file():
            raise DataError(f"asset {item.digest[:12]}… is listed by project {local.name!r} but its file is "
                            "missing here and in the cloud; restore it from a backup or an export")
    check_quota(workspace, sum(item.size for item in missing) + extra_bytes)
    return len(upload_items(workspace, missing, progress=progress, description=f"push {local.name}"))


def download_assets(workspace: CloudWorkspace, layout: ProjectLayout, folder: Path, data: dict[str, Any],
                    progress: bool | ProgressCallback) -> int:
    """Download (verified) the assets ``data`` lists that ``folder`` lacks; returns how many."""
    missing = [item for item in _asset_items(layout, folder, data) if not item.path.is_file()]
    return len(download_items(workspace, missing, progress=progress, description=f"pull {data['meta'].get('name')}"))


def _check_same_project(remote: RemoteDocument, project_id: str, layout: ProjectLayout) -> None:
    if remote.project_id and remote.project_id != project_id:
        raise CloudError(f"the cloud folder {layout.root} holds another project (id {remote.project_id}, yours is "
                         f"{project_id}); it was written by hand or by another tool: move it away")


def _finish(result: SyncResult, workspace: CloudWorkspace, before: dict[str, int], started: float) -> SyncResult:
    moved = workspace.stats.since(before)
    result.requests, result.bytes_sent, result.bytes_received = moved["requests"], moved["bytes_sent"], moved["bytes_received"]
    result.seconds = round(time.perf_counter() - started, 4)
    return result


def push(project: Project, workspace: CloudWorkspace | None = None, *, progress: bool | ProgressCallback = True,
         merge_into_local: bool = True, from_disk: bool = False) -> SyncResult:
    """Upload the project's new assets and its document; merge the remote's work first if it moved on.

    Every push starts by listing the project's folder in the cloud (one request) and comparing it with
    what the local sync record says the last push left there: a document that is gone, at another
    ETag (an older copy put back) or with other hashes, a lost Y state and missing assets are all sent
    again (and named in ``remote_findings``), so a remote that lost work is made whole.

    Parameters
    ----------
    project : Project
    workspace : CloudWorkspace, optional
        Defaults to :func:`connect` with the configuration.
    progress : bool or callable
        A progress bar (``True``), nothing, or ``progress(done, total, digest)`` after each asset.
    merge_into_local : bool
        On a conflict, merge the remote state into the open project (and save it). With ``False`` the
        merge is only uploaded; the local project gets it at the next pull.
    from_disk : bool
        Push the project as last saved on disk (its update log) rather than the live document
        (background backups).

    Returns
    -------
    SyncResult

    Raises
    ------
    CloudUnavailableError
        When the storage cannot be reached (local work is kept; push again later).
    QuotaExceededError
        Before anything is sent, when the upload would pass the quota.
    SyncConflictError
        When the remote kept changing through every merge attempt.
    """
    workspace = workspace or connect()
    if not from_disk:
        project.flush()  # the cloud receives what is saved locally, never a state the disk has not seen
    started, before = time.perf_counter(), workspace.stats.snapshot()
    identity = workspace.identity
    with _lock(project.path):
        local = LocalDocument.from_files(project.path) if from_disk else LocalDocument.from_doc(project.doc)
        layout = ProjectLayout(workspace.prefix, local.project_id)
        record = load_record(project.path, identity)
        result = SyncResult(local.name, "push", "in sync")
        # A write over the known ETag must include what the remote held there: merge that state first.
        base = load_base_state(project.path, identity, record) if record.etag else None
        if base is None:
            record = SyncRecord(checkpoints=record.checkpoints)  # unknown: learn the remote's state from the remote
        else:
            local, result.merged_remote = include_state(project, local, base, into_project=merge_into_local)
        inventory = take_inventory(workspace, layout)
        if inventory.etag is None and migrate_if_stored_by_name(workspace, local.project_id, local.name):
            inventory = take_inventory(workspace, layout)
        result.remote_findings = lost_since_push(record, inventory, layout)
        if not inventory.container_exists:
            workspace.ensure_container()
        present = inventory.names
        if not result.remote_findings and record.matches(local.state_vector, local.json_sha256):
            # The document is as last pushed; only blobs it needs can have gone (deleted one by one).
            sent = _upload_assets(workspace, layout, project.path, local, progress, present)
            if sent:
                result.remote_findings.append(f"{sent} assets were missing")
                result.uploaded_assets = sent
            return _finish(result, workspace, before, started)
        remote_moved = inventory.etag != record.etag  # the remote is not at the ETag we know: read it first
        for attempt in range(1, MAX_ATTEMPTS + 1):
            result.attempts = attempt
            if remote_moved:
                remote_moved = False
                remote = read_remote(workspace, layout)
                if remote is None:  # gone: create it again
                    record = SyncRecord(checkpoints=record.checkpoints)
                else:
                    _check_same_project(remote, local.project_id, layout)
                    if merge_into_local:
                        result.downloaded_assets += download_assets(workspace, layout, project.path, remote.data,
                                                                     progress)
                    local, _ = include_state(project, local, remote.update, into_project=merge_into_local)
                    result.merged_remote = True
                    record = record_from_remote(remote, record.checkpoints)
                    if remote.same_content(local):  # the remote already holds all of our work
                        present = present if attempt == 1 else _remote_names(workspace, layout)
                        result.uploaded_assets += _upload_assets(workspace, layout, project.path, local, progress,
                                                                 present)
                        save_base_state(project.path, identity, remote.update)
                        save_record(project.path, identity, record)
                        return _finish(result, workspace, before, started)
            if attempt > 1:
                present = _remote_names(workspace, layout)
            result.uploaded_assets += _upload_assets(workspace, layout, project.path, local, progress, present,
                                                     extra_bytes=len(local.update) + len(local.text.encode()))
            upload_blob_once(workspace, layout.state(local.state_sha256), local.update, digest=local.state_sha256)
            try:
                etag, metadata = write_document(workspace, layout, local, record.etag)
            except DocumentConflict:
                remote_moved = True
                continue
            new_checkpoints = [c["name"] for c in local.data.get("checkpoints") or []
                               if c["id"] not in set(record.checkpoints)]
            version = make_version(workspace, layout, local.text, metadata, checkpoints=new_checkpoints)
            record = SyncRecord(etag=etag, state_vector=state_vector_key(local.state_vector),
                                json_sha256=local.json_sha256, state_sha256=local.state_sha256,
                                checkpoints=local.checkpoint_ids, last_sync=utc_now(), last_version=version)
            save_base_state(project.path, identity, local.update)
            save_record(project.path, identity, record)
            result.document_uploaded, result.version = True, version
            return _finish(result, workspace, before, started)
    raise SyncConflictError(f"the cloud copy of {local.name!r} kept changing through {MAX_ATTEMPTS} merges; "
                            "your work is saved locally: sync again in a moment")


def pull(project: Project, workspace: CloudWorkspace | None = None, *,
         progress: bool | ProgressCallback = True) -> SyncResult:
    """Merge the remote document into the local project, downloading the assets it needs (verified).

    Local work is never overwritten: the remote Y state is merged into the local document. ``state`` is
    ``"remote lost"`` when the cloud no longer holds what was pushed (``push`` restores it).
    """
    workspace = workspace or connect()
    started, before = time.perf_counter(), workspace.stats.snapshot()
    layout = ProjectLayout(workspace.prefix, project.id)
    identity = workspace.identity
    with _lock(project.path):
        record = load_record(project.path, identity)
        result = SyncResult(project.name, "pull", "in sync")
        etag = remote_etag(workspace, layout)
        if etag is None and migrate_if_stored_by_name(workspace, project.id, project.name):
            etag = remote_etag(workspace, layout)
        if etag is None:
            result.state = "remote lost" if record.etag else "not pushed"
            return _finish(result, workspace, before, started)
        base = load_base_state(project.path, identity, record) if etag == record.etag else None
        if base is None:
            remote = read_remote(workspace, layout)
            if remote is None:
                result.state = "remote lost" if record.etag else "not pushed"
                return _finish(result, workspace, before, started)
            _check_same_project(remote, project.id, layout)
            base, data = remote.update, remote.data
            record = record_from_remote(remote, record.checkpoints)
        else:
            data = LocalDocument.from_update(base).data
        result.downloaded_assets = download_assets(workspace, layout, project.path, data, progress)
        local, result.merged_remote = include_state(project, LocalDocument.from_doc(project.doc), base,
                                                    into_project=True)
        save_base_state(project.path, identity, base)
        save_record(project.path, identity, record)
        result.state = "in sync" if record.matches(local.state_vector, local.json_sha256) else "local changes"
        return _finish(result, workspace, before, started)


def sync(project: Project, workspace: CloudWorkspace | None = None, *,
         progress: bool | ProgressCallback = True) -> SyncResult:
    """Pull, then push: afterwards the local project and the cloud hold the same, merged document."""
    workspace = workspace or connect()
    started, before = time.perf_counter(), workspace.stats.snapshot()
    with _lock(project.path):
        pulled = pull(project, workspace, progress=progress)
        pushed = push(project, workspace, progress=progress)
    result = SyncResult(project.name, "sync", "in sync", pushed.uploaded_assets,
                        pulled.downloaded_assets + pushed.downloaded_assets, pushed.document_uploaded,
                        pulled.merged_remote or pushed.merged_remote, pushed.attempts, pushed.version,
                        remote_findings=pushed.remote_findings)
    return _finish(result, workspace, before, started)


def status(project: Project, workspace: CloudWorkspace | None = None) -> dict[str, Any]:
    """Where the project stands against the cloud, without changing anything.

    ``state`` is ``"in sync"``, ``"local changes"`` (push), ``"remote changes"`` (pull), ``"diverged"``
    (sync merges both), ``"not pushed"``, ``"remote lost"`` (the cloud lost what was pushed: push
    restores it) or ``"offline"`` (the storage cannot be reached).
    """
    from ..errors import CloudUnavailableError

    workspace = workspace or connect(create_container=False)
    layout = ProjectLayout(workspace.prefix, project.id)
    record = load_record(project.path, workspace.identity)
    local = LocalDocument.from_doc(project.doc)
    base = load_base_state(project.path, workspace.identity, record) if record.etag else None
    local_changes = not record.matches(local.state_vector, local.json_sha256)
    # A background backup may have uploaded a merge the open project does not have yet.
    behind = base is None or not local.includes(base)
    info: dict[str, Any] = {"project": project.name, "id": project.id, "remote": f"{workspace.url}/{layout.root}",
                            "last_sync": record.last_sync, "last_version": record.last_version,
                            "local_changes": local_changes}
    try:
        etag = remote_etag(workspace, layout)
    except CloudUnavailableError:
        info.update(state="offline", remote_changes=None)
        return info
    remote_changes = etag is not None and (etag != record.etag or behind)
    info["remote_changes"] = remote_changes
    if etag is None:
        info["state"] = "remote lost" if record.etag else "not pushed"
    else:
        info["state"] = {(False, False): "in sync", (True, False): "local changes", (False, True): "remote changes",
                         (True, True): "diverged"}[(local_changes, remote_changes)]
    return info


def forget(project: Project, workspace: CloudWorkspace) -> None:
    """Drop the local sync record for ``workspace`` (the next push finds and merges the remote anew)."""
    path = project.path / RECORD_PATH
    if path.exists():
        import json

        records = json.loads(path.read_text(encoding="utf-8"))
        records.pop(workspace.identity, None)
        write_atomic(path, json.dumps(records, indent=1, sort_keys=True) + "\n")
