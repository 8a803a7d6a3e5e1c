"""Version history in the cloud: a blob snapshot of the document on every sync and checkpoint.

Where the account cannot snapshot, the document is copied to a versioned key (``versions/<stamp>``)
instead. Versions are listed oldest first and read back verified; bringing one back into a project is
``restore.py``'s job. This module stores and reads versions only: it never pushes.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError
from .connection import CloudWorkspace, translate_errors
from .documents import RemoteDocument, read_remote
from .layout import ProjectLayout, decode_meta, encode_meta
from .migration import locate

if TYPE_CHECKING:
    from ..project import Project


@dataclass
class Version:
    """One stored version of a project's document."""

    id: str
    created: str
    reason: str                       # "sync" or "checkpoint"
    checkpoints: list[str] = field(default_factory=list)
    saved_by: str = ""
    size: int = 0
    kind: str = "snapshot"            # or "key" (a versioned blob name)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_version(workspace: CloudWorkspace, layout: ProjectLayout, text: str, metadata: dict[str, str], *,
                 checkpoints: list[str]) -> str:
    """Keep the document just written as a version; returns its id (snapshot time or versioned key stamp)."""
    from azure.core.exceptions import HttpResponseError

    version_meta = {**metadata, "reason": "checkpoint" if checkpoints else "sync"}
    if checkpoints:
        version_meta["checkpoints"] = encode_meta(",".join(checkpoints))
    if workspace.use_snapshots:
        with translate_errors(workspace, f"snapshotting {layout.document}"):
            try:
                return workspace.container.get_blob_client(layout.document).create_snapshot(
                    metadata=version_meta)["snapshot"]
            except HttpResponseError as exc:
                # Accounts without snapshots (some hierarchical-namespace setups) answer 400/409: fall back.
                if exc.status_code not in (400, 409):
                    raise
                workspace.use_snapshots = False
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]
    with translate_errors(workspace, f"keeping a version of {layout.document}"):
        workspace.container.upload_blob(layout.version(stamp), text.encode("utf-8"), overwrite=False,
                                        metadata=version_meta)
    return stamp


def _version_from(item: Any, kind: str, version_id: str) -> Version:
    meta = item.metadata or {}
    names = decode_meta(meta.get("checkpoints", ""))
    created = meta.get("saved_at") or (item.last_modified.isoformat() if item.last_modified else "")
    return Version(version_id, created, meta.get("reason", "sync"), [n for n in names.split(",") if n],
                   decode_meta(meta.get("saved_by", "")), item.size or 0, kind)


def list_versions(workspace: CloudWorkspace, project: Project | str) -> list[Version]:
    """Every stored version of a project (an open one, or a name or id in the cloud), oldest first."""
    return versions_at(workspace, locate(workspace, project).layout(workspace.prefix))


def versions_at(workspace: CloudWorkspace, layout: ProjectLayout) -> list[Version]:
    """Every stored version of the project at ``layout``, oldest first."""
    versions = []
    with translate_errors(workspace, f"listing versions in {layout.root}"):
        for item in workspace.container.list_blobs(name_starts_with=layout.document, include=["snapshots", "metadata"]):
            if item.name == layout.document and item.snapshot:
                versions.append(_version_from(item, "snapshot", item.snapshot))
        for item in workspace.container.list_blobs(name_starts_with=layout.versions, include=["metadata"]):
            stamp = item.name[len(layout.versions):].removesuffix(".isproj")
            versions.append(_version_from(item, "key", stamp))
    return sorted(versions, key=lambda v: (v.created, v.id))


def find_version(workspace: CloudWorkspace, project: Project | str, ref: str) -> Version:
    """A version by id, by a checkpoint name it carries, or ``"latest"``.

    Raises
    ------
    NotFoundError
        Listing the versions that exist.
    """
    found = locate(workspace, project)
    versions = versions_at(workspace, found.layout(workspace.prefix))
    name = found.name
    if ref == "latest" and versions:
        return versions[-1]
    for version in reversed(versions):
        if ref == version.id or ref in version.checkpoints:
            return version
    shown = ", ".join(v.id + (f" ({', '.join(v.checkpoints)})" if v.checkpoints else "") for v in versions[-10:])
    raise NotFoundError(f"no version {ref!r} of project {name!r} in the cloud; versions: {shown or 'none'}")


def read_version(workspace: CloudWorkspace, layout: ProjectLayout, version: Version) -> RemoteDocument:
    """The document as it was at ``version``, verified."""
    if version.kind == "snapshot":
        remote = read_remote(workspace, layout, snapshot=version.id)
    else:
        remote = read_remote(workspace, layout, blob_name=layout.version(version.id))
    if remote is None:
        raise NotFoundError(f"version {version.id} of the project in {layout.root} is gone; "
                            "see `imagestudio sync versions PROJECT`")
    return remote
