"""Remix: clone a published project from its gallery link into the local workspace, recording where it came from.

Only a gallery snapshot is accepted (``snapshot.json``, found through the page's ``<link rel="alternate">``),
never a live document. Everything is downloaded and verified first (document, Y state and every asset
against their SHA-256, and the document against the Y state); the project is assembled in a hidden
folder and appears only when whole, so a refused snapshot leaves nothing behind. Like a clone, the
remix's log is seeded with the snapshot's own Y state (shared history: merging back duplicates nothing);
its new id, name and ``forked_from`` are one change on top.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from ..errors import CloudUnavailableError, DataError, InvalidArgumentError, NotFoundError, ProjectExistsError
from .documents import LocalDocument, utc_now
from .gallery import SNAPSHOT_FORMAT
from .gallery_pages import SNAPSHOT_MEDIA_TYPE
from .layout import document_assets, sha256_hex

if TYPE_CHECKING:
    from ..project import Project

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_ASSET_BYTES = 512 * 1024 * 1024


def _as_url(link: str | Path) -> str:
    text = str(link)
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https", "file"):
        return text
    if scheme and len(scheme) > 1:
        raise InvalidArgumentError(f"{text!r} is not a gallery link: use an http(s) or file address, or a path")
    path = Path(text).expanduser().resolve()
    return (path / "index.html" if path.is_dir() else path).as_uri()


def _fetch(url: str, limit: int) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (schemes checked by the callers)
            data = response.read(limit + 1)
    except urllib.error.HTTPError as error:
        if error.code in (403, 404):
            raise NotFoundError(f"{_public(url)} answered {error.code}: the link is wrong, expired or was never "
                                "published") from None
        raise CloudUnavailableError(f"{_public(url)} answered {error.code}; try again later") from None
    except urllib.error.URLError as error:
        if urlsplit(url).scheme == "file":
            raise NotFoundError(f"{_public(url)} does not exist: check the gallery link") from None
        raise CloudUnavailableError(f"cannot reach {_public(url)} ({error.reason}); check the link and the "
                                    "connection") from None
    if len(data) > limit:
        raise DataError(f"{_public(url)} is larger than {limit:,} bytes: not a gallery snapshot file")
    return data


def _public(url: str) -> str:
    """The URL without its query (a SAS signature must never reach a message)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class _SnapshotLinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if (tag == "link" and self.href is None and values.get("type") == SNAPSHOT_MEDIA_TYPE
                and "alternate" in (values.get("rel") or "").split()):
            self.href = values.get("href")


def _manifest(link: str) -> tuple[str, dict[str, Any]]:
    """The snapshot manifest a link leads to (the link itself, or the one its page names) and its URL."""
    url = _as_url(link)
    raw = _fetch(url, MAX_DOCUMENT_BYTES)
    try:
        manifest = json.loads(raw)
    except ValueError:
        finder = _SnapshotLinkFinder()
        finder.feed(raw.decode("utf-8", errors="replace"))
        if not finder.href:
            raise InvalidArgumentError(f"{_public(url)} is not a gallery page or snapshot (it links no "
                                       "Image Studio snapshot); give the link of a page made by "
                                       "`imagestudio gallery publish`") from None
        url = _same_kind(url, urljoin(url, finder.href))
        try:
            manifest = json.loads(_fetch(url, MAX_DOCUMENT_BYTES))
        except ValueError:
            manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != SNAPSHOT_FORMAT:
        raise InvalidArgumentError(f"{_public(url)} is not an Image Studio gallery snapshot; give the link of a page "
                                   "made by `imagestudio gallery publish`")
    return url, manifest


def _same_kind(base: str, url: str) -> str:
    """A URL a snapshot names, refused when it would leave the kind of place the snapshot came from."""
    web = ("http", "https")
    base_scheme, scheme = urlsplit(base).scheme, urlsplit(url).scheme
    if not (scheme == base_scheme or (base_scheme in web and scheme in web)):
        raise DataError(f"the snapshot at {_public(base)} names a file at {_public(url)}, outside the gallery; refused")
    return url


@dataclass
class GallerySnapshot:
    """A downloaded, verified snapshot: its manifest, frozen document and the assets it needs."""

    url: str
    manifest: dict[str, Any]
    document: LocalDocument
    assets: dict[str, tuple[str, bytes]]   # hash -> (extension, bytes)


def _entry(manifest: dict[str, Any], key: str) -> dict[str, Any]:
    entry = manifest.get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not isinstance(entry.get("sha256"), str):
        raise DataError(f"the snapshot's manifest has no valid {key!r} entry; it is damaged: publish it again")
    return entry


def read_snapshot(link: str | Path) -> GallerySnapshot:
    """Download and verify the snapshot a gallery link leads to (a project page or its ``snapshot.json``).

    Raises
    ------
    InvalidArgumentError
        When the link is not a gallery page or snapshot.
    DataError
        When any file of the snapshot does not match the SHA-256 the manifest gives, or the document
        does not match its Y state.
    NotFoundError, CloudUnavailableError
        When a file is missing or the host cannot be reached.
    """
    url, manifest = _manifest(str(link))
    files = {key: _entry(manifest, key) for key in ("document", "state")}
    raw = {key: _fetch(_same_kind(url, urljoin(url, entry["path"])), MAX_DOCUMENT_BYTES) for key, entry in files.items()}
    for key, entry in files.items():
        if sha256_hex(raw[key]) != entry["sha256"]:
            raise DataError(f"the snapshot's {key} ({entry['path']}) does not match its SHA-256: it was damaged or "
                            "tampered with; nothing was remixed")
    try:
        document = LocalDocument.from_update(raw["state"])
    except Exception:  # a Y state that decodes to nothing usable, whatever the library raises
        raise DataError("the snapshot's Y state cannot be read; nothing was remixed") from None
    if document.text.encode("utf-8") != raw["document"] or document.project_id != manifest.get("project_id"):
        raise DataError("the snapshot's document does not match its Y state (or its project id): it was edited "
                        "after publishing; nothing was remixed")
    listed = {item.get("hash"): item for item in manifest.get("assets") or [] if isinstance(item, dict)}
    assets: dict[str, tuple[str, bytes]] = {}
    for digest, extension in document_assets(document.data).items():
        item = listed.get(digest)
        if item is None or not isinstance(item.get("path"), str):
            raise DataError(f"the snapshot lists no file for asset {digest[:12]}… its document needs; nothing was remixed")
        blob = _fetch(_same_kind(url, urljoin(url, item["path"])), MAX_ASSET_BYTES)
        if sha256_hex(blob) != digest:
            raise DataError(f"asset {digest[:12]}… of the snapshot does not match its SHA-256: it was damaged or "
                            "tampered with; nothing was remixed")
        assets[digest] = (extension, blob)
    return GallerySnapshot(url, manifest, document, assets)


def _identity_changes(update: bytes, forked_from: dict[str, Any], new_name: str, user: str | None) -> list[bytes]:
    """The remix's own identity (new id and name, its origin, its owner) as Y updates on top of the snapshot."""
    from pycrdt import Doc, Map

    doc = Doc()
    doc.apply_update(update)
    changes: list[bytes] = []
    subscription = doc.observe(lambda event: changes.append(bytes(event.update)))
    with doc.transaction(origin="remix"):
        meta = doc.get("meta", type=Map)
        meta["forked_from"] = forked_from
        meta["id"] = uuid.uuid4().hex
        meta["name"] = new_name
        if user:
            meta["owners"] = [user]
            roles = doc.get("roles", type=Map)
            for key in list(roles.keys()):  # the source's team has no say in your copy
                del roles[key]
            roles[user] = "owner"
    doc.unobserve(subscription)
    return changes


def remix(link: str | Path, name: str | None = None, *, workspace: str | Path | None = None) -> Project:
    """Clone a published project from its gallery link into your workspace, with its lineage.

    The remix holds the snapshot's layers, images, generations and Y history, gets a new id and
    records ``meta.forked_from`` (the source's id, name, link and the time of the remix).

    Parameters
    ----------
    link : str or Path
        A project page of a gallery (``https://…/p/<id>/index.html``, a ``file://`` address or a path)
        or its ``snapshot.json``.
    name : str, optional
        The local project's name; the published name by default.

    Raises
    ------
    InvalidArgumentError
        When the link is not a gallery page or snapshot.
    DataError
        When the snapshot does not verify; nothing is left in the workspace.
    ProjectExistsError
        When the workspace already has a project of that name (pass ``name``).
    """
    from ..project import Project
    from ..project.persistence import WRITER
    from ..project.workspace import check_name, workspace_path
    from ..project.ylog import UpdateLog, seed_log

    root = workspace_path(workspace)

    def target_for(new_name: str) -> Path:
        check_name(new_name)
        if (root / new_name).exists():
            raise ProjectExistsError(f"project {new_name!r} already exists in {root}; remix under another name "
                                     "(`--name`, or name=)")
        return root / new_name

    if name is not None:
        target_for(name)  # refuse before downloading anything
    snapshot = read_snapshot(link)
    source = snapshot.document
    new_name = name or source.name
    target = target_for(new_name)
    try:
        from ..config import load_config

        user: str | None = load_config().user
    except Exception:  # an unreadable config must not stop a remix; the project just has no owner then
        user = None
    page = snapshot.manifest.get("page") if isinstance(snapshot.manifest.get("page"), str) else None
    origin = {"id": source.project_id, "name": source.name, "link": page or _public(snapshot.url),
              "snapshot": _public(snapshot.url), "snapshot_sha256": source.json_sha256, "at": utc_now()}
    staging = root / f".remix-{uuid.uuid4().hex[:8]}"
    try:
        (staging / "assets").mkdir(parents=True)
        for digest, (extension, blob) in snapshot.assets.items():
            (staging / "assets" / f"{digest}.{extension}").write_bytes(blob)
        seed_log(staging, source.update, origin="remix", user=user)
        log = UpdateLog(staging)
        try:
            for change in _identity_changes(source.update, origin, new_name, user):
                log.append(change, origin="remix", user=user)
        finally:
            log.close()
        WRITER.write_now(staging)
        WRITER.forget(staging)
        staging.rename(target)
    except BaseException:
        WRITER.forget(staging)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Project.open(target)
