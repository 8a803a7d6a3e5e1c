"""What the cloud holds of one project, read in one listing, set against what the last push left there.

Push starts here: the listing gives the document's ETag and the hashes in its metadata, and every Y state
and asset present, so a remote that lost the last push (deleted, restored from an older copy, recreated
empty) is noticed from the remote's side, not assumed from the local sync record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .connection import CloudWorkspace, translate_errors
from .layout import ProjectLayout
from .record import SyncRecord


@dataclass
class RemoteInventory:
    """The base blobs under a project's folder, and its document's ETag and metadata (``None`` if absent)."""

    container_exists: bool
    etag: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)

    @property
    def json_sha256(self) -> str:
        return self.metadata.get("json_sha256", "")

    @property
    def state_sha256(self) -> str:
        return self.metadata.get("ystate_sha256", "")


def quoted_etag(etag: str) -> str:
    """An ETag as HEAD and upload answers give it (quoted); listings give it bare.

    Examples
    --------
    >>> quoted_etag('0x1DC0') == quoted_etag('"0x1DC0"') == '"0x1DC0"'
    True
    """
    return etag if etag.startswith('"') else f'"{etag}"'


def take_inventory(workspace: CloudWorkspace, layout: ProjectLayout) -> RemoteInventory:
    """List the project's folder once (metadata included); a missing container is reported, not raised."""
    from azure.core.exceptions import ResourceNotFoundError

    inventory = RemoteInventory(container_exists=True)
    with translate_errors(workspace, f"listing {layout.root}"):
        try:
            for item in workspace.container.list_blobs(name_starts_with=layout.root, include=["metadata"]):
                inventory.names.add(item.name)
                if item.name == layout.document:
                    inventory.etag, inventory.metadata = quoted_etag(item.etag), dict(item.metadata or {})
        except ResourceNotFoundError:  # the container is gone (deleted, or an emulator lost its data)
            return RemoteInventory(container_exists=False)
    return inventory


def lost_since_push(record: SyncRecord, inventory: RemoteInventory, layout: ProjectLayout) -> list[str]:
    """How the remote differs from what the sync record says the last push left there (empty: as pushed).

    Examples
    --------
    >>> layout = ProjectLayout("projects/", "p1")
    >>> record = SyncRecord(etag='"0x1"', json_sha256="j", state_sha256="s")
    >>> lost_since_push(record, RemoteInventory(container_exists=False), layout)
    ['the container is gone']
    >>> pushed = RemoteInventory(True, '"0x1"', {"json_sha256": "j", "ystate_sha256": "s"}, {layout.state("s")})
    >>> lost_since_push(record, pushed, layout)
    []
    >>> lost_since_push(record, RemoteInventory(True, '"0x2"', pushed.metadata, pushed.names), layout)
    ['the document is not the one last pushed (another push, or an older copy put back)']
    """
    if not record.etag:
        return []
    if not inventory.container_exists:
        return ["the container is gone"]
    if inventory.etag is None:
        return ["the document is gone"]
    if inventory.etag != record.etag:
        return ["the document is not the one last pushed (another push, or an older copy put back)"]
    if (inventory.json_sha256, inventory.state_sha256) != (record.json_sha256, record.state_sha256):
        return ["the document's hashes are not those last pushed"]
    if layout.state(record.state_sha256) not in inventory.names:
        return ["the document's Y state is gone"]
    return []
