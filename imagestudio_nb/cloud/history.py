"""Version history in the cloud: a blob snapshot of the document on every sync and checkpoint.

Where the account cannot snapshot, the document is copied to a versioned key (``versions/<stamp>``)
instead. Versions are listed oldest first and can be restored into the local project as a new,
undoable change (nothing is lost: the versions after it stay).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pycrdt import Array, Map

from ..errors import CloudError, NotFoundError
from ..project.document import comment_to_y, layer_to_y
from .connection import CloudWorkspace, translate_errors
from .documents import RemoteDocument, read_remote
from .layout import ProjectLayout, decode_meta, document_assets, encode_meta
from .transfer import BlobItem, download_items

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


def list_versions(workspace: CloudWorkspace, name: str) -> list[Version]:
    """Every stored version of project ``name``, oldest first."""
    layout = ProjectLayout(workspace.prefix, name)
    versions = []
    with translate_errors(workspace, f"listing versions of {name}"):
        for item in workspace.container.list_blobs(name_starts_with=layout.document, include=["snapshots", "metadata"]):
            if item.name == layout.document and item.snapshot:
                versions.append(_version_from(item, "snapshot", item.snapshot))
        for item in workspace.container.list_blobs(name_starts_with=layout.versions, include=["metadata"]):
            stamp = item.name[len(layout.versions):].removesuffix(".isproj")
            versions.append(_version_from(item, "key", stamp))
    return sorted(versions, key=lambda v: (v.created, v.id))


def find_version(workspace: CloudWorkspace, name: str, ref: str) -> Version:
    """A version by id, by a checkpoint name it carries, or ``"latest"``.

    Raises
    ------
    NotFoundError
        Listing the versions that exist.
    """
    versions = list_versions(workspace, name)
    if ref == "latest" and versions:
        return versions[-1]
    for version in reversed(versions):
        if ref == version.id or ref in version.checkpoints:
            return version
    shown = ", ".join(v.id + (f" ({', '.join(v.checkpoints)})" if v.checkpoints else "") for v in versions[-10:])
    raise NotFoundError(f"no version {ref!r} of project {name!r} in the cloud; versions: {shown or 'none'}")


def read_version(workspace: CloudWorkspace, name: str, version: Version) -> RemoteDocument:
    """The document as it was at ``version``, verified."""
    layout = ProjectLayout(workspace.prefix, name)
    if version.kind == "snapshot":
        remote = read_remote(workspace, layout, snapshot=version.id)
    else:
        remote = read_remote(workspace, layout, blob_name=layout.version(version.id))
    if remote is None:
        raise NotFoundError(f"version {version.id} of project {name!r} is gone; see `imagestudio sync versions {name}`")
    return remote


def restore_version(project: Project, ref: str, workspace: CloudWorkspace | None = None, *,
                    push: bool = True, progress: Any = True) -> dict[str, Any]:
    """Bring the local project's layers, canvas, settings and comments back to a stored version.

    Assets that version needs are downloaded (verified) first. Generations, checkpoints and assets
    are kept, the change can be undone locally, and with ``push`` it is synced as a new version.

    Returns
    -------
    dict
        ``version``, ``layers``, ``downloaded_assets`` and, with ``push``, ``sync`` (the push result).
    """
    from .connection import connect

    workspace = workspace or connect()
    version = find_version(workspace, project.name, ref)
    remote = read_version(workspace, project.name, version)
    if remote.project_id != project.id:
        raise CloudError(f"version {version.id} belongs to another project (id {remote.project_id}); not restored")
    data = remote.data
    layout = ProjectLayout(workspace.prefix, project.name)
    folder = project.assets.folder
    needed = [BlobItem(d, layout.asset(d, ext), folder / f"{d}.{ext}", data["assets"][d].get("bytes", 0))
              for d, ext in document_assets(data).items() if not (folder / f"{d}.{ext}").exists()]
    downloaded = download_items(workspace, needed, progress=progress, description=f"restore {project.name}")
    with project.batch():
        meta = project.doc.get("meta", type=Map)
        for key in ("canvas", "settings"):
            if key in data["meta"]:
                meta[key] = data["meta"][key]
        layers = project.doc.get("layers", type=Array)
        layers.clear()
        layers.extend([layer_to_y(layer) for layer in data["layers"]])
        comments = project.doc.get("comments", type=Array)
        comments.clear()
        comments.extend([comment_to_y(comment) for comment in data["comments"]])
        assets = project.doc.get("assets", type=Map)
        for digest, info in data["assets"].items():
            if digest not in assets:
                assets[digest] = info
    project.save()
    result: dict[str, Any] = {"version": version.as_dict(), "layers": len(data["layers"]),
                              "downloaded_assets": len(downloaded)}
    if push:
        from .blob_sync import push as push_project

        result["sync"] = push_project(project, workspace, progress=progress).as_dict()
    return result
