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
    state_vector: str = ""          # hex of the remote Y state vector at that ETag
    json_sha256: str = ""           # of the remote canonical JSON at that ETag
    state_sha256: str = ""
    checkpoints: list[str] = field(default_factory=list)   # checkpoint ids already labelled on a version
    last_sync: str | None = None
    last_version: str | None = None

    def matches(self, state_vector: bytes, json_sha256: str) -> bool:
        """Whether a local document (by state vector and JSON hash) is what the remote holds."""
        return bool(self.etag) and self.state_vector == state_vector.hex() and self.json_sha256 == json_sha256


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
