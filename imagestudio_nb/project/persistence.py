"""Writing ``project.isproj`` and the search index: snapshots of the update log, in the background.

Changes are durable once they are in the log (``ylog.py``); the JSON file is a readable, diffable
snapshot of the log's state. One background writer per process keeps, per project folder, its own
shadow document built from the log (never the live one, which belongs to the editing thread), and
writes the snapshot a short while after the first unsaved change (``IMAGESTUDIO_AUTOSAVE_DELAY``
seconds, 0.2 by default): a steady stream of changes is saved every delay, never pushed back. Explicit
``Project.save()``, reads that need the files and interpreter exit write at once. Only one process at a
time writes a folder's snapshot (an advisory lock), and none while a collaborative server holds the
project's room: the server writes the file then.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from pycrdt import Doc

from ..errors import StorageError
from .document import doc_to_data, dumps_canonical
from .files import fsync_file, write_atomic
from .index import ProjectIndex
from .workspace import DOCUMENT_NAME
from .ylog import UpdateLog, storage_error, text_sha

log = logging.getLogger(__name__)

LOCK_NAME = ".snapshot.lock"


def autosave_delay() -> float:
    """Seconds after a change before its snapshot is written (``IMAGESTUDIO_AUTOSAVE_DELAY``, default 0.2)."""
    try:
        return max(0.0, float(os.environ.get("IMAGESTUDIO_AUTOSAVE_DELAY", "0.2")))
    except ValueError:
        return 0.2


@contextmanager
def snapshot_lock(folder: Path):
    """An exclusive advisory lock on writing ``folder``'s snapshot, shared by every process."""
    handle = open(folder / LOCK_NAME, "a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class _Shadow:
    """A folder's snapshot state in the writer: its own log connection and document."""

    def __init__(self, folder: Path):
        self.log = UpdateLog(folder)
        self.doc = Doc()
        self.seen = 0
        self.written_seq = -1
        self.indexed_seq = -1

    def catch_up(self) -> int:
        rows, last = self.log.read_since_rows(self.seen)
        if rows and rows[0][0] == 0:  # compaction dropped rows we had not seen: start from the keyframe
            self.doc = Doc()
        for _, data in rows:
            self.doc.apply_update(data)
        self.seen = last
        return last


class Writer:
    """The background snapshot writer of the process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[Path, float] = {}
        self._shadows: dict[Path, _Shadow] = {}
        self._unsynced: dict[Path, list[Path]] = {}
        self._folder_locks: dict[Path, threading.Lock] = {}
        self._cost: dict[Path, float] = {}  # seconds the folder's last snapshot took
        self._thread: threading.Thread | None = None
        self.errors: dict[Path, BaseException] = {}
        #: Functions called as ``hook(folder)`` after a snapshot is written (e.g. a debounced cloud backup).
        self.hooks: list[Callable[[Path], None]] = []

    def folder_lock(self, folder: Path) -> threading.Lock:
        with self._cond:
            return self._folder_locks.setdefault(Path(folder), threading.Lock())

    def schedule(self, folder: Path, delay: float, unsynced: list[Path] | None = None) -> None:
        """Write ``folder``'s snapshot within ``delay`` seconds (an earlier due time is kept)."""
        folder = Path(folder)
        with self._cond:
            if unsynced:
                self._unsynced.setdefault(folder, []).extend(unsynced)
            # A large document takes long to write, and the writer holds the interpreter while it does:
            # spacing snapshots by a few times their cost keeps that under a fifth of the time.
            # (CPU time, capped: waiting for a lock another thread holds is not the cost of writing.)
            delay = max(delay, min(2.0, 4 * self._cost.get(folder, 0.0))) if delay > 0 else delay
            due = time.monotonic() + delay
            self._due[folder] = min(self._due.get(folder, due), due)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="imagestudio-writer", daemon=True)
                self._thread.start()
            self._cond.notify()

    def forget(self, folder: Path) -> None:
        """Drop a folder (deleted or renamed): nothing pending, its log connection closed."""
        folder = Path(folder)
        with self.folder_lock(folder), self._cond:
            self._due.pop(folder, None)
            self._unsynced.pop(folder, None)
            shadow = self._shadows.pop(folder, None)
        if shadow is not None:
            shadow.log.close()

    def pending(self, folder: Path) -> bool:
        with self._cond:
            return Path(folder) in self._due

    def write_now(self, folder: Path, *, index: bool = True) -> Path:
        """Write the folder's snapshot from its log now, in the calling thread (and the search index,
        unless ``index=False``: the background writer leaves the index to the next search or save, because
        rebuilding it on every snapshot would hold the interpreter from the changes being made)."""
        folder = Path(folder)
        with self._cond:
            self._due.pop(folder, None)
            unsynced = self._unsynced.pop(folder, [])
        with self.folder_lock(folder):
            if not (folder / "project.ylog").exists():
                return folder / DOCUMENT_NAME  # deleted meanwhile
            try:
                for path in unsynced:  # assets reach the disk before a snapshot that names them
                    fsync_file(path)
                started = time.thread_time()
                self._write(folder, index=index)
                self._cost[folder] = time.thread_time() - started
            except OSError as exc:
                with self._cond:
                    self._unsynced.setdefault(folder, []).extend(unsynced)
                raise storage_error(exc, folder / DOCUMENT_NAME, "write the project file") from None
            self.errors.pop(folder, None)
        for hook in list(self.hooks):
            try:
                hook(folder)
            except Exception:  # a hook must never make a save fail
                log.exception("save hook %r failed", hook)
        return folder / DOCUMENT_NAME

    #: Shadow documents kept between writes; the least recently written beyond this are dropped (and
    #: rebuilt from their log if needed again), so a process touching many projects stays small.
    MAX_SHADOWS = 16

    def _write(self, folder: Path, *, index: bool = True) -> None:
        with self._cond:
            shadow = self._shadows.pop(folder, None) or _Shadow(folder)
            self._shadows[folder] = shadow  # most recently used last
            for stale_folder in list(self._shadows)[:-self.MAX_SHADOWS]:
                lock = self._folder_locks.get(stale_folder)
                if lock is not None and lock.acquire(blocking=False):  # never one being written right now
                    try:
                        self._shadows.pop(stale_folder).log.close()
                    finally:
                        lock.release()
        with snapshot_lock(folder):
            last = shadow.catch_up()
            data = doc_to_data(shadow.doc)
            if shadow.written_seq != last:
                if shadow.log.room_holder() is None:
                    text = dumps_canonical(data)
                    current = folder / DOCUMENT_NAME
                    # The hash is recorded before the file appears: a process that reads the new file must
                    # know it as a snapshot, never mistake it for a hand edit.
                    shadow.log.record_snapshot(text_sha(text), last, text)
                    if not (current.is_file() and text_sha(current.read_text(encoding="utf-8", errors="replace"))
                            == text_sha(text)):
                        write_atomic(current, text)
                shadow.written_seq = last
            if index and shadow.indexed_seq != last:
                ProjectIndex(folder / "cache" / "index.sqlite").rebuild(data)
                shadow.indexed_seq = last
            if shadow.log.needs_keyframe():
                shadow.log.write_keyframe(shadow.doc.get_update(), last, origin="keyframe")
                shadow.log.compact()

    def flush(self, folder: Path | None = None) -> None:
        """Write what is due (for one folder, or all) in the calling thread."""
        with self._cond:
            folders = [Path(folder)] if folder is not None else list(self._due)
        for item in folders:
            if folder is not None or self.pending(item):
                try:
                    self.write_now(item)
                except StorageError as exc:
                    if folder is not None:
                        raise
                    log.warning("%s", exc)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    due = [f for f, when in self._due.items() if when <= now]
                    if due:
                        break
                    wait = min(self._due.values(), default=now + 60) - now
                    self._cond.wait(timeout=max(0.005, wait))
                folder = due[0]
            try:
                self.write_now(folder, index=False)
            except BaseException as exc:  # kept for the next explicit save to report; retried then
                self.errors[folder] = exc
                log.warning("could not write the snapshot of %s: %s", folder, exc)
                with self._cond:
                    self._due.setdefault(folder, time.monotonic() + 1.0)


WRITER = Writer()
atexit.register(WRITER.flush)
