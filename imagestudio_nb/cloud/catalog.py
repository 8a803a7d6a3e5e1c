"""Which projects a cloud workspace holds, by id and by name, read from their documents' metadata.

A project's folder in the container is its id; its name is in the document blob's metadata
(``project_name``), written together with the document under its ETag, so the two never disagree and
there is no separate index to keep in step. This module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CloudError, ProjectNotFoundError
from .connection import CloudWorkspace, translate_errors
from .layout import ProjectLayout, decode_meta, document_folder


@dataclass(frozen=True)
class CloudProject:
    """A project in the cloud: its id, its name (as last pushed) and the folder that holds it.

    Examples
    --------
    >>> CloudProject("3f2a9c", "Demo", "Demo").legacy      # stored under its name, before ids
    True
    >>> CloudProject("3f2a9c", "Demo", "3f2a9c").layout("projects/").document
    'projects/3f2a9c/project.isproj'
    """

    id: str
    name: str
    folder: str
    saved_at: str = ""

    @property
    def legacy(self) -> bool:
        return self.folder != self.id

    def layout(self, prefix: str) -> ProjectLayout:
        return ProjectLayout(prefix, self.folder)


def list_cloud_projects(workspace: CloudWorkspace) -> list[CloudProject]:
    """Every project in the workspace, by name then id (one listing of the prefix, metadata included).

    A project still stored under its name (the layout before ids) is listed from there until it is
    moved (:func:`imagestudio_nb.cloud.migration.migrate_layout`); once moved, only its id's folder counts.
    """
    from azure.core.exceptions import ResourceNotFoundError

    found: dict[str, CloudProject] = {}
    with translate_errors(workspace, f"listing projects in {workspace.prefix or 'the container'}"):
        try:
            items = list(workspace.container.list_blobs(name_starts_with=workspace.prefix, include=["metadata"]))
        except ResourceNotFoundError:  # no container yet: no projects
            return []
    for item in items:
        folder = document_folder(workspace.prefix, item.name)
        if folder is None:
            continue
        metadata = item.metadata or {}
        project_id = metadata.get("project_id") or folder
        project = CloudProject(project_id, decode_meta(metadata.get("project_name")) or folder, folder,
                               metadata.get("saved_at", ""))
        if project_id not in found or found[project_id].legacy:
            found[project_id] = project
    return sorted(found.values(), key=lambda p: (p.name, p.id))


def project_names(workspace: CloudWorkspace) -> list[str]:
    """Names of the projects in the workspace (a name held by two projects appears twice)."""
    return [project.name for project in list_cloud_projects(workspace)]


def describe(projects: list[CloudProject]) -> str:
    """The projects for a message: names, with the id where a name is shared."""
    names = [p.name for p in projects]
    return ", ".join(f"{p.name} (id {p.id})" if names.count(p.name) > 1 else p.name for p in projects) or "none"


def find_cloud_project(workspace: CloudWorkspace, name_or_id: str) -> CloudProject:
    """The project with this id, or else the one project with this name.

    Raises
    ------
    ProjectNotFoundError
        Listing the projects there are.
    CloudError
        When two projects have that name (two workspaces each pushed their own): name the id instead.
    """
    projects = list_cloud_projects(workspace)
    for project in projects:
        if project.id == name_or_id:
            return project
    named = [project for project in projects if project.name == name_or_id]
    if len(named) == 1:
        return named[0]
    if named:
        raise CloudError(f"{len(named)} projects in the cloud workspace are named {name_or_id!r} (ids "
                         f"{', '.join(p.id for p in named)}); give the id of the one you mean")
    raise ProjectNotFoundError(f"no project {name_or_id!r} in the cloud workspace {workspace.url}/{workspace.prefix}; "
                               f"projects there: {describe(projects)}")
