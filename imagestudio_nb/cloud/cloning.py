"""Cloning: a whole project from the cloud into the local workspace, with its Y history intact.

The clone's update log is seeded with the remote Y state itself (``ylog.seed_log``), never rebuilt
from the JSON: two copies with separately built Y histories would duplicate every item when merged.
The project is assembled in a hidden folder and appears only when every asset has arrived, verified.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ProjectExistsError, ProjectNotFoundError
from ..project.files import write_atomic
from .blob_sync import download_assets, record_from_remote
from .connection import CloudWorkspace, connect
from .documents import DOCUMENT_FILE, LocalDocument, read_remote
from .migration import locate
from .record import save_base_state, save_record
from .transfer import ProgressCallback

if TYPE_CHECKING:
    from ..project import Project


def clone(name: str, workspace: CloudWorkspace | None = None, *, local_workspace: str | Path | None = None,
          progress: bool | ProgressCallback = True) -> Project:
    """Restore a whole project from the cloud into the local workspace (a fresh machine's first step).

    Parameters
    ----------
    name : str
        The project's name (as last pushed) or its id; when two projects in the cloud share the name,
        the id.

    Raises
    ------
    ProjectExistsError
        When the local workspace already has a project of that name (use ``pull`` on it).
    ProjectNotFoundError
        Listing the projects the cloud workspace holds.
    CloudError
        When the name is held by two projects: the message lists their ids.
    """
    from ..project import Project
    from ..project.workspace import check_name, workspace_path
    from ..project.ylog import seed_log

    workspace = workspace or connect()
    found = locate(workspace, name)
    root = workspace_path(local_workspace)
    check_name(found.name, workspace=root)
    target = root / found.name
    if target.exists():
        raise ProjectExistsError(f"project {found.name!r} already exists in {root}; use "
                                 f"`imagestudio sync pull {found.name}`")
    layout = found.layout(workspace.prefix)
    remote = read_remote(workspace, layout)
    if remote is None:
        raise ProjectNotFoundError(f"project {name!r} vanished from the cloud workspace while cloning; try again")
    staging = root / f".clone-{uuid.uuid4().hex[:8]}"
    try:
        (staging / "assets").mkdir(parents=True)
        download_assets(workspace, layout, staging, remote.data, progress)
        local = LocalDocument.from_doc(remote.doc)
        seed_log(staging, remote.update, origin="cloud")
        write_atomic(staging / DOCUMENT_FILE, local.text)
        save_base_state(staging, workspace.identity, remote.update)
        save_record(staging, workspace.identity, record_from_remote(remote, local.checkpoint_ids))
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    project = Project.open(target)
    project.save()  # builds the search index; the record already matches, so a backup hook has nothing to send
    return project
