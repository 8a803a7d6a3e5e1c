"""One process's end of a project's update log: load the document, commit changes, take in others' changes.

A change made in this process is collected as Y updates while its transaction runs and committed to the
log (``ylog.py``) before the call that made it returns. Rows other processes appended are merged before
reads and writes, so any number of writers converge. ``project.isproj`` is only a snapshot written in the
background (``persistence.py``); a copy edited by hand is merged field by field (``merge.py``).
This module never writes the JSON file itself.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from pycrdt import Doc, merge_updates

from ..errors import DataError, DocumentFormatError, StorageError
from .document import SCHEMA_VERSION, doc_to_data, dumps_canonical, fill_doc, loads_document
from .merge import merge_data
from .workspace import DOCUMENT_NAME
from .ylog import LOG_NAME, UpdateLog, text_sha

log = logging.getLogger(__name__)

LEGACY_YSTATE = "project.ystate"  # the Y state file of projects saved before the log (read once, then removed)


def process_origin() -> str:
    """What this process is, as recorded in each log row: ``cli``, ``kernel`` or ``python``."""
    override = os.environ.get("IMAGESTUDIO_ORIGIN")
    if override:
        return override
    if "ipykernel" in sys.modules:
        return "kernel"
    if Path(sys.argv[0] if sys.argv else "").name == "imagestudio":
        return "cli"
    return "python"


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _weak_observer(store: ProjectStore):
    """``store._on_transaction`` without a strong reference to the store.

    pycrdt keeps a document's observers on the Rust side, where Python's collector cannot see the cycle
    document -> observer -> store -> document. With a bound method there, every project dropped without
    ``close()`` stayed alive with its log's three file handles for the life of the process (an import loop
    ran out of file descriptors).
    """
    ref = weakref.ref(store)

    def on_transaction(event: Any) -> None:
        target = ref()
        if target is not None:
            target._on_transaction(event)
    return on_transaction


def _unobserve(doc: Doc, subscription: Any) -> None:
    try:
        doc.unobserve(subscription)
    except Exception:  # pycrdt refuses a subscription it no longer has
        pass


class ProjectStore:
    """The log connection, what this process has merged, and the changes it has not committed yet."""

    def __init__(self, folder: Path, doc: Doc, log_: UpdateLog, seen: int, *, user: str | None):
        self.folder = folder
        self.doc = doc
        self.log = log_
        self.seen = seen
        self.user = user
        self.origin = process_origin()
        self._outbox: list[bytes] = []
        self._inflight: list[bytes] = []
        self._own: set[int] = set()
        self._merging = False
        self._lock = threading.RLock()
        self._json_stamp = _file_stamp(folder / DOCUMENT_NAME)
        self.file_damaged = False  # set when project.isproj must be rewritten from the log
        self.readonly = False  # a folder this process cannot write: reads work, changes are refused
        # Taken back when the store is closed or collected: the document's own observer record refers to the
        # document (pycrdt), so a document still observed is never freed either.
        self._unobserve = weakref.finalize(self, _unobserve, doc, doc.observe(_weak_observer(self)))

    # --- loading ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: Path, *, user: str | None = None) -> ProjectStore:
        """Open a project folder: from its log (merging a hand-edited JSON), or from its JSON alone.

        A folder this process cannot write (a shared, read-only examples folder) opens read-only: it can
        be read, rendered and exported, and a change raises :class:`StorageError` saying so.
        """
        if not os.access(folder, os.W_OK):
            return cls._load_readonly(folder, user=user)
        try:
            return cls._load(folder, user=user)
        except StorageError:
            if _writable(folder):
                raise
            return cls._load_readonly(folder, user=user)

    @classmethod
    def _load_readonly(cls, folder: Path, *, user: str | None) -> ProjectStore:
        log_ = UpdateLog(folder, readonly=True)
        updates, last = log_.read_all()
        doc = Doc()
        if updates:
            for update in updates:
                doc.apply_update(update)
            _refuse_newer(doc_to_data(doc), folder / LOG_NAME, log_)
        else:
            document = folder / DOCUMENT_NAME
            fill_doc(doc, loads_document(document.read_bytes(), source=str(document)))
        store = cls(folder, doc, log_, last, user=user)
        store.readonly = True
        return store

    @classmethod
    def _load(cls, folder: Path, *, user: str | None = None) -> ProjectStore:
        document = folder / DOCUMENT_NAME
        log_, (updates, last) = _open_log(folder)
        if log_ is not None:
            if updates:
                doc = Doc()
                for update in updates:
                    doc.apply_update(update)
                _refuse_newer(doc_to_data(doc), folder / LOG_NAME, log_)
                store = cls(folder, doc, log_, last, user=user)
                store.take_file_edits(startup=True)
                return store
        # No usable log: the JSON is the truth (a git checkout, a zip, a project saved before the log).
        if not document.is_file():
            raise DocumentFormatError(f"{folder} has neither a readable {DOCUMENT_NAME} nor a {LOG_NAME}")
        data = loads_document(document.read_bytes(), source=str(document))
        if log_ is None:
            log_ = UpdateLog(folder)
        doc = _legacy_doc(folder, data)
        last = log_.initialize(doc.get_update(), origin="import", user=user)
        updates, last = log_.read_all()
        doc = Doc()
        for update in updates:
            doc.apply_update(update)
        (folder / LEGACY_YSTATE).unlink(missing_ok=True)
        store = cls(folder, doc, log_, last, user=user)
        text = document.read_bytes().decode("utf-8")  # loads_document proved it is UTF-8
        store.log.record_snapshot(text_sha(text), last, text)
        return store

    @classmethod
    def reattach(cls, old: ProjectStore, folder: Path) -> ProjectStore:
        """The same document and pending changes, with the log of the folder's new place (after a rename)."""
        store = cls(folder, old.doc, UpdateLog(folder), old.seen, user=old.user)
        store._outbox, store._own = old._outbox, old._own
        return store

    # --- committing this process's changes -------------------------------------------------------
    def _on_transaction(self, event: Any) -> None:
        if self._merging:
            return
        update = bytes(event.update)
        if len(update) > 2:  # an empty update: a transaction that changed nothing
            self._outbox.append(update)

    def commit(self, origin: str | None = None) -> int | None:
        """Append what this process changed since the last commit; the change is durable on return.

        Raises :class:`~imagestudio_nb.errors.StorageError` when the log cannot be written; the change
        stays pending and is committed with the next one that succeeds.
        """
        with self._lock:
            if not self._outbox:
                return None
            if self.readonly:
                raise self.readonly_error()
            update = self._outbox[0] if len(self._outbox) == 1 else merge_updates(*self._outbox)
            seq = self.log.append(update, origin=origin or self.origin, user=self.user)
            if self.log.in_exclusive:  # given back if the enclosing exclusive section fails to commit
                self._inflight += self._outbox
            self._outbox.clear()
            self._own.add(seq)
            return seq

    def uncommit(self) -> None:
        """The exclusive section that appended the last change failed to commit: keep it pending."""
        with self._lock:
            self._outbox[:0] = self._inflight
            self._inflight = []

    def readonly_error(self) -> StorageError:
        return StorageError(f"project {self.folder.name!r} is in a folder that is not writable ({self.folder.parent}); "
                            "it opened read-only. To change it, make your own copy: `imagestudio project export` "
                            "it, then `imagestudio project import` the archive into your workspace")

    @property
    def pending(self) -> bool:
        return bool(self._outbox)

    # --- taking in others' changes ---------------------------------------------------------------
    def catch_up(self, *, force: bool = False) -> bool:
        """Merge the rows other processes appended since the last look. Returns whether any came."""
        with self._lock:
            if not force and not self.log.changed() and not self._own_pending():
                return False
            rows, last = self.log.read_since_rows(self.seen)
            fresh = [data for seq, data in rows if seq not in self._own]
            if fresh:
                self._merging = True
                try:
                    with self.doc.transaction(origin="log"):
                        for data in fresh:
                            self.doc.apply_update(data)
                finally:
                    self._merging = False
            self.seen = last
            self._own = {seq for seq in self._own if seq > last}
            return bool(fresh)

    def _own_pending(self) -> bool:
        # Our own appends do not change SQLite's data_version; others' rows may sit between them.
        return bool(self._own) and min(self._own) > self.seen + 1

    def take_file_edits(self, *, startup: bool = False) -> bool:
        if self.readonly:
            return False
        return self._take_file_edits(startup=startup)

    def _take_file_edits(self, *, startup: bool = False) -> bool:
        """Merge a ``project.isproj`` edited outside the log (by hand, by git), field by field.

        A file this log wrote itself is recognised by its hash and ignored; a damaged file is left for
        the next snapshot to replace. Returns whether anything changed.
        """
        path = self.folder / DOCUMENT_NAME
        stamp = _file_stamp(path)
        if not startup and stamp == self._json_stamp:
            return False
        self._json_stamp = stamp
        if stamp is None:
            return False
        try:
            raw = path.read_bytes()
        except OSError:
            raw = None
        text = raw.decode("utf-8", errors="replace") if raw is not None else None
        if text is not None and self.log.snapshot(text_sha(text)) is not None:
            return False
        try:
            data = loads_document(raw, source=str(path)) if raw is not None else None
        except DataError as exc:
            data = None
            reason = str(exc)
        else:
            reason = "unreadable"
        if data is None:
            log.warning("%s is damaged (%s); the project was opened from its update log, which has every "
                        "change, and the file will be rewritten", path, reason)
            self.file_damaged = True
            return False
        if data.get("meta", {}).get("id") != doc_to_data(self.doc)["meta"].get("id"):
            log.warning("%s belongs to another project (id %s); ignored", path, data.get("meta", {}).get("id"))
            return False
        base = self.log.nearest_snapshot(dumps_canonical(data))  # snapshots are canonical: compare like with like
        base_data = loads_document(base[1]) if base else None
        with self._lock:
            changed = merge_data(self.doc, data, base=base_data, origin="file")
            if changed:
                self.commit(origin="file")
        if changed:
            log.info("merged the edits made to %s by hand", path)
        return changed

    def close(self) -> None:
        self.closed = True
        self._unobserve()
        self.log.close()


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (permissions and a read-only mount both count)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _refuse_newer(data: dict[str, Any], source: Path, log_: UpdateLog) -> None:
    """A log written by a newer version of the toolkit is refused, as its JSON would be."""
    version = data.get("meta", {}).get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        log_.close()
        raise DocumentFormatError(f"{source} uses schema version {version}, newer than this toolkit's "
                                  f"{SCHEMA_VERSION}; upgrade imagestudio-nb to open it")


def _open_log(folder: Path) -> tuple[UpdateLog | None, tuple[list[bytes], int]]:
    """The folder's log and what it holds (read once: reading proves it usable), or ``None`` when it has
    none; a damaged log is moved aside (with a warning)."""
    path = folder / LOG_NAME
    if not path.exists():
        return None, ([], 0)
    try:
        log_ = UpdateLog(folder, create=False)
        return log_, log_.read_all()
    except StorageError:  # a folder that cannot be written is not a damaged log
        raise
    except Exception as exc:  # DataError, sqlite3.DatabaseError and friends: the file is not a usable log
        aside = path.with_name(f"{LOG_NAME}.damaged-{int(time.time())}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(path) + suffix)
            if source.exists():
                source.rename(Path(str(aside) + suffix))
        log.warning("%s is damaged (%s); moved to %s and the project opened from %s", path, exc, aside.name,
                    DOCUMENT_NAME)
        return None, ([], 0)


def _legacy_doc(folder: Path, data: dict[str, Any]) -> Doc:
    """The document of a folder without a log: its old Y state when present (so its history carries on,
    with the JSON's own edits merged on top), else built from the JSON."""
    doc = Doc()
    ystate = folder / LEGACY_YSTATE
    if ystate.is_file():
        _, _, update = ystate.read_bytes().partition(b"\n")
        try:
            doc.apply_update(update)
        except Exception:
            doc = Doc()
        else:
            merge_data(doc, data, origin="load")
            return doc
    fill_doc(doc, data)
    return doc
