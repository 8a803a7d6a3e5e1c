"""The workspace: the folder that holds projects, project name rules, listing and lookup."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidArgumentError, ProjectNotFoundError

DOCUMENT_NAME = "project.isproj"
_NAME = re.compile(r"^[\w][\w .\-]{0,99}\Z", re.UNICODE)

# Device names Windows reserves in every folder, with any extension ("con.txt") and in any case; a project
# folder named so cannot be created, copied or unzipped there. The superscript digits are reserved too.
WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL",
                              *(f"{port}{n}" for port in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3")})


def workspace_path(workspace: str | Path | None = None) -> Path:
    """The workspace folder: ``workspace`` if given, else the configured one (created if missing)."""
    if workspace is None:
        from ..config import load_config

        workspace = load_config().workspace
    path = Path(workspace).expanduser().resolve()  # absolute: a project folder under "." is not a name
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fold(name: str) -> str:
    # How a case-insensitive file system (Windows, macOS) compares names: case and composition ignored.
    return unicodedata.normalize("NFC", name).casefold()


def check_name(name: str, *, workspace: str | Path | None = None, current: str | None = None) -> str:
    """Validate a project name: letters, digits, space, ``.``, ``-``, ``_``; at most 100 characters.

    Names that Windows reserves (``CON``, ``NUL``, ``COM1``, ``LPT9``..., with any extension and in any
    case) and names ending in a dot or a space are refused: such a folder cannot exist on Windows. With
    ``workspace``, a name that differs only by case from a project there is refused as well, because
    the two folders would be one folder on Windows and macOS (an exact match is the caller's
    ``ProjectExistsError``); ``current`` is the project's own name when renaming it (``holiday`` to
    ``Holiday`` is allowed).

    Raises
    ------
    InvalidArgumentError
        Saying which rule the name breaks.

    Examples
    --------
    >>> check_name("My Project-2")
    'My Project-2'
    >>> check_name("../etc")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.InvalidArgumentError: project name '../etc' is not allowed: use letters, digits, spaces, '.', '-' and '_' (at most 100 characters, not starting with '.', '-' or a space)
    >>> check_name("nul.txt")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.InvalidArgumentError: project name 'nul.txt' is reserved on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension); choose another name
    """
    if isinstance(name, str) and name.endswith((" ", ".")) and _NAME.match(name.rstrip(" .")):
        raise InvalidArgumentError(f"project name {name!r} ends with a dot or a space, which Windows drops; "
                                   "remove it")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgumentError(
            f"project name {name!r} is not allowed: use letters, digits, spaces, '.', '-' and '_' "
            "(at most 100 characters, not starting with '.', '-' or a space)")
    if name.split(".")[0].rstrip(" ").upper() in WINDOWS_RESERVED:
        raise InvalidArgumentError(f"project name {name!r} is reserved on Windows (CON, PRN, AUX, NUL, COM1-9, "
                                   "LPT1-9, with any extension); choose another name")
    if workspace is not None:
        folder = Path(workspace).expanduser()
        entries = [entry.name for entry in folder.iterdir()] if folder.is_dir() else []
        for other in entries:
            if other not in (name, current) and _fold(other) == _fold(name) and not other.startswith("."):
                raise InvalidArgumentError(
                    f"project name {name!r} differs only by case from the existing project {other!r}; the two "
                    "would be one folder on Windows and macOS: open that one or choose another name")
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
        if document.parent.name.startswith("."):  # an import or fork still being unpacked
            continue
        try:
            data = loads_document(document.read_bytes(), source=str(document))
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
