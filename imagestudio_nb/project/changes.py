"""How a project's changes reach its update log: the change machinery ``Project`` inherits.

A change runs in one Y transaction under the log's write lock, on the state after every row other processes
appended; its update is appended before the lock is released, so it is durable when the call returns. A change
the log refuses is taken back out of the live document. Kept apart from ``project.py``, which holds the project's
life cycle and its content, so that each stays readable.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pycrdt import Array, Map

from ..errors import InvalidArgumentError, StorageError
from .persistence import WRITER, autosave_delay
from .roles import WRITABLE
from .workspace import DOCUMENT_NAME
from .ylog import storage_error

if TYPE_CHECKING:
    from .project import Project

log = logging.getLogger(__name__)

class Changes:
    """The change machinery of ``Project`` (a base class: it expects ``doc``, ``path``, ``_store``, ``_undo``,
    ``_uncommitted``, ``_unsynced``, ``_batch_depth``, ``_origin``, ``_acting_for``, ``_in_exclusive`` and
    ``_require``)."""

    def _commit(self) -> None:
        """Append this process's pending change to the log and schedule the snapshot."""
        if self._batch_depth:
            return
        if self._unsynced and os.environ.get("IMAGESTUDIO_LOG_SYNC", "").lower() == "full":
            from .files import fsync_file

            for path in self._unsynced:  # power-loss durability: the images before the row naming them
                fsync_file(path)
        origin, self._origin = self._origin or ("widget" if self._acting_for else None), None
        try:
            seq = self._store.commit(origin)
        except (StorageError, OSError) as exc:
            self._take_back_uncommitted()
            if isinstance(exc, StorageError):
                raise
            raise storage_error(exc, self.path / DOCUMENT_NAME, "record the change") from None
        if self._in_exclusive:  # durable when the exclusive section commits: it schedules the snapshot then
            self._schedule_after_commit = self._schedule_after_commit or seq is not None
            return
        self._uncommitted.clear()
        if seq is not None:
            unsynced, self._unsynced = self._unsynced, []
            WRITER.schedule(self.path, autosave_delay(), unsynced)

    def _take_back_uncommitted(self) -> None:
        """Undo, in the live document, this process's changes the log did not take.

        The undo is itself a change, kept pending with the refused one: both reach the log together with
        the next change that succeeds, where they cancel out.
        """
        while self._uncommitted.can_undo():
            self._uncommitted.undo()
        self._uncommitted.clear()
        self._undo.clear()

    def _repair_duplicates(self) -> None:
        """Keep one copy of a layer or comment that concurrent moves left twice (the first in order).

        Moving is a delete and an insert of a copy, so two processes moving one layer at once leave two
        copies. Every process keeps the same one (array order is the same everywhere once merged) and
        deletes the others, so the repairs agree.
        """
        doubled = []
        for root in ("layers", "comments"):
            array = self.doc.get(root, type=Array)
            seen: set[Any] = set()
            for index, item in enumerate(array):
                item_id = item.get("id") if isinstance(item, Map) else None
                if item_id in seen:
                    doubled.append((array, index))
                seen.add(item_id)
        if not doubled:
            return
        with self.doc.transaction(origin="repair"):
            for array, index in reversed(doubled):
                del array[index]
        try:
            self._store.commit("repair")
        except StorageError as exc:  # a read-only or full folder: the repair stays in this view only
            log.warning("%s", exc)

    def refresh(self) -> bool:
        """Take in what other processes committed to the log, and edits made to ``project.isproj`` by hand.

        Returns ``True`` when something changed. Every read and change through this object starts with it.
        """
        if self._batch_depth:
            return False
        changed = self._store.catch_up()
        if changed:
            self._repair_duplicates()
        if self._store.take_file_edits():
            changed = True
            WRITER.schedule(self.path, 0.0)
        if self._store.file_damaged:
            self._store.file_damaged = False
            WRITER.schedule(self.path, 0.0)
        return changed

    def merge_update(self, update: bytes) -> None:
        """Merge a Y update (or a whole remote state) into this document: no edit is lost."""
        self.apply_update(update)

    @contextmanager
    def batch(self) -> Iterator[Project]:
        """Group changes into one transaction and one log entry (needs the editor or owner role).

        Other processes wait to write this project while the block runs: keep slow work outside it.
        """
        with self._exclusive():
            self.refresh()
            if not self._batch_depth:
                self._require(WRITABLE["editor"])
            self._batch_depth += 1
            try:
                with self.doc.transaction(origin=self._acting_for or "local"):
                    yield self
            finally:
                self._batch_depth -= 1
                if self._batch_depth == 0:
                    self._commit()

    @contextmanager
    def _change(self, *roots: str) -> Iterator[None]:
        """One change of ``roots`` (checked against the user's role), committed when the block ends."""
        with self._exclusive():
            self.refresh()
            if not self._batch_depth:
                self._require(set(roots or ("layers",)))
            self._batch_depth += 1
            try:
                with self.doc.transaction(origin=self._acting_for or "local"):
                    yield
            finally:
                self._batch_depth -= 1
            self._commit()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Make the outermost change under the log's write lock, on the latest state (``UpdateLog.exclusive``).

        Two processes can then never each change a state the other has already changed: a change made
        while another process moved the same layer would otherwise land on the copy's old place and be lost.
        """
        if self._batch_depth or self._in_exclusive or self._store.readonly:
            yield
            return
        self._in_exclusive = True
        try:
            with self._store.log.exclusive():
                self._store.catch_up(force=True)
                yield
        except BaseException:
            if self._store._inflight:  # appended, but the transaction did not commit: keep it pending
                self._store.uncommit()
                if isinstance(sys.exc_info()[1], StorageError):
                    self._take_back_uncommitted()
            raise
        finally:
            self._in_exclusive = False
        self._store._inflight = []
        self._uncommitted.clear()
        if self._schedule_after_commit:
            self._schedule_after_commit = False
            unsynced, self._unsynced = self._unsynced, []
            WRITER.schedule(self.path, autosave_delay(), unsynced)

    @contextmanager
    def on_behalf_of(self, view: str) -> Iterator[Project]:
        """Make the changes inside the block for a view (a browser editing through this kernel).

        They are logged with origin ``widget`` and left out of this process's own ``undo()``: each view
        undoes only its own edits (its Y UndoManager), and a notebook's ``project.undo()`` only the notebook's.

        Examples
        --------
        >>> import tempfile
        >>> from imagestudio_nb import Project
        >>> p = Project.create("ForAView", workspace=tempfile.mkdtemp())
        >>> mine = p.add_layer("paint", name="Mine")
        >>> with p.on_behalf_of("view-1"):
        ...     theirs = p.add_layer("paint", name="Theirs")
        >>> p.undo(), [l["name"] for l in p.layers()]
        (True, ['Theirs'])
        """
        if not view or not isinstance(view, str):
            raise InvalidArgumentError(f"on_behalf_of needs a view id (a non-empty string), not {view!r}")
        previous, self._acting_for = self._acting_for, "view"
        try:
            yield self
        finally:
            self._acting_for = previous

    @contextmanager
    def as_user(self, username: str) -> Iterator[Project]:
        """Make the changes inside the block as ``username``: their role is checked and the log names them.

        For a server acting for the person who asked (a Studio tab's calls), where the process's own user is
        not that person. Changes only; reads are the same for everyone.

        Examples
        --------
        >>> import tempfile
        >>> from imagestudio_nb import Project
        >>> p = Project.create("AsUser", workspace=tempfile.mkdtemp())  # its creator is the owner
        >>> _ = p.set_role("*", "viewer"), p.set_role("bo", "editor")
        >>> with p.as_user("bo"):
        ...     _ = p.add_layer("paint", name="Bo's")
        >>> p.log.rows()[-1].user
        'bo'
        """
        if not username or not isinstance(username, str):
            raise InvalidArgumentError(f"as_user needs a username, not {username!r}")
        previous, self._store.user = self._store.user, username
        try:
            yield self
        finally:
            self._store.user = previous

    def apply_update(self, update: bytes, *, origin: str | None = None) -> None:
        """Apply a binary Y update from another view and commit it to the log.

        ``origin`` labels the log row (``"widget"`` for a browser view); this process's kind by default.
        """
        if origin is not None:
            self._origin = origin
        self.doc.apply_update(update)
        self._commit()
