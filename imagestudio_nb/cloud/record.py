"""The local sync record of a project (``cache/cloud.json``): what the remote held at the last sync.

It names the remote by URL, container and prefix only, never a secret. Losing it loses no work: the
next push finds the remote document by a conditional create and merges it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..project.files import write_atomic

RECORD_PATH = Path("cache") / "cloud.json"


@dataclass
class SyncRecord:
    """The remote document as last seen: its ETag, Y state vector and JSON hash, and its checkpoints."""

    etag: str | None = None
    state_vector: str = ""          # the remote Y state vector at that ETag (``state_vector_key``)
    json_sha256: str = ""           # of the remote canonical JSON at that ETag
    state_sha256: str = ""
    checkpoints: list[str] = field(default_factory=list)   # checkpoint ids already labelled on a version
    last_sync: str | None = None
    last_version: str | None = None

    def matches(self, state_vector: bytes, json_sha256: str) -> bool:
        """Whether a local document (by state vector and JSON hash) is what the remote holds."""
        from .layout import state_vector_key

        return (bool(self.etag) and self.state_vector == state_vector_key(state_vector)
                and self.json_sha256 == json_sha256)


def _state_path(project_path: Path, identity: str) -> Path:
    import hashlib

    return Path(project_path) / "cache" / f"cloud-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.ystate"


def load_base_state(project_path: Path, identity: str, record: SyncRecord) -> bytes | None:
    """The Y state the remote held at ``record.etag`` (kept locally), or ``None`` if unknown.

    A document may only be written over that ETag once it includes this state; merging it first is
    what keeps a stale copy (another process's, or a background backup's) from dropping work.
    """
    import hashlib

    try:
        data = _state_path(project_path, identity).read_bytes()
    except FileNotFoundError:
        return None
    return data if hashlib.sha256(data).hexdigest() == record.state_sha256 else None


def save_base_state(project_path: Path, identity: str, update: bytes) -> None:
    """Keep the Y state the remote now holds (see :func:`load_base_state`)."""
    path = _state_path(project_path, identity)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, update)


def load_record(project_path: Path, identity: str) -> SyncRecord:
    """The record of ``project_path`` for the remote named ``identity`` (an empty one if none)."""
    path = Path(project_path) / RECORD_PATH
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        return SyncRecord(**records.get(identity, {}))
    except (FileNotFoundError, ValueError, TypeError):
        return SyncRecord()


def save_record(project_path: Path, identity: str, record: SyncRecord) -> None:
    """Store the record of ``project_path`` for the remote ``identity`` (atomically)."""
    path = Path(project_path) / RECORD_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(records, dict):
            records = {}
    except (FileNotFoundError, ValueError):
        records = {}
    records[identity] = asdict(record)
    write_atomic(path, json.dumps(records, indent=1, sort_keys=True) + "\n")
