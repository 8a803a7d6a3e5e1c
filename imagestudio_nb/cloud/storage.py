"""Storage management in the cloud: usage per project, the quota check, and clean-up.

Clean-up removes only what no kept version references (assets and Y states), and old versions only
when asked to; a dry run (the default) lists what would go. Blobs younger than ``min_age`` are kept,
so a push in progress elsewhere never loses an asset it has uploaded but not yet committed.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..errors import ProjectNotFoundError, QuotaExceededError
from .catalog import list_cloud_projects
from .connection import CloudWorkspace, connect, translate_errors
from .layout import ProjectLayout, document_references
from .migration import locate
from .versions import versions_at

if TYPE_CHECKING:
    from ..project import Project


def format_bytes(size: float) -> str:
    """A byte count for people.

    Examples
    --------
    >>> format_bytes(1536)
    '1.5 KiB'
    >>> format_bytes(12)
    '12 B'
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


def _category(relative: str, snapshot: str | None) -> str:
    head = relative.split("/", 1)[0]
    if relative == "project.isproj":
        return "versions" if snapshot else "document"
    return {"assets": "assets", "states": "states", "versions": "versions", "shares": "shares"}.get(head, "other")


def usage(workspace: CloudWorkspace | None = None, project: Project | str | None = None) -> dict[str, Any]:
    """Bytes and blobs stored per project folder (versions included), the total, and the quota.

    Rows are keyed by folder: a project's id, or the name of a folder written before ids (see
    ``migration.py``); each row names its project.

    Returns
    -------
    dict
        ``{"total_bytes", "quota_bytes", "projects": {folder: {"name", "bytes", "blobs", "assets",
        "document", "states", "versions", "shares", "asset_count", "version_count"}}}``
    """
    workspace = workspace or connect()
    start = locate(workspace, project).layout(workspace.prefix).root if project is not None else workspace.prefix
    names = {p.folder: p.name for p in list_cloud_projects(workspace)}
    projects: dict[str, dict[str, Any]] = {}
    with translate_errors(workspace, "measuring usage"):
        for item in workspace.container.list_blobs(name_starts_with=start, include=["snapshots"]):
            folder, _, relative = item.name[len(workspace.prefix):].partition("/")
            if folder.startswith("."):  # the workspace's own records (shares), not a project
                folder, relative = "(workspace)", "shares/" + relative
            row = projects.setdefault(folder, {"name": names.get(folder, folder), "bytes": 0, "blobs": 0, "assets": 0,
                                               "document": 0, "states": 0, "versions": 0, "shares": 0, "other": 0,
                                               "asset_count": 0, "version_count": 0})
            category = _category(relative, item.snapshot)
            size = item.size or 0
            row["bytes"] += size
            row["blobs"] += 1
            row[category] += size
            row["asset_count"] += category == "assets"
            row["version_count"] += category == "versions"
    return {"total_bytes": sum(row["bytes"] for row in projects.values()), "quota_bytes": workspace.quota_bytes,
            "projects": projects}


def check_quota(workspace: CloudWorkspace, needed: int) -> None:
    """Refuse (before anything is sent) an upload of ``needed`` bytes that would pass the quota.

    Raises
    ------
    QuotaExceededError
        With the figures and what to do.
    """
    quota = workspace.quota_bytes
    if quota is None or needed <= 0:
        return
    with translate_errors(workspace, "measuring usage"):  # one listing: no per-project names needed here
        used = sum(item.size or 0 for item in workspace.container.list_blobs(name_starts_with=workspace.prefix,
                                                                              include=["snapshots"]))
    if used + needed > quota:
        raise QuotaExceededError(
            f"this upload needs {format_bytes(needed)} but the cloud workspace holds {format_bytes(used)} of its "
            f"{format_bytes(quota)} quota; nothing was uploaded. Free space with `imagestudio sync clean PROJECT "
            "--keep-versions N` (it shows a dry run first) or raise [storage] quota_bytes",
            used=used, needed=needed, quota=quota)


def _read_json(workspace: CloudWorkspace, name: str, snapshot: str | None) -> dict[str, Any]:
    blob = workspace.container.get_blob_client(name, snapshot=snapshot)
    return json.loads(blob.download_blob(max_concurrency=1).readall())


def _live_shares(workspace: CloudWorkspace, project_id: str) -> tuple[set[str], set[str]]:
    """The project's shares that can still be opened (not revoked, not expired), and the assets of its
    single-asset ones. A revoked share has no record; an expired one has, but its links no longer work."""
    now = datetime.now(timezone.utc)
    shares, assets = set(), set()
    for name in workspace.container.list_blob_names(name_starts_with=f"{workspace.prefix}.shares/"):
        record = json.loads(workspace.container.get_blob_client(name).download_blob().readall())
        if record.get("project_id") != project_id:
            continue
        expires = datetime.fromisoformat(str(record.get("expires", "")).replace("Z", "+00:00"))
        if (expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)) > now:
            shares.add(record["id"])
            if record.get("asset"):
                assets.add(record["asset"])
    return shares, assets


def clean(project: Project | str, workspace: CloudWorkspace | None = None, *, dry_run: bool = True,
          keep_versions: int | None = None, min_age: float = 3600.0) -> dict[str, Any]:
    """Remove (or with ``dry_run`` list) what no kept version of ``project`` references.

    What live share links show is kept too: each share's frozen document and the assets it names. The
    frozen copies of shares that were revoked or have expired are removed with the rest.

    Parameters
    ----------
    keep_versions : int, optional
        Also remove the oldest sync versions beyond this many; checkpoint versions are always kept.
    min_age : float
        Seconds; younger blobs are kept (a push elsewhere may be about to commit them).

    Returns
    -------
    dict
        ``dry_run``, ``versions`` (ids), ``assets`` and ``states`` (``{"hash", "bytes"}``), ``shares``
        (ids of expired or revoked shares whose frozen copies go), ``bytes``.
    """
    workspace = workspace or connect()
    found = locate(workspace, project)
    layout = found.layout(workspace.prefix)
    versions = versions_at(workspace, layout)
    drop = []
    if keep_versions is not None:
        sync_versions = [v for v in versions if v.reason != "checkpoint"]
        drop = sync_versions[:max(0, len(sync_versions) - max(0, keep_versions))]
    dropped = {v.id for v in drop}
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=min_age)
    keep_assets: set[str] = set()
    keep_states: set[str] = set()
    candidates: list[tuple[str, str, Any]] = []
    shares_root = layout.root + "shares/"
    with translate_errors(workspace, f"cleaning {project}"):
        live_shares, shared_assets = _live_shares(workspace, found.id)
        documents: list[tuple[str, str | None, dict[str, str]]] = []
        for item in workspace.container.list_blobs(name_starts_with=layout.root, include=["snapshots", "metadata"]):
            if item.name == layout.document and (item.snapshot is None or item.snapshot not in dropped):
                documents.append((item.name, item.snapshot, item.metadata or {}))
            elif item.name.startswith(layout.versions) and not item.snapshot:
                stamp = item.name[len(layout.versions):].removesuffix(".isproj")
                if stamp not in dropped:
                    documents.append((item.name, None, item.metadata or {}))
            elif item.name.startswith(shares_root):
                share_id = item.name[len(shares_root):].split("/", 1)[0]
                if share_id in live_shares:
                    if item.name == layout.share_document(share_id):
                        documents.append((item.name, None, item.metadata or {}))  # what the link shows
                else:
                    candidates.append(("shares", item.name, item))
            elif item.name.startswith((layout.assets, layout.states)) and not item.snapshot:
                kind = "assets" if item.name.startswith(layout.assets) else "states"
                candidates.append((kind, item.name, item))
        if not any(name == layout.document or name.startswith(layout.versions) for name, _, _ in documents):
            raise ProjectNotFoundError(f"project {found.name!r} is not in the cloud workspace "
                                       f"{workspace.url}/{workspace.prefix}; `imagestudio sync push` it first")
        keep_assets |= shared_assets
        for name, snapshot, metadata in documents:
            keep_assets |= document_references(_read_json(workspace, name, snapshot))
            keep_states.add(metadata.get("ystate_sha256", ""))
    report: dict[str, Any] = {"project": found.name, "id": found.id, "dry_run": dry_run, "versions": [v.id for v in drop],
                              "assets": [], "states": [], "shares": []}
    doomed: list[tuple[str, str | None]] = [
        (layout.document, v.id) if v.kind == "snapshot" else (layout.version(v.id), None) for v in drop]
    freed = sum(v.size for v in drop)
    for kind, name, item in candidates:
        digest = ProjectLayout.asset_hash(name)
        if kind != "shares" and digest in (keep_assets if kind == "assets" else keep_states):
            continue
        if item.last_modified and item.last_modified > cutoff:
            continue
        if kind == "shares":
            share_id = name[len(shares_root):].split("/", 1)[0]
            if share_id not in report["shares"]:
                report["shares"].append(share_id)
        else:
            report[kind].append({"hash": digest, "bytes": item.size})
        doomed.append((name, None))
        freed += item.size or 0
    report["bytes"] = freed
    if not dry_run and doomed:
        from azure.core.exceptions import ResourceNotFoundError

        def delete(target: tuple[str, str | None]) -> None:
            try:
                workspace.container.get_blob_client(target[0], snapshot=target[1]).delete_blob()
            except ResourceNotFoundError:
                pass

        with translate_errors(workspace, f"cleaning {project}"), ThreadPoolExecutor(workspace.concurrency) as pool:
            list(pool.map(delete, doomed))
    return report
