"""Bringing a stored version back into a project, as a new undoable change that is then pushed.

Nothing is lost: generations, checkpoints and assets stay, and the versions after it stay in the cloud.
This module sits above both ``versions.py`` (reading versions) and ``blob_sync.py`` (pushing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycrdt import Array, Map

from ..errors import CloudError
from ..project.document import comment_to_y, layer_to_y
from .blob_sync import push as push_project
from .connection import CloudWorkspace, connect
from .layout import ProjectLayout, document_assets
from .transfer import BlobItem, download_items
from .versions import find_version, read_version

if TYPE_CHECKING:
    from ..project import Project


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
    workspace = workspace or connect()
    version = find_version(workspace, project, ref)
    layout = ProjectLayout(workspace.prefix, project.id)
    remote = read_version(workspace, layout, version)
    if remote.project_id != project.id:
        raise CloudError(f"version {version.id} belongs to another project (id {remote.project_id}); not restored")
    data = remote.data
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
        result["sync"] = push_project(project, workspace, progress=progress).as_dict()
    return result
