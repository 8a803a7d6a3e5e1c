"""The SQLite index of a project (stdlib ``sqlite3`` with FTS5): search over assets, generations and prompts.

The index is derived data in ``<project>/cache/index.sqlite``: it is rebuilt from the document on
every save, so it can be deleted at any time and is never exported or synced.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS assets (hash TEXT PRIMARY KEY, mime TEXT, width INTEGER, height INTEGER,
    bytes INTEGER, created TEXT, tags TEXT, source TEXT);
CREATE TABLE IF NOT EXISTS generations (id TEXT PRIMARY KEY, created TEXT, provider TEXT, model TEXT,
    prompt TEXT, seed INTEGER, user TEXT, assets TEXT);
CREATE TABLE IF NOT EXISTS prompts (prompt TEXT PRIMARY KEY, uses INTEGER, last_used TEXT);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(kind UNINDEXED, ref UNINDEXED, text, tags,
    tokenize = 'unicode61 remove_diacritics 2');
"""


def _match_expression(query: str) -> str:
    """Turn free text into an FTS5 expression: every word must match, as a prefix.

    Examples
    --------
    >>> _match_expression('red "fox" at-dawn')
    '"red"* AND "fox"* AND "at"* AND "dawn"*'
    """
    words = re.findall(r"\w+", query, flags=re.UNICODE)
    return " AND ".join(f'"{w}"*' for w in words)


class ProjectIndex:
    """Search over one project's assets, generations and prompts."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        # Derived data, rebuilt on every save: durability is not worth an fsync per save.
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA journal_mode = MEMORY")
        connection.executescript(_SCHEMA)
        return connection

    def rebuild(self, data: dict[str, Any]) -> None:
        """Replace the index content with what ``data`` (plain document data) holds, in one transaction."""
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM assets")
            db.execute("DELETE FROM generations")
            db.execute("DELETE FROM prompts")
            db.execute("DELETE FROM search")
            for digest, meta in data.get("assets", {}).items():
                tags = " ".join(meta.get("tags") or [])
                db.execute("INSERT INTO assets VALUES (?,?,?,?,?,?,?,?)",
                           (digest, meta.get("mime"), meta.get("width"), meta.get("height"), meta.get("bytes"),
                            meta.get("created"), tags, meta.get("source")))
                db.execute("INSERT INTO search VALUES ('asset', ?, ?, ?)",
                           (digest, f"{meta.get('source') or ''} {meta.get('mime', '')}", tags))
            prompts: dict[str, tuple[int, str]] = {}
            for record in data.get("generations", []):
                request = record.get("request") or {}
                prompt = request.get("prompt") or ""
                db.execute("INSERT OR REPLACE INTO generations VALUES (?,?,?,?,?,?,?,?)",
                           (record.get("id"), record.get("created"), record.get("provider"), record.get("model"),
                            prompt, request.get("seed"), record.get("user"), " ".join(record.get("assets") or [])))
                text = " ".join(filter(None, [prompt, *(record.get("revised_prompts") or []),
                                              record.get("model"), record.get("provider")]))
                db.execute("INSERT INTO search VALUES ('generation', ?, ?, '')", (record.get("id"), text))
                uses, last = prompts.get(prompt, (0, ""))
                prompts[prompt] = (uses + 1, max(last, record.get("created") or ""))
            for prompt, (uses, last) in prompts.items():
                db.execute("INSERT INTO prompts VALUES (?,?,?)", (prompt, uses, last))
                db.execute("INSERT INTO search VALUES ('prompt', ?, ?, '')", (prompt, prompt))

    def search(self, query: str, *, kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Rank entries matching every word of ``query`` (prefixes allowed), best first.

        ``kind`` restricts to ``"asset"``, ``"generation"`` or ``"prompt"``.
        """
        expression = _match_expression(query)
        if not expression:
            return []
        sql = ("SELECT kind, ref, snippet(search, 2, '**', '**', '...', 12), tags, bm25(search) "
               "FROM search WHERE search MATCH ?")
        params: list[Any] = [expression]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY bm25(search) LIMIT ?"
        params.append(limit)
        with closing(self._connect()) as db:
            rows = db.execute(sql, params).fetchall()
        return [{"kind": k, "ref": r, "snippet": s, "tags": t.split() if t else [], "score": -b}
                for k, r, s, t, b in rows]

    def prompts(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Prompts used in the project, most used first."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT prompt, uses, last_used FROM prompts ORDER BY uses DESC, last_used DESC "
                              "LIMIT ?", (limit,)).fetchall()
        return [{"prompt": p, "uses": u, "last_used": t} for p, u, t in rows]
