"""Prompt history: every prompt used, with its results (asset hashes), its score and its users'
ratings, searchable with SQLite FTS5, and "prompts that worked" ranked by ratings.

One SQLite file at a path the caller chooses (by default in the user's data folder). Writes are
transactions, so an interrupted write leaves the store as it was. It stores prompts and hashes only,
never image bytes or secrets.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import InvalidArgumentError, NotFoundError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Ratings are ranked by a Bayesian mean: PRIOR_WEIGHT imaginary ratings of PRIOR_MEAN, so that one 5
# does not outrank twenty 4.8s.
PRIOR_MEAN, PRIOR_WEIGHT = 3.0, 2.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompts (
  id INTEGER PRIMARY KEY, text TEXT NOT NULL, norm TEXT NOT NULL UNIQUE, created REAL NOT NULL,
  last_used REAL NOT NULL, uses INTEGER NOT NULL DEFAULT 0, score INTEGER, style TEXT);
CREATE TABLE IF NOT EXISTS generations (
  id TEXT PRIMARY KEY, prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
  created REAL NOT NULL, model TEXT, user TEXT);
CREATE TABLE IF NOT EXISTS results (
  asset TEXT NOT NULL, prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
  generation_id TEXT, PRIMARY KEY (asset, prompt_id));
CREATE TABLE IF NOT EXISTS ratings (
  prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE, asset TEXT NOT NULL DEFAULT '',
  user TEXT NOT NULL, rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5), created REAL NOT NULL,
  PRIMARY KEY (prompt_id, asset, user));
CREATE VIRTUAL TABLE IF NOT EXISTS prompts_fts USING fts5(
  text, content='prompts', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER IF NOT EXISTS prompts_ai AFTER INSERT ON prompts BEGIN
  INSERT INTO prompts_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER IF NOT EXISTS prompts_ad AFTER DELETE ON prompts BEGIN
  INSERT INTO prompts_fts(prompts_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
CREATE TRIGGER IF NOT EXISTS prompts_au AFTER UPDATE OF text ON prompts BEGIN
  INSERT INTO prompts_fts(prompts_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO prompts_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE INDEX IF NOT EXISTS results_prompt ON results(prompt_id);
"""

_RATED = f"""(SELECT COUNT(*) FROM ratings r WHERE r.prompt_id = p.id) AS n_ratings,
 (SELECT AVG(rating) FROM ratings r WHERE r.prompt_id = p.id) AS mean_rating,
 (({PRIOR_MEAN} * {PRIOR_WEIGHT}) + COALESCE((SELECT SUM(rating) FROM ratings r WHERE r.prompt_id = p.id), 0))
   / ({PRIOR_WEIGHT} + (SELECT COUNT(*) FROM ratings r WHERE r.prompt_id = p.id)) AS ranked"""


@dataclass
class HistoryEntry:
    """One prompt of the history with what it produced and how it was rated."""

    id: int
    prompt: str
    created: float
    last_used: float
    uses: int
    score: int | None
    rating: float | None
    ratings: int
    style: str | None = None
    assets: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


#: Environment variable naming the history file; ``off`` turns the default history off.
HISTORY_VARIABLE = "IMAGESTUDIO_PROMPT_HISTORY"


def default_history_path() -> Path | None:
    """``$IMAGESTUDIO_PROMPT_HISTORY``, else ``<user data dir>/imagestudio/prompt_history.sqlite``;
    ``None`` when the variable is ``off``."""
    value = os.environ.get(HISTORY_VARIABLE, "").strip()
    if value.lower() in ("off", "0", "false", "none"):
        return None
    return Path(value).expanduser() if value else platformdirs.user_data_path("imagestudio") / "prompt_history.sqlite"


def normalize_prompt(text: str) -> str:
    """The key under which uses of the same prompt add up: whitespace collapsed, lower case.

    Examples
    --------
    >>> normalize_prompt("  A Cat,   asleep ")
    'a cat, asleep'
    """
    return " ".join(text.split()).lower()


def fts_query(text: str, *, prefix: bool = False) -> str | None:
    """Turn free text into a safe FTS5 query: every word quoted, all required; ``prefix`` on the last.

    Examples
    --------
    >>> fts_query('red "fox" OR cat*', prefix=True)
    '"red" "fox" "or" "cat"*'
    >>> fts_query("  ,, ") is None
    True
    """
    words = [w.lower() for w in re.findall(r"\w+", text, re.UNICODE)]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    if prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


def _timestamp(value: Any) -> float:
    if value is None:
        return time.time()
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time()


class PromptHistory:
    """The prompt history store. Safe to share between threads; open one per file.

    Parameters
    ----------
    path : str or Path, optional
        The SQLite file (created with its folder); ``":memory:"`` for a throw-away store.
        Defaults to :func:`default_history_path`.

    Examples
    --------
    >>> h = PromptHistory(":memory:")
    >>> _ = h.add("a red fox in the snow", assets=["ab" * 32])
    >>> _ = h.rate(5, asset="ab" * 32)
    >>> [e.prompt for e in h.search("fox")], h.top_rated()[0].rating
    (['a red fox in the snow'], 5.0)
    """

    def __init__(self, path: str | Path | None = None):
        if path is None:
            path = default_history_path()
            if path is None:
                raise InvalidArgumentError(f"the default prompt history is off ({HISTORY_VARIABLE}=off); "
                                           "pass a path")
        self.path = path if path == ":memory:" else Path(path)
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            # With WAL, NORMAL keeps the file consistent after a crash and skips the fsync per commit
            # that would otherwise cost every generation a few milliseconds.
            self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    # --- plumbing --------------------------------------------------------------------------------
    class _Transaction:
        def __init__(self, history: PromptHistory):
            self.history = history

        def __enter__(self) -> sqlite3.Connection:
            self.history._lock.acquire()
            self.history._db.execute("BEGIN IMMEDIATE")
            return self.history._db

        def __exit__(self, kind, exc, tb) -> None:
            try:
                self.history._db.execute("ROLLBACK" if kind else "COMMIT")
            finally:
                self.history._lock.release()

    def _write(self) -> PromptHistory._Transaction:
        return PromptHistory._Transaction(self)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> PromptHistory:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0]

    # --- writing ---------------------------------------------------------------------------------
    def add(self, prompt: str, *, model: str | None = None, user: str | None = None,
            assets: Iterable[str] = (), generation_id: str | None = None, created: Any = None,
            style: str | None = None, score: int | None = None) -> int:
        """Record one use of ``prompt`` (and the assets it produced); return the prompt's id.

        A generation id already recorded adds its assets but does not count as a new use, so
        recording the same provenance record twice changes nothing.
        """
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidArgumentError("prompt must be a non-empty string")
        text = " ".join(prompt.split())
        when = _timestamp(created)
        if score is None:
            from .scoring import score as score_prompt

            score = score_prompt(text).total
        with self._write() as db:
            row = db.execute("SELECT id FROM prompts WHERE norm = ?", (normalize_prompt(text),)).fetchone()
            if row is None:
                prompt_id = db.execute("INSERT INTO prompts(text, norm, created, last_used, uses, score, style) "
                                       "VALUES (?, ?, ?, ?, 0, ?, ?)",
                                       (text, normalize_prompt(text), when, when, score, style)).lastrowid
            else:
                prompt_id = row["id"]
            new_use = True
            if generation_id is not None:
                new_use = db.execute("INSERT OR IGNORE INTO generations(id, prompt_id, created, model, user) "
                                     "VALUES (?, ?, ?, ?, ?)",
                                     (str(generation_id), prompt_id, when, model, user)).rowcount == 1
            if new_use:
                db.execute("UPDATE prompts SET uses = uses + 1, last_used = MAX(last_used, ?), text = ?, "
                           "style = COALESCE(?, style) WHERE id = ?", (when, text, style, prompt_id))
            for asset in assets:
                db.execute("INSERT OR IGNORE INTO results(asset, prompt_id, generation_id) VALUES (?, ?, ?)",
                           (str(asset), prompt_id, generation_id))
        return prompt_id

    def rate(self, rating: int, *, asset: str | None = None, prompt: str | int | None = None,
             user: str | None = None) -> int:
        """Rate (1 to 5) one result by its asset hash, or a prompt itself; a user's new rating replaces theirs.

        Returns the id of the prompt rated.

        Raises
        ------
        InvalidArgumentError
            For a rating outside 1..5 or when neither ``asset`` nor ``prompt`` is given.
        NotFoundError
            When the asset or prompt is not in the history.
        """
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidArgumentError(f"rating must be an integer from 1 to 5, not {rating!r}")
        if (asset is None) == (prompt is None):
            raise InvalidArgumentError("rate either an asset (by hash) or a prompt, not both or neither")
        user = user or "user"
        with self._write() as db:
            if asset is not None:
                row = db.execute("SELECT prompt_id FROM results WHERE asset = ? ORDER BY rowid DESC LIMIT 1",
                                 (asset,)).fetchone()
                if row is None:
                    raise NotFoundError(f"asset {asset[:12]}... is not among the results in the prompt history")
            else:
                row = self._find(db, prompt)
                if row is None:
                    raise NotFoundError(f"prompt {prompt!r} is not in the prompt history")
            prompt_id = row[0]
            db.execute("INSERT OR REPLACE INTO ratings(prompt_id, asset, user, rating, created) VALUES (?, ?, ?, ?, ?)",
                       (prompt_id, asset or "", user, rating, time.time()))
        return prompt_id

    def forget(self, prompt: str | int) -> None:
        """Remove a prompt with its results and ratings from the history.

        Raises
        ------
        NotFoundError
            When it is not there.
        """
        with self._write() as db:
            row = self._find(db, prompt)
            if row is None:
                raise NotFoundError(f"prompt {prompt!r} is not in the prompt history")
            db.execute("DELETE FROM prompts WHERE id = ?", (row[0],))

    # --- reading ---------------------------------------------------------------------------------
    @staticmethod
    def _find(db: sqlite3.Connection, prompt: str | int | None):
        if isinstance(prompt, int):
            return db.execute("SELECT id FROM prompts WHERE id = ?", (prompt,)).fetchone()
        return db.execute("SELECT id FROM prompts WHERE norm = ?", (normalize_prompt(str(prompt)),)).fetchone()

    def _entries(self, sql: str, params: tuple = ()) -> list[HistoryEntry]:
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
            entries = []
            for row in rows:
                assets = [r[0] for r in self._db.execute(
                    "SELECT asset FROM results WHERE prompt_id = ? ORDER BY rowid", (row["id"],))]
                models = [r[0] for r in self._db.execute(
                    "SELECT DISTINCT model FROM generations WHERE prompt_id = ? AND model IS NOT NULL ORDER BY model",
                    (row["id"],))]
                mean = row["mean_rating"]
                entries.append(HistoryEntry(row["id"], row["text"], row["created"], row["last_used"], row["uses"],
                                            row["score"], round(mean, 2) if mean is not None else None,
                                            row["n_ratings"], row["style"], assets, models))
        return entries

    def get(self, prompt: str | int) -> HistoryEntry | None:
        """The entry for ``prompt`` (text or id), or ``None``."""
        key = "p.id = ?" if isinstance(prompt, int) else "p.norm = ?"
        value = prompt if isinstance(prompt, int) else normalize_prompt(str(prompt))
        found = self._entries(f"SELECT p.*, {_RATED} FROM prompts p WHERE {key}", (value,))
        return found[0] if found else None

    def recent(self, limit: int = 20) -> list[HistoryEntry]:
        """The most recently used prompts."""
        return self._entries(f"SELECT p.*, {_RATED} FROM prompts p ORDER BY p.last_used DESC, p.id DESC LIMIT ?",
                             (int(limit),))

    def search(self, query: str, *, limit: int = 20, min_rating: float | None = None) -> list[HistoryEntry]:
        """Prompts containing every word of ``query`` (FTS5, accents ignored), best match first.

        An empty query gives :meth:`recent`. ``min_rating`` keeps only prompts rated at least that.
        """
        match = fts_query(query)
        if match is None:
            return self.recent(limit)
        floor = "" if min_rating is None else "WHERE mean_rating >= ?"
        params = (match, *(() if min_rating is None else (float(min_rating),)), int(limit))
        return self._entries(
            f"SELECT * FROM (SELECT p.*, {_RATED}, bm25(prompts_fts) AS relevance FROM prompts_fts "
            f"JOIN prompts p ON p.id = prompts_fts.rowid WHERE prompts_fts MATCH ?) {floor} "
            "ORDER BY relevance, ranked DESC, last_used DESC LIMIT ?", params)

    def complete(self, partial: str, *, limit: int = 5) -> list[HistoryEntry]:
        """Prompts that contain every word of ``partial``, the last one as a prefix; best rated and most used first."""
        match = fts_query(partial, prefix=True)
        if match is None:
            return []
        return self._entries(
            f"SELECT p.*, {_RATED} FROM prompts_fts JOIN prompts p ON p.id = prompts_fts.rowid "
            "WHERE prompts_fts MATCH ? ORDER BY ranked DESC, p.uses DESC, p.last_used DESC LIMIT ?",
            (match, int(limit)))

    def top_rated(self, *, limit: int = 10, min_ratings: int = 1) -> list[HistoryEntry]:
        """"Prompts that worked": rated prompts by Bayesian mean rating, then by number of ratings."""
        return self._entries(
            f"SELECT * FROM (SELECT p.*, {_RATED} FROM prompts p) WHERE n_ratings >= ? "
            "ORDER BY ranked DESC, n_ratings DESC, last_used DESC LIMIT ?", (int(min_ratings), int(limit)))


def _asset_hashes(assets: Any) -> list[str]:
    hashes = []
    for item in assets or []:
        if isinstance(item, str):
            hashes.append(item)
        elif isinstance(item, Mapping):
            value = item.get("hash") or item.get("sha256") or item.get("asset")
            if isinstance(value, str):
                hashes.append(value)
    return hashes


def record_generation(history: PromptHistory, record: Mapping[str, Any]) -> int | None:
    """Record a generation's provenance record in the prompt history; return the prompt's id.

    Parameters
    ----------
    history : PromptHistory
    record : mapping
        ``{"id", "created", "request": {"prompt", "model", "style", ...}, "assets": [hashes], "user", ...}``;
        assets may also be mappings with a ``hash`` key. A record without a prompt is skipped
        (returns ``None``). Recording the same record twice counts it once.

    Examples
    --------
    >>> h = PromptHistory(":memory:")
    >>> rec = {"id": "g1", "created": "2026-11-25T10:00:00+00:00", "user": "ana",
    ...        "request": {"prompt": "a teal teapot, studio light", "model": "local"}, "assets": ["c0ffee" * 10]}
    >>> pid = record_generation(h, rec); pid == record_generation(h, rec), h.get(pid).uses
    (True, 1)
    """
    request = record.get("request") or {}
    prompt = request.get("prompt") if isinstance(request, Mapping) else None
    if not isinstance(prompt, str) or not prompt.strip():
        return None
    model = request.get("model") or record.get("model")
    return history.add(prompt, model=model, user=record.get("user"), assets=_asset_hashes(record.get("assets")),
                       generation_id=record.get("id"), created=record.get("created"), style=request.get("style"))


_default: dict[str, PromptHistory] = {}
_default_lock = threading.Lock()


def default_history() -> PromptHistory | None:
    """The process-wide history at :func:`default_history_path` (opened once), or ``None`` when off."""
    path = default_history_path()
    if path is None:
        return None
    with _default_lock:
        store = _default.get(str(path))
        if store is None:
            store = _default[str(path)] = PromptHistory(path)
        return store


def record_generation_default(record: Mapping[str, Any]) -> int | None:
    """Record a generation in the default history; never raises (a history problem must not fail a generation).

    Called by :func:`imagestudio_nb.generate` after each stored generation. Set
    ``IMAGESTUDIO_PROMPT_HISTORY`` to a file to move the history, or to ``off`` to keep none.
    """
    try:
        store = default_history()
        return record_generation(store, record) if store is not None else None
    except (sqlite3.Error, OSError, InvalidArgumentError) as exc:
        log.warning("could not record the prompt in the history: %s", exc)
        return None
