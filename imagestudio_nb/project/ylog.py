"""The project's append-only update log (DESIGN.md D1): every change, as a Y update, in ``project.ylog``.

The log is the truth of a project. Each row holds a time, a user, an origin (kernel, cli, room, widget,
...) and the Y update bytes of one change; a row is committed before the call that made the change
returns. Any number of processes append to the same file and read each other's rows, so their documents
converge. Keyframes (the full state) bound the cost of opening; compaction drops updates older than a
window once a keyframe covers them, so the file stays near the size of the document.

This module knows SQLite and Y updates only: no ``Project``, no JSON. Why not pycrdt-store: its
``SQLiteYStore`` is async-only (a kernel would need its own event loop per call), keeps no user or origin
per row, and squashes history after inactivity, which session replay must not lose.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pycrdt import Doc

from ..errors import DataError, StorageError

LOG_NAME = "project.ylog"

#: A keyframe is written after this many updates (and at least half the last keyframe's size in bytes).
KEYFRAME_EVERY = int(os.environ.get("IMAGESTUDIO_KEYFRAME_EVERY", "1000"))
#: Updates newer than this many seconds are kept for replay even when a keyframe covers them.
KEEP_SECONDS = float(os.environ.get("IMAGESTUDIO_LOG_KEEP_SECONDS", str(7 * 24 * 3600)))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    time    REAL    NOT NULL,
    user    TEXT,
    origin  TEXT    NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('update', 'keyframe')),
    covers  INTEGER,             -- for a keyframe: every update with seq <= covers is inside it
    data    BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_kind ON updates (kind, seq);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS snapshots (      -- JSON texts a writer produced from the log, by hash
    sha256  TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL,
    time    REAL    NOT NULL,
    text    BLOB
);
"""


@dataclass(frozen=True)
class LogRow:
    """One row of the log, as session replay and audits read it."""

    seq: int
    time: float
    user: str | None
    origin: str
    kind: str
    data: bytes


def _journal_mode(path: Path) -> str:
    """WAL where it works; the rollback journal on network filesystems, where WAL's shared memory does not."""
    forced = os.environ.get("IMAGESTUDIO_LOG_JOURNAL")
    if forced:
        return forced.upper()
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            best, fstype = "", ""
            target = str(path.resolve())
            for line in mounts:
                parts = line.split()
                if len(parts) > 2 and target.startswith(parts[1]) and len(parts[1]) > len(best):
                    best, fstype = parts[1], parts[2]
    except OSError:
        return "WAL"
    return "DELETE" if fstype.startswith(("nfs", "cifs", "smb", "fuse.sshfs")) else "WAL"


def storage_error(exc: BaseException, path: Path, action: str) -> StorageError:
    """A clear :class:`StorageError` for a failed write (disk full, read-only, locked)."""
    text = str(exc).lower()
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "full" in text:
        why = "the disk is full; free some space and try again"
    elif isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text \
            or "read-only" in text or "unable to open" in text:
        why = "the folder is not writable; check its permissions"
    elif "locked" in text or "busy" in text:
        why = "another process held the project's log too long; try again"
    else:
        why = f"{type(exc).__name__}: {exc}"
    return StorageError(f"could not {action} in {path.parent}: {why}. Nothing was half-written; "
                        "the project keeps its earlier state")


class UpdateLog:
    """The update log of one project folder; one per folder per process, safe to use from several threads."""

    def __init__(self, folder: str | Path, *, create: bool = True, readonly: bool = False):
        self.folder = Path(folder)
        self.path = self.folder / LOG_NAME
        self.readonly = readonly
        if not create and not self.path.exists():
            raise FileNotFoundError(self.path)
        self._lock = threading.RLock()
        self._exclusive = False
        if readonly:
            self._open_copy()
            return
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 30000")
            mode = _journal_mode(self.path)
            if self._db.execute("PRAGMA journal_mode").fetchone()[0].upper() != mode:
                self._db.execute(f"PRAGMA journal_mode = {mode}")
            # NORMAL in WAL mode: a committed row survives the process being killed (it is in the OS's
            # cache); FULL also survives power loss, at an fsync per change.
            sync = os.environ.get("IMAGESTUDIO_LOG_SYNC", "normal").upper()
            self._db.execute(f"PRAGMA synchronous = {'FULL' if sync == 'FULL' else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            text = str(exc).lower()
            if "not a database" in text or "malformed" in text or "corrupt" in text:
                raise DataError(f"{self.path} is damaged ({exc}); move it aside to open the project from "
                                "project.isproj") from None
            raise storage_error(exc, self.path, "open the project's log") from None

    def _open_copy(self) -> None:
        """A private in-memory copy of the log (or an empty one): for a folder this process cannot write."""
        self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        if self.path.exists():
            source = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
            try:
                source.backup(self._db)
            except sqlite3.DatabaseError as exc:
                raise DataError(f"{self.path} is damaged ({exc})") from None
            finally:
                source.close()
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _writing(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._exclusive:  # inside exclusive(): its transaction commits everything at once
                try:
                    yield self._db
                except (sqlite3.OperationalError, OSError) as exc:
                    raise storage_error(exc, self.path, action) from None
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except (sqlite3.OperationalError, OSError) as exc:
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise storage_error(exc, self.path, action) from None

    @property
    def in_exclusive(self) -> bool:
        """Whether this connection is inside :meth:`exclusive` (its appends commit when that ends)."""
        return self._exclusive

    @contextmanager
    def exclusive(self, action: str = "record the change") -> Iterator[None]:
        """Hold the log's write lock for a whole change: read what others appended, make the change, append
        it, commit. No other process can append in between, so every change is made on the latest state
        (processes sharing a log are serialised; only room clients edit truly concurrently). Re-entrant.
        """
        with self._lock:
            if self._exclusive:
                yield
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except (sqlite3.OperationalError, OSError) as exc:
                raise storage_error(exc, self.path, action) from None
            self._exclusive = True
            try:
                yield
            except BaseException:
                self._exclusive = False
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise
            self._exclusive = False
            try:
                self._db.execute("COMMIT")
            except (sqlite3.OperationalError, OSError) as exc:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise storage_error(exc, self.path, action) from None

    # --- writing ---------------------------------------------------------------------------------
    def append(self, update: bytes, *, origin: str, user: str | None = None) -> int:
        """Commit one Y update and return its sequence number; raises :class:`StorageError` when it cannot."""
        with self._writing("record the change") as db:
            cursor = db.execute("INSERT INTO updates (time, user, origin, kind, data) VALUES (?, ?, ?, 'update', ?)",
                                (time.time(), user, origin, update))
            return cursor.lastrowid

    def write_keyframe(self, doc_state: bytes, covers: int, *, origin: str, user: str | None = None) -> int:
        """Store the full state of a document that holds every update up to ``covers``."""
        with self._writing("write a keyframe") as db:
            cursor = db.execute("INSERT INTO updates (time, user, origin, kind, covers, data) "
                                "VALUES (?, ?, ?, 'keyframe', ?, ?)", (time.time(), user, origin, covers, doc_state))
            return cursor.lastrowid

    def needs_keyframe(self) -> bool:
        """Whether enough updates piled up since the last keyframe to make opening slow."""
        with self._lock:
            last = self._db.execute("SELECT seq, length(data) FROM updates WHERE kind = 'keyframe' "
                                    "ORDER BY seq DESC LIMIT 1").fetchone()
            since, size = last if last else (0, 0)
            count, nbytes = self._db.execute("SELECT count(*), coalesce(sum(length(data)), 0) FROM updates "
                                             "WHERE kind = 'update' AND seq > ?", (since,)).fetchone()
        return count >= KEYFRAME_EVERY and nbytes * 2 >= size

    def compact(self, *, keep_seconds: float | None = None) -> int:
        """Drop what replay no longer needs; returns how many rows went.

        The newest keyframe older than the replay window (``keep_seconds``) becomes the replay's start:
        the updates it covers and the keyframes before it go. Everything after it stays, so replay from
        it is exact, and the file stays near the document's size plus the window's updates.
        """
        keep = KEEP_SECONDS if keep_seconds is None else keep_seconds
        horizon = time.time() - keep
        with self._writing("compact the log") as db:
            base = db.execute("SELECT seq, covers FROM updates WHERE kind = 'keyframe' AND time <= ? "
                              "ORDER BY seq DESC LIMIT 1", (horizon,)).fetchone()
            if base is None:
                return 0
            removed = db.execute("DELETE FROM updates WHERE seq < ? AND (kind = 'keyframe' OR seq <= ?)",
                                 base).rowcount
            if removed:
                db.execute("INSERT OR REPLACE INTO info VALUES ('pruned_through', max(?, coalesce("
                           "(SELECT value FROM info WHERE key = 'pruned_through'), 0)))", (base[1],))
        if removed:
            with self._lock:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._db.execute("VACUUM")
        return removed

    def keyframe_covers(self, seq: int) -> int:
        """The last update seq the keyframe at ``seq`` holds."""
        with self._lock:
            row = self._db.execute("SELECT covers FROM updates WHERE seq = ? AND kind = 'keyframe'", (seq,)).fetchone()
        if row is None:
            raise KeyError(f"no keyframe at seq {seq}")
        return row[0]

    # --- reading ---------------------------------------------------------------------------------
    def changed(self) -> bool:
        """Cheap check whether another connection committed since the last call (SQLite's data_version)."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            changed, self._data_version = version != getattr(self, "_data_version", None), version
            return changed

    def read_since_rows(self, seq: int) -> tuple[list[tuple[int, bytes]], int]:
        """The updates after ``seq`` with their sequence numbers (a keyframe first, as seq 0, when compaction
        dropped some of them), and the new last seq."""
        with self._lock:
            pruned = self._db.execute("SELECT value FROM info WHERE key = 'pruned_through'").fetchone()
            if pruned and seq < pruned[0]:
                key = self._db.execute("SELECT covers, data FROM updates WHERE kind = 'keyframe' "
                                       "ORDER BY seq DESC LIMIT 1").fetchone()
                start, head = (key[0], [(0, key[1])]) if key else (0, [])
            else:
                start, head = seq, []
            rows = self._db.execute("SELECT seq, data FROM updates WHERE kind = 'update' AND seq > ? ORDER BY seq",
                                    (start,)).fetchall()
        # The last seq comes from the rows read, never from a second query: a row committed in between
        # would be counted as merged without being merged, and a keyframe claiming it could drop it.
        last = max([start, seq] + [s for s, _ in rows])
        return head + [(s, d) for s, d in rows], last

    def initialize(self, state: bytes, *, origin: str, user: str | None = None) -> int:
        """Store ``state`` as the first update and keyframe, unless another process did first; returns the last seq.

        Two processes opening a folder without a log at once must not each store their own copy: two
        separately built Y histories of the same content would duplicate every item when merged.
        """
        with self._writing("create the project's log") as db:
            if db.execute("SELECT count(*) FROM updates").fetchone()[0] == 0:
                now = time.time()
                seq = db.execute("INSERT INTO updates (time, user, origin, kind, data) VALUES (?, ?, ?, 'update', ?)",
                                 (now, user, origin, state)).lastrowid
                db.execute("INSERT INTO updates (time, user, origin, kind, covers, data) "
                           "VALUES (?, ?, ?, 'keyframe', ?, ?)", (now, user, origin, seq, state))
            return db.execute("SELECT max(seq) FROM updates").fetchone()[0]

    def read_all(self) -> tuple[list[bytes], int]:
        """The newest keyframe and every update after it: enough to rebuild the whole document."""
        with self._lock:
            key = self._db.execute("SELECT covers, data FROM updates WHERE kind = 'keyframe' "
                                   "ORDER BY seq DESC LIMIT 1").fetchone()
            covers, updates = (key[0], [key[1]]) if key else (0, [])
            rows = self._db.execute("SELECT seq, data FROM updates WHERE kind = 'update' AND seq > ? ORDER BY seq",
                                    (covers,)).fetchall()
        last = max([covers] + [row[0] for row in rows])  # see read_since_rows
        return updates + [row[1] for row in rows], last

    def rows(self, *, since: int = 0, kinds: tuple[str, ...] = ("update",)) -> list[LogRow]:
        """Rows after ``since``, oldest first (for replay and audits)."""
        marks = ",".join("?" * len(kinds))
        with self._lock:
            found = self._db.execute(f"SELECT seq, time, user, origin, kind, data FROM updates WHERE seq > ? "
                                     f"AND kind IN ({marks}) ORDER BY seq", (since, *kinds)).fetchall()
        return [LogRow(*row) for row in found]

    def size(self) -> int:
        """Bytes on disk: the database file and its write-ahead log."""
        return sum(p.stat().st_size for p in (self.path, self.path.with_name(LOG_NAME + "-wal")) if p.exists())

    # --- snapshots and the room lease --------------------------------------------------------------
    def record_snapshot(self, sha256: str, seq: int, text: str | None = None) -> None:
        """Remember a JSON text written from the log (so it is never mistaken for a hand edit)."""
        import zlib

        payload = zlib.compress(text.encode("utf-8"), 1) if text is not None else None
        with self._writing("record the snapshot") as db:
            db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?)", (sha256, seq, time.time(), payload))
            # Keep the texts of the last ten (within 16 MB compressed): a hand edit is merged against the one
            # it started from. Keep the hashes of the last 200.
            kept, total = 0, 0
            for sha, size in db.execute("SELECT sha256, coalesce(length(text), 0) FROM snapshots "
                                        "WHERE text IS NOT NULL ORDER BY time DESC").fetchall():
                kept, total = kept + 1, total + size
                if kept > 10 or (kept > 1 and total > 16 * 1024 * 1024):
                    db.execute("UPDATE snapshots SET text = NULL WHERE sha256 = ?", (sha,))
            db.execute("DELETE FROM snapshots WHERE sha256 NOT IN (SELECT sha256 FROM snapshots ORDER BY time DESC LIMIT 200)")

    def snapshot(self, sha256: str) -> tuple[int, str | None] | None:
        """``(seq, text)`` of a JSON text this log produced, or ``None`` for a text it never produced."""
        import zlib

        with self._lock:
            row = self._db.execute("SELECT seq, text FROM snapshots WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return None
        return row[0], zlib.decompress(row[1]).decode("utf-8") if row[1] is not None else None

    def snapshot_texts(self) -> list[tuple[int, str]]:
        """``(seq, text)`` of the snapshots whose text is kept, newest first."""
        import zlib

        with self._lock:
            rows = self._db.execute("SELECT seq, text FROM snapshots WHERE text IS NOT NULL "
                                    "ORDER BY time DESC").fetchall()
        return [(seq, zlib.decompress(text).decode("utf-8")) for seq, text in rows]

    def nearest_snapshot(self, text: str) -> tuple[int, str] | None:
        """The kept snapshot an edited ``text`` most likely started from: the one it shares most lines with.

        A person who opened the file at one snapshot and saved it after others were written must be
        merged against the one they opened, or their stale copy would undo the others' changes.
        """
        lines = set(text.splitlines())
        candidates = self.snapshot_texts()
        if not candidates:
            return None
        return min(candidates, key=lambda candidate: len(lines.symmetric_difference(candidate[1].splitlines())))

    def set_room_lease(self, holder: str, seconds: float) -> None:
        """Say that a collaborative server holds the document (and writes the JSON) for ``seconds``."""
        with self._writing("record the room lease") as db:
            db.execute("INSERT OR REPLACE INTO info VALUES ('room_lease', ?)", (f"{time.time() + seconds}|{holder}",))

    def release_room(self, holder: str) -> None:
        with self._writing("release the room lease") as db:
            db.execute("DELETE FROM info WHERE key = 'room_lease' AND value LIKE ?", (f"%|{holder}",))

    def room_holder(self) -> str | None:
        """Who holds the room now (a live lease), or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT value FROM info WHERE key = 'room_lease'").fetchone()
        if not row:
            return None
        expires, _, holder = str(row[0]).partition("|")
        return holder if float(expires) > time.time() else None


def text_sha(text: str) -> str:
    """The SHA-256 of a JSON text, as the snapshots table records it."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_state(folder: str | Path) -> bytes:
    """The project's whole Y state from its log, or built from ``project.isproj`` when it has no log.

    Safe off the main thread: it never touches an open ``Project``.
    """
    folder = Path(folder)
    if (folder / LOG_NAME).exists():
        log = UpdateLog(folder, create=False)
        try:
            updates, _ = log.read_all()
        finally:
            log.close()
        doc = Doc()
        for update in updates:
            doc.apply_update(update)
        return doc.get_update()
    from .document import loads_document, new_doc
    from .workspace import DOCUMENT_NAME

    path = folder / DOCUMENT_NAME
    return new_doc(loads_document(path.read_bytes(), source=str(path))).get_update()


def seed_log(folder: str | Path, update: bytes, *, origin: str = "cloud", user: str | None = None) -> None:
    """Create ``folder``'s log holding ``update`` as its first keyframe (for a clone, before opening it)."""
    log = UpdateLog(folder)
    try:
        log.initialize(update, origin=origin, user=user)
    finally:
        log.close()
