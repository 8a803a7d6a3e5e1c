"""The audit trail of a project: who changed what and when, replayed from its update log (DESIGN.md D1).

Every row of the log carries a time, a user and an origin (kernel, cli, server, cloud, ...); replaying the
rows in order and comparing the document's parts before and after each one names what it did (a layer
added, a generation recorded with its model, a comment, a checkpoint, a role, a meta field). It only reads
the log; it never writes to a project.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc, Map

#: The document's parts, as the project's schema defines them (compared before and after each row).
PARTS: dict[str, type] = {"meta": Map, "layers": Array, "generations": Array, "comments": Array,
                          "checkpoints": Array, "roles": Map, "assets": Map}


@dataclass(frozen=True)
class AuditEntry:
    """One row of the log and what it changed."""

    seq: int
    time: str
    user: str
    origin: str
    kind: str
    action: str


def _snapshot(doc: Doc) -> dict[str, dict[str, str]]:
    # Each part as {id or key: canonical JSON}, so added, removed and changed items can be named.
    parts = {}
    for name, kind in PARTS.items():
        value = doc.get(name, type=kind).to_py() or ({} if kind is Map else [])
        if kind is Map:
            parts[name] = {str(k): json.dumps(v, sort_keys=True, default=str) for k, v in value.items()}
        else:
            parts[name] = {str(item.get("id", index)) if isinstance(item, dict) else str(index):
                           json.dumps(item, sort_keys=True, default=str) for index, item in enumerate(value)}
    return parts


def _describe(part: str, key: str, after: dict[str, str]) -> str:
    if part != "generations" or key not in after:
        return key
    record = json.loads(after[key])
    prompt = str((record.get("request") or {}).get("prompt", ""))[:40]
    return f"{key} ({record.get('model')}{', ' + repr(prompt) if prompt else ''})"


def _changes(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> str:
    said = []
    for part in PARTS:
        old, new = before[part], after[part]
        added = [k for k in new if k not in old]
        removed = [k for k in old if k not in new]
        changed = [k for k in new if k in old and new[k] != old[k]]
        for sign, keys in (("+", added), ("-", removed), ("~", changed)):
            if keys:
                shown = ", ".join(_describe(part, k, new) for k in keys[:5]) + (" ..." if len(keys) > 5 else "")
                said.append(f"{part} {sign}{len(keys)}: {shown}")
    return "; ".join(said) or "(no visible change)"


def audit_entries(project, *, workspace: str | Path | None = None, since: str | None = None) -> list[AuditEntry]:
    """The project's log, replayed: one :class:`AuditEntry` per row (``since``: ISO time, inclusive)."""
    from .project import Project

    proj = project if hasattr(project, "log") else Project.open(project, workspace=workspace)
    doc = Doc()
    before = _snapshot(doc)
    entries = []
    for row in proj.log.rows(kinds=("keyframe", "update")):
        doc.apply_update(row.data)
        after = _snapshot(doc)
        stamp = datetime.fromtimestamp(row.time, timezone.utc).isoformat(timespec="seconds")
        action = _changes(before, after) if row.kind == "update" else "keyframe: the document as it then was"
        before = after
        if since is None or stamp >= since:
            entries.append(AuditEntry(row.seq, stamp, row.user or "", row.origin, row.kind, action))
    return entries


def audit(project, *, workspace: str | Path | None = None, since: str | None = None):
    """Who did what and when in ``project`` (a name, a path or a Project), as a pandas DataFrame.

    Columns: ``seq, time`` (UTC, ISO), ``user, origin, kind, action``; ``action`` names each part the row
    changed (``layers +1: <id>``, ``generations +1: <id> (<model>, '<prompt>')``, ``meta ~1: name``).

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb.project import Project
    >>> p = Project.create("audited", workspace=tempfile.mkdtemp(), owner="ann")
    >>> _ = p.add_layer("paint", name="sketch")
    >>> audit(p)["action"].iloc[-1].split(":")[0]
    'layers +1'
    """
    import pandas as pd

    rows: list[dict[str, Any]] = [asdict(e) for e in audit_entries(project, workspace=workspace, since=since)]
    return pd.DataFrame(rows, columns=list(AuditEntry.__dataclass_fields__))


__all__ = ["AuditEntry", "audit", "audit_entries"]
