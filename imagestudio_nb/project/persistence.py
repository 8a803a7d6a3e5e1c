"""Writing a project to disk: canonical JSON, the Y state beside it, the search index; at once or soon after.

Editing tools save after every change; rewriting the whole document each time would cost a burst of
generations or strokes more than the work itself. So a change only hands the document's Y state (bytes,
taken in the editing thread) to one background writer, which waits for a short quiet spell
(``IMAGESTUDIO_AUTOSAVE_DELAY`` seconds, 0.2 by default; 0 writes at once) and then writes it. The writer
never touches the live document; explicit ``Project.save()``, reads that need the files (search, export)
and interpreter exit all flush first. Assets written without fsync are synced before any document that
references them, so the files on disk are always consistent.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycrdt import Doc

from .document import doc_to_data, dumps_canonical
from .files import fsync_file, write_atomic
from .index import ProjectIndex

log = logging.getLogger(__name__)

DOCUMENT_NAME = "project.isproj"
YSTATE_NAME = "project.ystate"


def autosave_delay() -> float:
    """Seconds of quiet after a change before it is written (``IMAGESTUDIO_AUTOSAVE_DELAY``, default 0.2)."""
    try:
        return max(0.0, float(os.environ.get("IMAGESTUDIO_AUTOSAVE_DELAY", "0.2")))
    except ValueError:
        return 0.2


def ystate_header(text: str) -> bytes:
    """First line of ``project.ystate``: the SHA-256 of the JSON text the state corresponds to."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest().encode() + b"\n"


def file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


@dataclass
class PendingWrite:
    """A document state waiting to be written, and the asset files it needs synced first."""

    update: bytes
    unsynced: list[Path] = field(default_factory=list)
    on_written: Callable[[tuple[int, int] | None, dict[str, Any]], None] | None = None
    due: float = 0.0


def write_project_files(folder: Path, pending: PendingWrite) -> tuple[tuple[int, int] | None, dict[str, Any]]:
    """Write one state: sync its assets, then the Y state, then the JSON, then the index. Returns the stamp."""
    doc = Doc()
    doc.apply_update(pending.update)
    data = doc_to_data(doc)
    text = dumps_canonical(data)
    for path in pending.unsynced:
        fsync_file(path)
    # The Y state travels beside the JSON so that later merges (cloud sync, peers) share this document's
    # history instead of seeing a stranger's copy of the same content.
    write_atomic(folder / YSTATE_NAME, ystate_header(text) + pending.update)
    write_atomic(folder / DOCUMENT_NAME, text)
    stamp = file_stamp(folder / DOCUMENT_NAME)
    ProjectIndex(folder / "cache" / "index.sqlite").rebuild(data)
    return stamp, data


class Writer:
    """The one background writer of the process; a write per folder at a time, the latest state wins."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[Path, PendingWrite] = {}
        self._folder_locks: dict[Path, threading.Lock] = {}
        self._thread: threading.Thread | None = None
        self.errors: dict[Path, BaseException] = {}

    def folder_lock(self, folder: Path) -> threading.Lock:
        with self._cond:
            return self._folder_locks.setdefault(folder, threading.Lock())

    def schedule(self, folder: Path, pending: PendingWrite, delay: float) -> None:
        with self._cond:
            previous = self._pending.get(folder)
            if previous is not None:
                pending.unsynced = previous.unsynced + pending.unsynced
            pending.due = time.monotonic() + delay
            self._pending[folder] = pending
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="imagestudio-writer", daemon=True)
                self._thread.start()
            self._cond.notify()

    def take(self, folder: Path) -> PendingWrite | None:
        with self._cond:
            return self._pending.pop(folder, None)

    def write_now(self, folder: Path, pending: PendingWrite) -> None:
        with self.folder_lock(folder):
            stamp, data = write_project_files(folder, pending)
            self.errors.pop(folder, None)
            if pending.on_written:
                pending.on_written(stamp, data)

    def flush(self, folder: Path | None = None) -> None:
        """Write what is pending (for one folder, or all) in the calling thread."""
        with self._cond:
            folders = [folder] if folder is not None else list(self._pending)
        for item in folders:
            pending = self.take(item)
            if pending is not None:
                self.write_now(item, pending)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    due = [f for f, p in self._pending.items() if p.due <= now]
                    if due:
                        break
                    wait = min((p.due for p in self._pending.values()), default=now + 60) - now
                    self._cond.wait(timeout=max(0.005, wait))
                folder = due[0]
                pending = self._pending.pop(folder)
            try:
                self.write_now(folder, pending)
            except BaseException as exc:  # kept for the next explicit save to report; retried then
                self.errors[folder] = exc
                log.warning("could not save %s in the background: %s", folder, exc)
                with self._cond:
                    if folder not in self._pending:
                        pending.due = time.monotonic() + 1.0
                        self._pending[folder] = pending


WRITER = Writer()
atexit.register(WRITER.flush)
