"""Project lifecycle: rename, delete, fork, export, and clean-up of unreferenced assets."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, ProjectExistsError
from .document import now_iso
from .workspace import check_name

if TYPE_CHECKING:
    from .project import Project


def rename(self: Project, new_name: str) -> Project:
    """Rename the project (its folder and its name); returns ``self``."""
    check_name(new_name, workspace=self.path.parent, current=self.name)
    target = self.path.parent / new_name
    if target.exists() and target.resolve() != self.path.resolve():
        raise ProjectExistsError(f"project {new_name!r} already exists; choose another name")
    from .persistence import WRITER
    from .project import _open_lock, _open_projects
    from .storage import ProjectStore

    self.flush()
    with _open_lock:
        WRITER.forget(self.path)
        # The log's connection is tied to the old path (its journal files are opened by name).
        self._store.close()
        with WRITER.folder_lock(self.path):
            self.path.rename(target)
        _open_projects.pop(self.path.resolve(), None)
        self.path = target
        self._store = ProjectStore.reattach(self._store, target)
        _open_projects[target.resolve()] = self
    self.assets.folder = target / "assets"
    self.index.path = target / "cache" / "index.sqlite"
    with self._change("meta"):
        self._meta["name"] = new_name
    return self


def delete(self: Project, *, confirm: bool = False) -> None:
    """Delete the project folder. Pass ``confirm=True``: this cannot be undone."""
    if not confirm:
        raise InvalidArgumentError("delete() removes the project and all its assets; call delete(confirm=True)")
    from .persistence import WRITER
    from .project import _open_lock, _open_projects

    with _open_lock:
        _open_projects.pop(self.path.resolve(), None)
        WRITER.forget(self.path)
        self._store.close()
        with WRITER.folder_lock(self.path):
            shutil.rmtree(self.path)


def fork(self: Project, new_name: str) -> Project:
    """Copy the project under a new name and a new id, with a link to its source.

    Whoever forks owns the fork (a viewer may fork to suggest changes). The fork shares the project's
    history, and its log starts with the state it was forked from, so its changes can be reviewed and
    merged back (see ``suggestions.py``).
    """
    from pycrdt import Doc, Map

    from .project import Project
    from .ylog import UpdateLog, seed_log

    check_name(new_name, workspace=self.path.parent)
    target = self.path.parent / new_name
    if target.exists():
        raise ProjectExistsError(f"project {new_name!r} already exists; choose another name")
    user = self._store.user
    tmp = self.path.parent / f".fork-{uuid.uuid4().hex[:8]}"
    self.flush()
    try:
        # A log of its own (copying a live SQLite file could catch it mid-write): first the state forked
        # from, then the fork's own identity as one change on top of the same history.
        shutil.copytree(self.path, tmp, ignore=shutil.ignore_patterns("cache", "project.ylog*", ".snapshot.lock",
                                                                 "project.isproj"))
        state = self.doc.get_update()
        seed_log(tmp, state, origin="fork", user=user)
        doc = Doc()
        doc.apply_update(state)
        changes: list[bytes] = []
        doc.observe(lambda event: changes.append(bytes(event.update)))
        with doc.transaction(origin="fork"):
            meta = doc.get("meta", type=Map)
            meta["forked_from"] = {"id": self.id, "name": self.name, "at": now_iso()}
            meta["id"] = uuid.uuid4().hex
            meta["name"] = new_name
            if user:
                doc.get("roles", type=Map)[user] = "owner"
        log = UpdateLog(tmp)
        try:
            for change in changes:
                log.append(change, origin="fork", user=user)
        finally:
            log.close()
        from .persistence import WRITER

        WRITER.write_now(tmp)  # the fork's own project.isproj, from its log
        WRITER.forget(tmp)
        forked = Project.open(tmp)
        _forget(tmp)
        forked.close()
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Project.open(target)


def _forget(folder: Path) -> None:
    from .project import _open_lock, _open_projects

    with _open_lock:
        _open_projects.pop(Path(folder).resolve(), None)


def export(self: Project, archive: str | Path) -> Path:
    """Export the document and its assets to one ``.zip`` (see ``archive.py``)."""
    from .archive import export_archive

    self.save()
    return export_archive(self, Path(archive))


def references(self: Project, *, include_deleted_layers: bool = True) -> set[str]:
    """Hashes of assets referenced by any layer (deleted ones too, by default: they can be restored),
    generation or checkpoint."""
    refs: set[str] = set()

    def from_layers(layers: list[dict[str, Any]]) -> None:
        refs.update(layer["asset"] for layer in layers if layer.get("asset"))

    from_layers(self.layers(include_deleted=include_deleted_layers))
    for record in self.generations():
        refs.update(record.get("assets") or [])
        refs.update((record.get("request") or {}).get("images") or [])
        mask = (record.get("request") or {}).get("mask")
        if mask:
            refs.add(mask)
    from pycrdt import Array

    from .document import restore_ints

    for cp in restore_ints(self.doc.get("checkpoints", type=Array).to_py() or []):
        from_layers(cp["snapshot"]["layers"])
    return refs


def clean_assets(self: Project, *, dry_run: bool = True) -> list[dict[str, Any]]:
    """Remove assets no layer, generation or checkpoint references; with ``dry_run`` only list them.

    Cleaning up empties the deleted layers too (``purge_deleted_layers``: they can no longer be restored), so
    the images only they used go with it.
    """
    keep = self.references(include_deleted_layers=False)
    unreferenced = [info for info in self.assets.list() if info.hash not in keep]
    if not dry_run:
        with self.batch():
            self.purge_deleted_layers()
            for info in unreferenced:
                self.assets._remove(info.hash)
    return [info.as_dict() for info in unreferenced]
