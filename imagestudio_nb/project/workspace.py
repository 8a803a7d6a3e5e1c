"""The workspace: the folder that holds projects, project name rules, listing and lookup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidArgumentError, ProjectNotFoundError

DOCUMENT_NAME = "project.isproj"
_NAME = re.compile(r"^[\w][\w .\-]{0,99}$", re.UNICODE)


def workspace_path(workspace: str | Path | None = None) -> Path:
    """The workspace folder: ``workspace`` if given, else the configured one (created if missing)."""
    if workspace is None:
        from ..config import load_config

        workspace = load_config().workspace
    path = Path(workspace).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_name(name: str) -> str:
    """Validate a project name: letters, digits, space, ``.``, ``-``, ``_``; at most 100 characters.

    Examples
    --------
    >>> check_name("My Project-2")
    'My Project-2'
    >>> check_name("../etc")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.InvalidArgumentError: project name '../etc' is not allowed: use letters, digits, spaces, '.', '-' and '_' (at most 100 characters, not starting with '.', '-' or a space)
    """
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith((" ", ".")):
        raise InvalidArgumentError(
            f"project name {name!r} is not allowed: use letters, digits, spaces, '.', '-' and '_' "
            "(at most 100 characters, not starting with '.', '-' or a space)")
    return name


@dataclass
class ProjectInfo:
    """A line of the project list."""

    name: str
    path: Path
    id: str
    created: str
    layers: int
    generations: int
    assets: int


def list_projects(workspace: str | Path | None = None) -> list[ProjectInfo]:
    """Every project in the workspace, by name."""
    from .document import loads_document

    root = workspace_path(workspace)
    infos = []
    for document in sorted(root.glob(f"*/{DOCUMENT_NAME}")):
        try:
            data = loads_document(document.read_text(encoding="utf-8"), source=str(document))
        except Exception:  # an unreadable project is listed by `imagestudio project show`, not here
            continue
        meta = data["meta"]
        infos.append(ProjectInfo(document.parent.name, document.parent, meta.get("id", ""), meta.get("created", ""),
                                 len(data["layers"]), len(data["generations"]), len(data["assets"])))
    return infos


def find_project_dir(name_or_path: str | Path, workspace: str | Path | None = None) -> Path:
    """The folder of a project given its name in the workspace, its folder, or its ``.isproj`` file.

    Raises
    ------
    ProjectNotFoundError
        Listing the projects that do exist.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.name.endswith(".isproj") and candidate.is_file():
        return candidate.parent
    if (candidate / DOCUMENT_NAME).is_file() and (candidate.is_absolute() or str(name_or_path).startswith(".")):
        return candidate
    root = workspace_path(workspace)
    if isinstance(name_or_path, str) and _NAME.match(name_or_path) and (root / name_or_path / DOCUMENT_NAME).is_file():
        return root / name_or_path
    names = [p.name for p in list_projects(root)]
    known = ", ".join(names) if names else "none yet; create one with Project.create(name)"
    raise ProjectNotFoundError(f"no project {str(name_or_path)!r} in {root}; projects: {known}")
