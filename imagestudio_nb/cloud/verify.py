"""Verify a project's cloud copy blob by blob, and repair what is corrupt from good local copies.

Uploads are create-only, so a damaged blob would otherwise stay damaged: here it is overwritten under
an ETag condition (only the damaged version we read is replaced). A damaged document is rewritten from
the local project, after merging the Y state it names when that state is itself intact.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .connection import CloudWorkspace, connect, translate_errors
from .documents import read_remote
from .layout import ProjectLayout, sha256_hex
from .migration import locate
from .record import SyncRecord, load_record, save_base_state, save_record

if TYPE_CHECKING:
    from ..project import Project


def _local_copy(project: Project, digest: str, extension: str) -> bytes | None:
    if extension == "ystate":
        return None
    path = project.assets.folder / f"{digest}.{extension}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return data if sha256_hex(data) == digest else None


def verify(project: Project, workspace: CloudWorkspace | None = None, *, repair: bool = True) -> dict[str, Any]:
    """Download every asset, Y state and the document of the project's cloud copy and check their hashes.

    Parameters
    ----------
    repair : bool
        Overwrite corrupt assets with the local copy (when it is itself intact) and rewrite a corrupt
        document from the local project (merged with the remote Y state when that is intact).

    Returns
    -------
    dict
        ``checked`` (count), ``corrupt``, ``repaired`` and ``unrepairable`` (blob names), ``document``
        ("ok", "repaired", "corrupt" or "missing").
    """
    from azure.core import MatchConditions

    workspace = workspace or connect()
    layout = locate(workspace, project).layout(workspace.prefix)  # moved out of a name folder first
    report: dict[str, Any] = {"checked": 0, "corrupt": [], "repaired": [], "unrepairable": [], "document": "ok"}
    with translate_errors(workspace, f"listing {layout.root}"):
        blobs = [item for item in workspace.container.list_blobs(name_starts_with=layout.root)
                 if item.name.startswith((layout.assets, layout.states))]

    def check(item: Any) -> None:
        blob = workspace.container.get_blob_client(item.name)
        with translate_errors(workspace, f"verifying {item.name}"):
            data = blob.download_blob(max_concurrency=1).readall()
        digest = ProjectLayout.asset_hash(item.name)
        if sha256_hex(data) == digest:
            return
        report["corrupt"].append(item.name)
        good = _local_copy(project, digest, item.name.rsplit(".", 1)[-1]) if repair else None
        if good is None:
            report["unrepairable"].append(item.name)
            return
        with translate_errors(workspace, f"repairing {item.name}"):
            blob.upload_blob(good, overwrite=True, metadata={"sha256": digest}, etag=item.etag,
                             match_condition=MatchConditions.IfNotModified)
        report["repaired"].append(item.name)

    with ThreadPoolExecutor(workspace.concurrency) as pool:
        list(pool.map(check, blobs))
    report["checked"] = len(blobs) + 1
    try:
        if read_remote(workspace, layout) is None:
            report["document"] = "missing"
    except DataError:
        report["document"] = "corrupt"
        if repair:
            _repair_document(project, workspace, layout)
            report["document"] = "repaired"
    for key in ("corrupt", "repaired", "unrepairable"):
        report[key].sort()
    return report


def _repair_document(project: Project, workspace: CloudWorkspace, layout: ProjectLayout) -> None:
    from .blob_sync import push
    from .documents import LocalDocument, include_state
    from .transfer import download_verified

    blob = workspace.container.get_blob_client(layout.document)
    with translate_errors(workspace, f"reading {layout.document}"):
        properties = blob.get_blob_properties()
    state = (properties.metadata or {}).get("ystate_sha256")
    local = LocalDocument.from_doc(project.doc)
    if state:
        try:
            local, _ = include_state(project, local, download_verified(workspace, layout.state(state), state),
                                     into_project=True)
        except DataError:
            pass  # the state is damaged too: the local project alone is the truth
    # Point the record at the damaged ETag with the local state as its base, so that push overwrites it.
    identity = workspace.identity
    record = load_record(project.path, identity)
    save_base_state(project.path, identity, local.update)
    save_record(project.path, identity, SyncRecord(etag=properties.etag, state_sha256=local.state_sha256,
                                                   checkpoints=record.checkpoints))
    push(project, workspace, progress=False)
