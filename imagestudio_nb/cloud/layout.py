"""Where a project lives in the container, and which assets a stored document needs.

``<prefix><project id>/`` holds ``project.isproj`` (the canonical JSON, the one blob written under
ETag conditions: its metadata names the Y state it was made from, the project's id and its name),
``states/<sha256>.ystate`` (Y states, immutable), ``assets/<sha256>.<ext>`` (immutable), ``versions/``
(versioned keys where snapshots are not available) and ``shares/<id>/`` (a share's frozen document and
gallery page). The folder is the project's id, never its name: a name changes and two workspaces may
use the same one. Pure naming: no I/O here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from ..imaging.codec import EXTENSIONS, MIME_TYPES

DOCUMENT = "project.isproj"
_EXTENSION_OF_MIME = {mime: EXTENSIONS[fmt] for fmt, mime in MIME_TYPES.items()}


def sha256_hex(data: bytes | str) -> str:
    """SHA-256 of bytes (or UTF-8 text) as hex.

    Examples
    --------
    >>> sha256_hex(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def extension_of(mime: str) -> str:
    """File extension for an asset's MIME type.

    Examples
    --------
    >>> extension_of("image/png")
    'png'
    """
    return _EXTENSION_OF_MIME[mime]


@dataclass(frozen=True)
class ProjectLayout:
    """Blob names of one project in a workspace.

    Examples
    --------
    >>> layout = ProjectLayout("projects/", "3f2a9c")
    >>> layout.document
    'projects/3f2a9c/project.isproj'
    >>> layout.share_document("is0123")
    'projects/3f2a9c/shares/is0123/project.isproj'
    >>> layout.asset("ab" * 32, "png").endswith("/assets/" + "ab" * 32 + ".png")
    True
    >>> layout.asset_hash(layout.asset("ab" * 32, "png")) == "ab" * 32
    True
    """

    prefix: str
    folder: str          # the project's id (a name only in a layout written before ids, see migration.py)

    @property
    def root(self) -> str:
        return f"{self.prefix}{self.folder}/"

    @property
    def document(self) -> str:
        return self.root + DOCUMENT

    @property
    def assets(self) -> str:
        return self.root + "assets/"

    @property
    def states(self) -> str:
        return self.root + "states/"

    @property
    def versions(self) -> str:
        return self.root + "versions/"

    def asset(self, digest: str, extension: str) -> str:
        return f"{self.assets}{digest}.{extension}"

    def state(self, digest: str) -> str:
        return f"{self.states}{digest}.ystate"

    def version(self, stamp: str) -> str:
        return f"{self.versions}{stamp}.isproj"

    def share_root(self, share_id: str) -> str:
        return f"{self.root}shares/{share_id}/"

    def gallery(self, share_id: str) -> str:
        return self.share_root(share_id) + "index.html"

    def share_document(self, share_id: str) -> str:
        return self.share_root(share_id) + DOCUMENT

    @staticmethod
    def asset_hash(blob_name: str) -> str:
        """The hash part of an asset or state blob name."""
        return blob_name.rsplit("/", 1)[-1].split(".", 1)[0]


def document_folder(prefix: str, blob_name: str) -> str | None:
    """The project folder whose document ``blob_name`` is, or ``None`` for any other blob.

    Examples
    --------
    >>> document_folder("projects/", "projects/3f2a9c/project.isproj")
    '3f2a9c'
    >>> document_folder("projects/", "projects/3f2a9c/shares/is01/project.isproj") is None
    True
    """
    if not blob_name.startswith(prefix) or not blob_name.endswith("/" + DOCUMENT):
        return None
    folder = blob_name[len(prefix):-len(DOCUMENT) - 1]
    return folder if folder and "/" not in folder and not folder.startswith(".") else None


def document_assets(data: dict[str, Any]) -> dict[str, str]:
    """Every asset a stored document lists or references, as hash -> extension.

    An asset referenced without metadata (which a sound document never has) is left out: its
    extension is unknown, and clean-up keeps it through :func:`document_references`.
    """
    return {digest: extension_of(meta["mime"]) for digest, meta in (data.get("assets") or {}).items()}


def document_references(data: dict[str, Any]) -> set[str]:
    """Hashes a document needs: its asset list plus what layers, generations and checkpoints reference."""
    refs = set(data.get("assets") or {})
    refs.update(layer["asset"] for layer in data.get("layers") or [] if layer.get("asset"))
    for record in data.get("generations") or []:
        refs.update(record.get("assets") or [])
        request = record.get("request") or {}
        refs.update(request.get("images") or [])
        if request.get("mask"):
            refs.add(request["mask"])
    for checkpoint in data.get("checkpoints") or []:
        refs.update(layer["asset"] for layer in (checkpoint.get("snapshot") or {}).get("layers") or []
                    if layer.get("asset"))
    return refs


def _varuint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, position


def state_vector_key(state_vector: bytes) -> str:
    """A canonical text for a Y state vector (its encoding lists clients in no fixed order).

    Examples
    --------
    >>> state_vector_key(bytes([2, 7, 3, 5, 1])) == state_vector_key(bytes([2, 5, 1, 7, 3]))
    True
    >>> state_vector_key(bytes([2, 7, 3, 5, 1]))
    '5:1,7:3'
    """
    count, position = _varuint(state_vector, 0)
    pairs = []
    for _ in range(count):
        client, position = _varuint(state_vector, position)
        clock, position = _varuint(state_vector, position)
        pairs.append((client, clock))
    return ",".join(f"{client}:{clock}" for client, clock in sorted(pairs))


def encode_meta(value: str) -> str:
    """Blob metadata values must be ASCII: percent-encode the rest.

    Examples
    --------
    >>> decode_meta(encode_meta("Zoë, v2"))
    'Zoë, v2'
    """
    return quote(value, safe=" ,;:@._-")


def decode_meta(value: str | None) -> str:
    return unquote(value or "")
