"""The project document on both sides of a sync: a local snapshot of it, and the remote copy.

The remote document is ``project.isproj`` (canonical JSON), written only under an ETag condition; its
metadata names the SHA-256 of the Y state (``states/<sha>.ystate``) it was made from and of its own
text, so a reader gets a consistent pair and can verify both.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from ..errors import CloudError, DataError
from ..project.document import SCHEMA_VERSION, doc_to_data, dumps_canonical
from .connection import CloudWorkspace, translate_errors
from .layout import ProjectLayout, decode_meta, encode_meta, sha256_hex, state_vector_key
from .transfer import download_verified

if TYPE_CHECKING:
    from ..project import Project

DOCUMENT_FILE = "project.isproj"


def utc_now() -> str:
    """Now, UTC, ISO 8601 with seconds."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class LocalDocument:
    """A consistent snapshot of a document: Y state, canonical JSON text, plain data and state vector."""

    update: bytes
    text: str
    data: dict[str, Any]
    state_vector: bytes

    @classmethod
    def from_doc(cls, doc: Doc) -> LocalDocument:
        data = doc_to_data(doc)
        return cls(doc.get_update(), dumps_canonical(data), data, doc.get_state())

    @classmethod
    def from_update(cls, update: bytes) -> LocalDocument:
        doc = Doc()
        doc.apply_update(update)
        return cls.from_doc(doc)

    @classmethod
    def from_files(cls, folder: Path) -> LocalDocument:
        """Read a project's saved state from its folder's update log (off the main thread: never touches the live doc).

        The log's merged state keeps the project's Y history; a folder without a log (a git checkout) is
        read from its JSON.
        """
        from ..project.ylog import read_state

        return cls.from_update(read_state(folder))

    @cached_property
    def json_sha256(self) -> str:
        return sha256_hex(self.text)

    @cached_property
    def state_sha256(self) -> str:
        return sha256_hex(self.update)

    def includes(self, update: bytes) -> bool:
        """Whether this document already holds everything in ``update`` (merging it would change nothing).

        Cheaper than a merge and a comparison: a Y document emits no update event for a transaction
        that adds nothing, insertions and deletions alike.
        """
        doc = Doc()
        doc.apply_update(self.update)
        events: list[bytes] = []
        subscription = doc.observe(lambda event: events.append(event.update))
        try:
            doc.apply_update(update)
        finally:
            doc.unobserve(subscription)
        return not events

    def merged_with(self, update: bytes) -> LocalDocument:
        """A new snapshot of this document with a remote Y state merged in (the live project is untouched)."""
        doc = Doc()
        doc.apply_update(self.update)
        doc.apply_update(update)
        return LocalDocument.from_doc(doc)

    def same_as(self, other: LocalDocument) -> bool:
        """Whether both hold the same document (same Y state vector and the same canonical JSON)."""
        return (state_vector_key(self.state_vector) == state_vector_key(other.state_vector)
                and self.json_sha256 == other.json_sha256)

    @property
    def project_id(self) -> str:
        return self.data["meta"].get("id", "")

    @property
    def name(self) -> str:
        return str(self.data["meta"].get("name", ""))

    @property
    def checkpoint_ids(self) -> list[str]:
        return [c["id"] for c in self.data.get("checkpoints") or []]


@dataclass
class RemoteDocument:
    """The remote document at one ETag (or one version), verified against its hashes."""

    etag: str
    text: str
    update: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    snapshot: str | None = None

    @cached_property
    def doc(self) -> Doc:
        doc = Doc()
        doc.apply_update(self.update)
        return doc

    @cached_property
    def data(self) -> dict[str, Any]:
        # The Y state is the truth; its canonical JSON equals ``text`` for any document this module wrote.
        return doc_to_data(self.doc)

    @property
    def state_vector(self) -> bytes:
        return self.doc.get_state()

    @property
    def json_sha256(self) -> str:
        return sha256_hex(self.text)

    @property
    def state_sha256(self) -> str:
        return self.metadata.get("ystate_sha256", "")

    @property
    def project_id(self) -> str:
        return self.metadata.get("project_id") or self.data["meta"].get("id", "")

    @property
    def name(self) -> str:
        return str(self.data["meta"].get("name", ""))

    def same_content(self, local: LocalDocument) -> bool:
        return (state_vector_key(self.state_vector) == state_vector_key(local.state_vector)
                and self.json_sha256 == local.json_sha256)


def document_metadata(local: LocalDocument) -> dict[str, str]:
    """Metadata written with the document blob (ASCII only; no secret)."""
    try:
        from ..config import load_config

        user = load_config().user
    except Exception:  # an unreadable config must not stop a backup
        user = getpass.getuser()
    return {"project_id": local.project_id, "project_name": encode_meta(local.name), "ystate_sha256": local.state_sha256, "json_sha256": local.json_sha256,
            "schema": str(SCHEMA_VERSION), "saved_by": encode_meta(user), "saved_at": utc_now()}


def read_remote(workspace: CloudWorkspace, layout: ProjectLayout, *, snapshot: str | None = None,
                blob_name: str | None = None) -> RemoteDocument | None:
    """Download the remote document (or one version of it) and its Y state, verifying both.

    Returns ``None`` when the project has no remote document.

    Raises
    ------
    DataError
        When the text or the Y state does not match the hashes recorded with it.
    """
    from azure.core.exceptions import ResourceNotFoundError

    name = blob_name or layout.document
    with translate_errors(workspace, f"reading {name}"):
        try:
            stream = workspace.container.get_blob_client(name, snapshot=snapshot).download_blob(max_concurrency=1)
        except ResourceNotFoundError:
            return None
        raw = stream.readall()
    metadata = dict(stream.properties.metadata or {})
    if "ystate_sha256" not in metadata:
        raise CloudError(f"{name} was not written by imagestudio sync (it has no Y state reference); "
                         "move it away or use another prefix")
    if sha256_hex(raw) != metadata.get("json_sha256"):
        raise DataError(f"the remote document {name} does not match the hash stored with it: it is corrupt or was "
                        "edited by hand; nothing was merged. `imagestudio sync verify` repairs it from a good copy")
    update = download_verified(workspace, layout.state(metadata["ystate_sha256"]), metadata["ystate_sha256"])
    for key in ("saved_by", "project_name"):
        metadata[key] = decode_meta(metadata.get(key, ""))
    return RemoteDocument(stream.properties.etag, raw.decode("utf-8"), update, metadata, snapshot)


def remote_etag(workspace: CloudWorkspace, layout: ProjectLayout) -> str | None:
    """The remote document's ETag (one HEAD request), or ``None`` if there is none."""
    from azure.core.exceptions import ResourceNotFoundError

    with translate_errors(workspace, f"checking {layout.document}"):
        try:
            return workspace.container.get_blob_client(layout.document).get_blob_properties().etag
        except ResourceNotFoundError:
            return None


class DocumentConflict(Exception):
    """The remote document changed (or appeared, or vanished) since the ETag we knew."""


def write_document(workspace: CloudWorkspace, layout: ProjectLayout, local: LocalDocument,
                   etag: str | None) -> tuple[str, dict[str, str]]:
    """Write the document blob if the remote is still at ``etag`` (or absent, for ``None``).

    Returns the new ETag and the metadata written.

    Raises
    ------
    DocumentConflict
        When the condition fails: merge the remote state and try again.
    """
    from azure.core import MatchConditions
    from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
    from azure.storage.blob import ContentSettings

    metadata = document_metadata(local)
    conditions: dict[str, Any] = ({"overwrite": True, "etag": etag, "match_condition": MatchConditions.IfNotModified}
                                  if etag else {"overwrite": False})
    with translate_errors(workspace, f"uploading {layout.document}"):
        try:
            response = workspace.container.get_blob_client(layout.document).upload_blob(
                local.text.encode("utf-8"), metadata=metadata,
                content_settings=ContentSettings(content_type="application/json; charset=utf-8",
                                                 cache_control="no-cache"), **conditions)
        except (ResourceModifiedError, ResourceExistsError, ResourceNotFoundError):
            raise DocumentConflict() from None
    return response["etag"], metadata


def include_state(project: Project, local: LocalDocument, update: bytes, *,
                  into_project: bool) -> tuple[LocalDocument, bool]:
    """Make ``local`` include a remote Y state; returns the (possibly new) snapshot and whether it changed.

    With ``into_project`` the state is merged into the open project as well (a foreground sync);
    without, only the returned snapshot holds it (a background backup never changes the open project).
    """
    if local.includes(update):
        return local, False
    merged = local.merged_with(update)
    if merged.same_as(local):
        return local, False
    if into_project:
        project.merge_update(update)
        return LocalDocument.from_doc(project.doc), True
    return merged, True
