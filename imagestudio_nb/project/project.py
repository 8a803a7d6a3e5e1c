"""``Project``: a project folder and its Y document, with layers, generations, comments and checkpoints.

Every mutating method runs in one Y transaction whose update is committed to the project's update log
before the method returns (``storage.py``); ``with project.batch():`` groups several into one. Reads and
writes first take in what other processes committed. ``project.isproj`` (canonical JSON) is a snapshot of
the log written soon after changes (``persistence.py``).
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
import weakref
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc, Map, UndoManager

from ..errors import InvalidArgumentError, NotFoundError, ProjectExistsError, UnsupportedParameterError
from .assets import AssetStore
from .document import doc_to_data, fill_doc, new_document_data, new_id, now_iso, restore_ints
from .changes import Changes
from .index import ProjectIndex
from .persistence import WRITER
from .schema import ROOTS
from .roles import EVERYONE, check_role, require, role_of
from .polling import start_polling
from .storage import ProjectStore
from .workspace import DOCUMENT_NAME, check_name, find_project_dir, workspace_path
from .ylog import UpdateLog, storage_error

log = logging.getLogger(__name__)

# One Project instance per folder in a process, so that a notebook's `p` and a `generate(project="name")`
# call share one document and one log connection.
_open_projects: weakref.WeakValueDictionary[Path, Project] = weakref.WeakValueDictionary()
_open_lock = threading.RLock()

#: Functions called as ``hook(project)`` after a snapshot of a project is written (e.g. a debounced cloud
#: backup). A hook must return quickly and never raise; failures are logged and ignored.
SAVE_HOOKS: list = []



def _run_save_hooks(folder: Path) -> None:
    project = _open_projects.get(Path(folder).resolve())
    if project is None:
        return
    for hook in list(SAVE_HOOKS):
        try:
            hook(project)
        except Exception:  # a hook must never make a save fail
            log.exception("save hook %r failed", hook)


WRITER.hooks.append(_run_save_hooks)


def _current_user() -> str | None:
    from ..config import load_config

    try:
        return load_config().user
    except Exception:  # a broken config file must not stop a project from opening
        return None


class Project(Changes):
    """An open project. Create one with :meth:`create`, open one with :meth:`open`.

    Examples
    --------
    >>> import tempfile
    >>> p = Project.create("Demo", workspace=tempfile.mkdtemp())
    >>> layer = p.add_layer("paint", name="Sketch")
    >>> [l["name"] for l in p.layers()]
    ['Sketch']
    >>> Project.open("Demo", workspace=p.path.parent).layers()[0]["id"] == layer
    True
    """

    def __init__(self, path: Path, store: ProjectStore):
        self.path = Path(path)
        self._store = store
        self.doc = store.doc
        self.assets = AssetStore(self)
        self.index = ProjectIndex(self.path / "cache" / "index.sqlite")
        self._batch_depth = 0
        self._unsynced: list[Path] = []  # asset files written without fsync, synced before the next snapshot
        self._origin: str | None = None  # the log row's origin for the change being made, when not this process's
        self._in_exclusive = False  # inside the log's write lock (see _exclusive)
        self._acting_for: str | None = None  # "view" inside on_behalf_of: the transaction origin of a view's changes
        self._schedule_after_commit = False
        self._undo = UndoManager(scopes=[self.doc.get("layers", type=Array), self.doc.get("meta", type=Map),
                                         self.doc.get("comments", type=Array)], capture_timeout_millis=0)
        # Only this view's own edits are undoable here; loading and peers' edits are not.
        self._undo.include_origin("local")
        # This process's changes not yet in the log, every root: a change the log refuses (a full disk) is
        # taken back out of the live document, so "the project keeps its earlier state" holds in memory too.
        self._uncommitted = UndoManager(scopes=[self.doc.get(name, type=kind) for name, kind in ROOTS.items()],
                                        capture_timeout_millis=0)
        self._uncommitted.include_origin("local")
        self._uncommitted.include_origin("view")
        if store.file_damaged:
            WRITER.schedule(self.path, 0.0)

    @property
    def readonly(self) -> bool:
        """Whether the project opened read-only (its folder cannot be written by this process)."""
        return self._store.readonly

    @property
    def log(self) -> UpdateLog:
        """The project's update log (``project.ylog``): every change with its time, user and origin."""
        return self._store.log

    # --- lifecycle -------------------------------------------------------------------------------
    @classmethod
    def create(cls, name: str, *, workspace: str | Path | None = None, width: int = 1024, height: int = 1024,
               owner: str | None = None, exist_ok: bool = False) -> Project:
        """Create a new empty project folder in the workspace (or open it, with ``exist_ok=True``).

        The folder appears whole or not at all: it is built under a temporary name and renamed.

        Raises
        ------
        ProjectExistsError
            When a project of that name exists.
        InvalidArgumentError
            For a bad name or canvas size.
        StorageError
            When the workspace is full or not writable (nothing is left behind).
        """
        check_name(name, workspace=workspace_path(workspace))
        for value, label in ((width, "width"), (height, "height")):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 16384:
                raise InvalidArgumentError(f"{label}={value!r} is out of range; allowed: 1..16384 pixels")
        root = workspace_path(workspace)
        folder = root / name
        if exist_ok and (folder / DOCUMENT_NAME).is_file():
            return cls.open(folder)
        if folder.exists():
            raise ProjectExistsError(f"project {name!r} already exists in {root}; open it or choose another name")
        if owner is None:
            owner = _current_user()
        staging = root / f".create-{uuid.uuid4().hex[:12]}"
        try:
            (staging / "assets").mkdir(parents=True)
            doc = Doc()
            fill_doc(doc, new_document_data(name, width=width, height=height, owner=owner))
            from .ylog import seed_log

            seed_log(staging, doc.get_update(), origin="create", user=owner)
            WRITER.write_now(staging)
            WRITER.forget(staging)
            try:
                staging.rename(folder)
            except OSError:
                if folder.exists():
                    raise ProjectExistsError(f"project {name!r} already exists in {root}; open it or choose "
                                             "another name") from None
                raise
        except OSError as exc:
            raise storage_error(exc, folder / DOCUMENT_NAME, "create the project") from None
        finally:
            WRITER.forget(staging)
            shutil.rmtree(staging, ignore_errors=True)
        return cls.open(folder)

    @classmethod
    def open(cls, name_or_path: str | Path, *, workspace: str | Path | None = None) -> Project:
        """Open a project by name (in the workspace), folder, or ``.isproj`` path.

        A project opens from its update log; a folder without one (a git checkout, a copied folder)
        opens from ``project.isproj`` and starts a log. A damaged file is rebuilt from the log, and a
        damaged log is moved aside, each with a warning.

        Raises
        ------
        ProjectNotFoundError
            Listing the projects that exist.
        DocumentFormatError
            When the document is not readable by this version.
        StorageError
            When the folder is not writable or the disk is full.
        """
        folder = find_project_dir(name_or_path, workspace).resolve()
        with _open_lock:
            project = _open_projects.get(folder)
            if project is not None and project.path.exists():
                project.refresh()
                return project
            project = cls(folder, ProjectStore.load(folder, user=_current_user()))
            _open_projects[folder] = project
        start_polling(project)
        return project

    def save(self) -> Path:
        """Write the snapshot (``project.isproj``) and the search index now, from the log.

        Every change is durable in the log when the call that made it returns; this only brings the
        readable JSON file up to date at once (it is otherwise written a moment after changes).
        """
        self._commit()
        if self._store.readonly:
            return self.path / DOCUMENT_NAME
        return WRITER.write_now(self.path)

    def flush(self) -> None:
        """Write the snapshot now if a change is waiting for it."""
        self._commit()
        if WRITER.pending(self.path):
            WRITER.write_now(self.path)

    def keyframe(self) -> int:
        """Store the whole current state in the log as a keyframe, so opening does not replay every update.

        Keyframes are also written every ``IMAGESTUDIO_KEYFRAME_EVERY`` updates and at checkpoints. Returns
        the keyframe's sequence number.
        """
        self._commit()
        self._store.catch_up(force=True)
        return self._store.log.write_keyframe(self.doc.get_update(), self._store.seen,
                                              origin="checkpoint", user=self._store.user)

    def close(self) -> None:
        """Write the snapshot, stop taking in others' changes and release the log."""
        self.flush()
        with _open_lock:
            if _open_projects.get(self.path.resolve()) is self:
                del _open_projects[self.path.resolve()]
        WRITER.forget(self.path)
        self._store.close()

    # --- roles -----------------------------------------------------------------------------------
    def _require(self, roots: set[str] | frozenset[str]) -> None:
        if self._store.readonly:
            raise self._store.readonly_error()
        require(self.doc.get("roles", type=Map).to_py() or {}, self._store.user, roots)

    def roles(self) -> dict[str, str]:
        """Who has which role: ``{username: role}``; ``"*"`` is everyone not listed (``editor`` by default)."""
        self.refresh()
        return dict(self.doc.get("roles", type=Map).to_py() or {})

    def role(self, username: str | None = None) -> str:
        """The role of ``username`` (the configured user by default): owner, editor, commenter or viewer."""
        return role_of(self.roles(), username if username is not None else self._store.user)

    def set_role(self, username: str, role: str | None) -> dict[str, str]:
        """Give ``username`` a role (``None`` removes it; ``"*"`` sets everyone else's). Owners only.

        The collaborative server enforces the same roles on every update arriving in the project's room.

        Raises
        ------
        PermissionDeniedError
            When the configured user is not an owner.
        """
        if not isinstance(username, str) or not username:
            raise InvalidArgumentError("username must be a non-empty string (a Jupyter username, or '*')")
        if role is not None:
            check_role(role)
        roles = self.roles()
        owners_after = {u for u, r in {**roles, username: role}.items() if r == "owner" and u != EVERYONE}
        if roles and not owners_after:
            raise InvalidArgumentError(f"{username!r} is the last owner of project {self.name!r}; "
                                       "make someone else an owner first")
        with self._change("roles"):
            mapping = self.doc.get("roles", type=Map)
            if role is None:
                if username in mapping:
                    del mapping[username]
            else:
                mapping[username] = role
        return self.roles()

    def to_data(self) -> dict[str, Any]:
        """The document as plain data."""
        self.refresh()
        return doc_to_data(self.doc)

    # --- meta ------------------------------------------------------------------------------------
    @property
    def _meta(self) -> Map:
        return self.doc.get("meta", type=Map)

    @property
    def meta(self) -> dict[str, Any]:
        """Name, id, canvas size, created, owners, fork origin, settings."""
        self.refresh()
        return restore_ints(self._meta.to_py())

    @property
    def name(self) -> str:
        return self._meta["name"]

    @property
    def id(self) -> str:
        return self._meta["id"]

    @property
    def canvas_size(self) -> tuple[int, int]:
        canvas = restore_ints(self._meta["canvas"])
        return canvas["width"], canvas["height"]

    @property
    def settings(self) -> dict[str, Any]:
        """Project overrides of the configuration (never secrets)."""
        return dict(self.meta.get("settings") or {})

    def update_settings(self, **settings: Any) -> dict[str, Any]:
        """Set project overrides (``None`` removes one). Only non-secret keys are allowed."""
        from ..config import PROJECT_OVERRIDABLE

        unknown = set(settings) - PROJECT_OVERRIDABLE
        if unknown:
            raise UnsupportedParameterError("settings", sorted(unknown), sorted(PROJECT_OVERRIDABLE))
        merged = {**self.settings, **settings}
        merged = {k: v for k, v in merged.items() if v is not None}
        with self._change("meta"):
            self._meta["settings"] = merged
        return merged

    def config(self, **arguments: Any):
        """The configuration as seen from this project (its overrides applied)."""
        from ..config import load_config

        return load_config(project_overrides=self.settings, **arguments)

    # --- layers (the operations live in layer_edits.py) -------------------------------------------
    @property
    def _layers(self) -> Array:
        return self.doc.get("layers", type=Array)

    from .layer_edits import (_find_layer, add_layer, add_stroke, deleted_layers, duplicate_layer,  # noqa: E402
                              layer, layers, move_layer, purge_deleted_layers, remove_layer, restore_layer,
                              update_layer)

    def undo(self) -> bool:
        """Undo the last change to layers, meta or comments; ``False`` when there is nothing to undo."""
        if not self._undo.can_undo():
            return False
        self._undo.undo()
        self._commit()
        return True

    def redo(self) -> bool:
        """Redo the last undone change; ``False`` when there is nothing to redo."""
        if not self._undo.can_redo():
            return False
        self._undo.redo()
        self._commit()
        return True

    # --- generations and comments ----------------------------------------------------------------
    def add_generation(self, record: dict[str, Any]) -> str:
        """Append a provenance record (see ``imagestudio_nb.generation``) and return its id."""
        record = {"id": record.get("id") or new_id("g"), "created": record.get("created") or now_iso(), **record}
        with self._change("generations", "assets"):
            self.doc.get("generations", type=Array).append(record)
        return record["id"]

    def generations(self) -> list[dict[str, Any]]:
        """Provenance records, oldest first."""
        self.refresh()
        return restore_ints(self.doc.get("generations", type=Array).to_py() or [])

    def generation(self, generation_id: str) -> dict[str, Any]:
        """One provenance record by id."""
        for record in self.generations():
            if record["id"] == generation_id:
                return record
        raise NotFoundError(f"no generation {generation_id!r} in project {self.name!r}")

    # --- assets metadata (used by AssetStore) ----------------------------------------------------
    def _asset_meta(self, digest: str) -> dict[str, Any] | None:
        value = self.doc.get("assets", type=Map).get(digest)
        return restore_ints(value) if value is not None else None

    def _asset_hashes(self) -> list[str]:
        return list(self.doc.get("assets", type=Map).keys())

    def _all_asset_meta(self) -> list[dict[str, Any]]:
        return [restore_ints(v) for v in self.doc.get("assets", type=Map).values()]

    def _set_asset_meta(self, digest: str, meta: dict[str, Any]) -> None:
        with self._change("assets"):
            self.doc.get("assets", type=Map)[digest] = meta

    def _delete_asset_meta(self, digest: str) -> None:
        with self._change("assets"):
            del self.doc.get("assets", type=Map)[digest]

    # --- search ----------------------------------------------------------------------------------
    def search(self, query: str, *, kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Full-text search over asset tags and sources, generation prompts and models, and prompts."""
        self._commit()
        if not self._store.readonly:
            WRITER.write_now(self.path)  # brings the snapshot and the search index up to date with the log
        return self.index.search(query, kind=kind, limit=limit)

    def __repr__(self) -> str:
        return f"Project({self.name!r}, layers={len(self._layers)}, path={str(self.path)!r})"

    # --- versions, lifecycle and clean-up live in their own modules ------------------------------
    from .versions import checkpoint, checkpoints, diff, restore  # noqa: E402
    from .discussion import (add_comment, comments, mentions_of, messages, reopen_comment,  # noqa: E402
                             resolve_comment, say, threads)
    from .lifecycle import clean_assets, delete, export, fork, references, rename  # noqa: E402

    def render(self):
        """The final RGBA image of the visible layers (the reference renderer, DESIGN.md D3)."""
        from ..imaging.compositing import render_layers

        self.refresh()
        from .derived import DerivedAssets

        return render_layers(self.layers(include_deleted=True), lambda digest: self.assets.read_array(digest, mode="RGBA"),
                             self.canvas_size, cache=DerivedAssets(self.path / "cache" / "derived"))


def import_project(archive: str | Path, *, name: str | None = None, workspace: str | Path | None = None) -> Project:
    """Import a project from a ``.zip`` made by :meth:`Project.export` (see ``archive.py``)."""
    from .archive import import_archive

    return import_archive(Path(archive), name=name, workspace=workspace)


def delete_project(name: str, *, workspace: str | Path | None = None) -> None:
    """Delete a project folder and everything in it."""
    folder = find_project_dir(name, workspace).resolve()
    with _open_lock:
        project = _open_projects.pop(folder, None)
        if project is not None:
            project._store.close()
        WRITER.forget(folder)
        with WRITER.folder_lock(folder):
            shutil.rmtree(folder)


__all__ = ["Project", "import_project", "delete_project", "check_name"]
