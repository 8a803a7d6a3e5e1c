"""Moving projects stored under their name (the layout before ids) into their id's folder.

Copies are verified (every blob against its SHA-256, the document against the hash in its metadata) and
the document is written last, so the new folder holds a project only once everything it needs is there.
Snapshot versions become versioned keys with the same ids. The old folder is never changed or deleted:
share links made before the move point into it (``imagestudio sync clean`` leaves it alone too).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .catalog import CloudProject, find_cloud_project, list_cloud_projects
from .connection import CloudWorkspace, translate_errors
from .layout import ProjectLayout, encode_meta, sha256_hex
from .transfer import download_verified, upload_blob_once

if TYPE_CHECKING:
    from ..project import Project


def _copy_once(workspace: CloudWorkspace, source: str, target: str, metadata: dict[str, str],
               snapshot: str | None = None) -> bool:
    from azure.core.exceptions import ResourceExistsError

    with translate_errors(workspace, f"copying {source}"):
        data = workspace.container.get_blob_client(source, snapshot=snapshot).download_blob(max_concurrency=1).readall()
        try:
            workspace.container.upload_blob(target, data, overwrite=False, metadata=metadata)
        except ResourceExistsError:
            return False
    return True


def migrate_project(workspace: CloudWorkspace, project: CloudProject) -> dict[str, Any]:
    """Copy a project stored under its name into its id's folder; returns what was copied.

    Raises
    ------
    DataError
        When a blob of the old folder does not match its hash (nothing is written for the document then).
    """
    from azure.core.exceptions import ResourceExistsError

    old, new = ProjectLayout(workspace.prefix, project.folder), ProjectLayout(workspace.prefix, project.id)
    with translate_errors(workspace, f"listing {old.root}"):
        items = list(workspace.container.list_blobs(name_starts_with=old.root, include=["snapshots", "metadata"]))
    blobs = [item for item in items if not item.snapshot and item.name.startswith((old.assets, old.states))]

    def copy_blob(item: Any) -> bool:
        digest = ProjectLayout.asset_hash(item.name)
        data = download_verified(workspace, item.name, digest)
        return upload_blob_once(workspace, new.root + item.name[len(old.root):], data, digest=digest)

    with ThreadPoolExecutor(workspace.concurrency) as pool:
        copied = sum(pool.map(copy_blob, blobs))
    versions = 0
    for item in items:
        if item.name == old.document and item.snapshot:
            versions += _copy_once(workspace, old.document, new.version(item.snapshot), item.metadata or {}, item.snapshot)
        elif item.name.startswith(old.versions) and not item.snapshot:
            versions += _copy_once(workspace, item.name, new.root + item.name[len(old.root):], item.metadata or {})
    with translate_errors(workspace, f"moving {old.document}"):
        stream = workspace.container.get_blob_client(old.document).download_blob(max_concurrency=1)
        text, metadata = stream.readall(), dict(stream.properties.metadata or {})
        if sha256_hex(text) != metadata.get("json_sha256"):
            raise DataError(f"the remote document {old.document} does not match the hash stored with it; it was not "
                            "moved. `imagestudio sync verify` repairs it from a good copy")
        metadata["project_name"] = encode_meta(project.name)
        try:
            workspace.container.upload_blob(new.document, text, overwrite=False, metadata=metadata)
            moved = True
        except ResourceExistsError:  # moved (or pushed under its id) meanwhile: that copy wins
            moved = False
    return {"id": project.id, "name": project.name, "from": old.root, "to": new.root, "blobs": copied,
            "versions": versions, "document": moved}


def migrate_layout(workspace: CloudWorkspace) -> list[dict[str, Any]]:
    """Move every project still stored under its name into its id's folder (``imagestudio sync migrate``)."""
    return [migrate_project(workspace, project) for project in list_cloud_projects(workspace) if project.legacy]


def migrate_if_stored_by_name(workspace: CloudWorkspace, project_id: str, name: str) -> bool:
    """Move this project if the cloud holds it only under its name; ``True`` when it did.

    Called when the id's folder has no document, so it costs one request in the usual case.
    """
    from azure.core.exceptions import ResourceNotFoundError

    if name == project_id:
        return False
    old = ProjectLayout(workspace.prefix, name)
    with translate_errors(workspace, f"checking {old.document}"):
        try:
            metadata = workspace.container.get_blob_client(old.document).get_blob_properties().metadata or {}
        except ResourceNotFoundError:
            return False
    if metadata.get("project_id") != project_id:
        return False
    migrate_project(workspace, CloudProject(project_id, name, name))
    return True


def locate(workspace: CloudWorkspace, project: Project | str) -> CloudProject:
    """The cloud project of an open project or of a name or id, in its id's folder (moved there if needed).

    Raises
    ------
    ProjectNotFoundError, CloudError
        For a name the cloud does not hold, or holds twice (see :func:`catalog.find_cloud_project`).
    """
    if isinstance(project, str):
        found = find_cloud_project(workspace, project)
        if found.legacy:
            migrate_project(workspace, found)
            found = replace(found, folder=found.id)
        return found
    from azure.core.exceptions import ResourceNotFoundError

    layout = ProjectLayout(workspace.prefix, project.id)
    with translate_errors(workspace, f"checking {layout.document}"):
        try:
            workspace.container.get_blob_client(layout.document).get_blob_properties()
        except ResourceNotFoundError:
            migrate_if_stored_by_name(workspace, project.id, project.name)
    return CloudProject(project.id, project.name, project.id)
