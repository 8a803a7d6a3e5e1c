"""Publishing a public gallery: a static site (plain HTML, CSS, image files) in a folder or a Blob ``$web`` container.

Publishing freezes each project the way a share link does (a ``LocalDocument``: canonical JSON plus the Y
state it was made from, both hashed) into a content-addressed snapshot folder that is only ever created,
never rewritten; the project's page is rewritten only by publishing again. The page links that snapshot
(``snapshot.json`` names the document, the Y state, the rendered composite and every asset with its
SHA-256), never the live document, and :func:`~imagestudio_nb.cloud.remix.remix` clones from it.

Site layout::

    index.html, style.css, gallery.json                  the front page and its catalog
    p/<project id>/index.html                             the project's page (points at its latest snapshot)
    p/<project id>/assets/<sha256>.<ext>                  images, content-addressed
    p/<project id>/snapshots/<sha256[:20]>/               snapshot.json, project.isproj, project.ystate, composite.png
"""

from __future__ import annotations

import json
import posixpath
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import DataError, InvalidArgumentError
from .connection import CloudWorkspace, translate_errors
from .documents import DOCUMENT_FILE, LocalDocument, utc_now
from .gallery_pages import STYLESHEET, PageLinks, index_page, project_page
from .layout import document_assets, sha256_hex

if TYPE_CHECKING:
    from ..project import Project

SNAPSHOT_FORMAT = "imagestudio-gallery-snapshot"
CATALOG_FORMAT = "imagestudio-gallery"
WEB_CONTAINER = "$web"
STATE_FILE = "project.ystate"
MANIFEST_FILE = "snapshot.json"
COMPOSITE_FILE = "composite.png"


class FolderSite:
    """A gallery written to a local folder (files appear whole: written atomically)."""

    concurrency = 1  # local disk: parallel writes gain nothing

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()

    def read(self, path: str) -> bytes | None:
        file = self.root / path
        return file.read_bytes() if file.is_file() else None

    def exists(self, path: str) -> bool:
        return (self.root / path).is_file()

    def write(self, path: str, data: bytes, *, content_type: str, immutable: bool) -> None:
        from ..project.files import write_atomic

        file = self.root / path
        if immutable and file.is_file():
            return  # content-addressed: what is there is what we would write
        file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(file, data)

    def url(self, path: str) -> str:
        return (self.root / path).as_uri()


class BlobSite:
    """A gallery written to a container (by default ``$web``, which Azure's static website hosting serves)."""

    def __init__(self, workspace: CloudWorkspace, container: str = WEB_CONTAINER):
        self.workspace, self.concurrency = workspace, workspace.concurrency
        self.container = workspace.service.get_container_client(container)
        with translate_errors(workspace, f"opening the {container} container"):
            if not self.container.exists():
                self.container.create_container()

    def read(self, path: str) -> bytes | None:
        from azure.core.exceptions import ResourceNotFoundError

        with translate_errors(self.workspace, f"reading {path}"):
            try:
                return self.container.get_blob_client(path).download_blob(max_concurrency=1).readall()
            except ResourceNotFoundError:
                return None

    def exists(self, path: str) -> bool:
        with translate_errors(self.workspace, f"checking {path}"):
            return self.container.get_blob_client(path).exists()

    def write(self, path: str, data: bytes, *, content_type: str, immutable: bool) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
        with translate_errors(self.workspace, f"uploading {path}"):
            try:
                self.container.upload_blob(path, data, overwrite=not immutable,
                                           content_settings=ContentSettings(content_type=content_type,
                                                                            cache_control=cache))
            except ResourceExistsError:
                pass  # immutable and already there

    def url(self, path: str) -> str:
        return self.container.get_blob_client(path).url


@dataclass
class PublishedProject:
    """One project of a publication: where its page and its frozen snapshot are."""

    id: str
    name: str
    page_url: str
    snapshot_url: str
    snapshot_sha256: str
    images: int
    published_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Publication:
    """What :func:`publish_gallery` wrote: the front page and each project's page."""

    index_url: str
    projects: list[PublishedProject] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"index_url": self.index_url, "projects": [p.as_dict() for p in self.projects]}


def check_cdn_base_url(url: str | None) -> str | None:
    """An absolute http(s) base URL without its trailing slash, or ``None``.

    Examples
    --------
    >>> check_cdn_base_url("https://cdn.example.com/gallery/")
    'https://cdn.example.com/gallery'
    >>> check_cdn_base_url("cdn.example.com")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.InvalidArgumentError: cdn_base_url 'cdn.example.com' is not an absolute http(s) URL; give one like https://cdn.example.com/gallery ([gallery] cdn_base_url)
    """
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidArgumentError(f"cdn_base_url {url!r} is not an absolute http(s) URL; give one like "
                                   "https://cdn.example.com/gallery ([gallery] cdn_base_url)")
    return url.rstrip("/")


class _Linker:
    """Links from one page of the site: relative (the site works from any folder or host) or CDN-absolute."""

    def __init__(self, site: FolderSite | BlobSite, cdn_base_url: str | None):
        self.site, self.cdn = site, cdn_base_url

    def public(self, path: str) -> str:
        return f"{self.cdn}/{path}" if self.cdn else self.site.url(path)

    def from_page(self, page: str, path: str) -> str:
        return f"{self.cdn}/{path}" if self.cdn else posixpath.relpath(path, posixpath.dirname(page) or ".")


def _open_projects(projects: Iterable[Project | str], local_workspace: str | Path | None) -> list[Project]:
    from ..project import Project

    items = [projects] if isinstance(projects, str) else list(projects)
    if not items:
        raise InvalidArgumentError("no project to publish; name at least one (`imagestudio list` shows them)")
    return [item if isinstance(item, Project) else Project.open(item, workspace=local_workspace) for item in items]


def _freeze(project: Project) -> tuple[LocalDocument, bytes]:
    """The project's document as published and its composite rendered by ``Project.render()``, consistent."""
    from ..imaging.codec import encode_image

    for _ in range(5):
        project.refresh()
        frozen = LocalDocument.from_doc(project.doc)
        composite = encode_image(project.render(), "png")
        if LocalDocument.from_doc(project.doc).same_as(frozen):  # nobody changed it while rendering
            return frozen, composite
    raise DataError(f"project {project.name!r} kept changing while it was being published; try again when it is quiet")


def _publish_one(site: FolderSite | BlobSite, linker: _Linker, project: Project, published_at: str) -> dict[str, Any]:
    frozen, composite = _freeze(project)
    data, project_id = frozen.data, frozen.project_id
    root = f"p/{project_id}/"
    # Named by both hashes: two Y histories can give the same JSON, and a snapshot's files never change.
    snapshot = f"{root}snapshots/{sha256_hex(frozen.json_sha256 + frozen.state_sha256)[:20]}/"
    page = f"{root}index.html"
    assets = document_assets(data)
    asset_files = {digest: f"{root}assets/{digest}.{ext}" for digest, ext in assets.items()}

    def copy_asset(item: tuple[str, str]) -> None:
        digest, path = item
        if not site.exists(path):  # content-addressed: once there, never sent again
            site.write(path, project.assets.read(digest),  # read() checks the bytes against the hash
                       content_type=data["assets"][digest]["mime"], immutable=True)

    with ThreadPoolExecutor(site.concurrency) as pool:
        list(pool.map(copy_asset, asset_files.items()))
    manifest_path = snapshot + MANIFEST_FILE
    if not site.exists(manifest_path):  # the manifest comes last: its presence means the snapshot is whole
        site.write(snapshot + DOCUMENT_FILE, frozen.text.encode("utf-8"),
                   content_type="application/json; charset=utf-8", immutable=True)
        site.write(snapshot + STATE_FILE, frozen.update, content_type="application/octet-stream", immutable=True)
        site.write(snapshot + COMPOSITE_FILE, composite, content_type="image/png", immutable=True)
        manifest = {
            "format": SNAPSHOT_FORMAT, "version": 1, "project_id": project_id, "name": frozen.name,
            "published_at": published_at, "page": linker.public(page),
            # Paths are relative to this manifest, so a copy of the site (or a CDN in front of it) stays whole.
            "document": {"path": DOCUMENT_FILE, "sha256": frozen.json_sha256},
            "state": {"path": STATE_FILE, "sha256": frozen.state_sha256},
            "composite": {"path": COMPOSITE_FILE, "sha256": sha256_hex(composite)},
            "assets": [{"hash": digest, "path": posixpath.relpath(path, snapshot), "mime": data["assets"][digest]["mime"],
                        "bytes": data["assets"][digest].get("bytes")} for digest, path in sorted(asset_files.items())],
        }
        site.write(manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"),
                   content_type="application/json; charset=utf-8", immutable=True)
    else:
        manifest = json.loads(site.read(manifest_path) or b"{}")
        published_at = manifest.get("published_at", published_at)
    links = PageLinks(stylesheet=linker.from_page(page, "style.css"), index=linker.from_page(page, "index.html"),
                      manifest=linker.from_page(page, manifest_path),
                      document=linker.from_page(page, snapshot + DOCUMENT_FILE),
                      composite=linker.from_page(page, snapshot + COMPOSITE_FILE), page=linker.public(page),
                      asset=lambda digest, _ext: linker.from_page(page, asset_files[digest]))
    html_text = project_page(data, links, published_at=published_at, snapshot_sha256=frozen.json_sha256)
    site.write(page, html_text.encode("utf-8"), content_type="text/html; charset=utf-8", immutable=False)
    return {"id": project_id, "name": frozen.name, "page": page, "snapshot": manifest_path,
            "composite": snapshot + COMPOSITE_FILE, "snapshot_sha256": frozen.json_sha256,
            "images": len(assets), "published_at": published_at}


def _catalog(site: FolderSite | BlobSite) -> dict[str, Any]:
    raw = site.read("gallery.json")
    if raw is None:
        return {"format": CATALOG_FORMAT, "version": 1, "projects": {}}
    try:
        catalog = json.loads(raw)
    except ValueError:
        catalog = None
    if not isinstance(catalog, dict) or catalog.get("format") != CATALOG_FORMAT:
        raise DataError("the target holds a gallery.json that is not an Image Studio gallery catalog; publish to an "
                        "empty folder (or container) or move that file away")
    return catalog


def publish_gallery(projects: Iterable[Project | str] | str, target: str | Path | CloudWorkspace, *,
                    cdn_base_url: str | None = None, local_workspace: str | Path | None = None,
                    container: str = WEB_CONTAINER) -> Publication:
    """Publish projects as a public static gallery: a page per project, an index, images beside them.

    Each project is frozen at the moment it is published: its page shows that snapshot (composite
    rendered by ``Project.render()``, every image with its prompt, model, seed, size, user and time) and
    links a machine-readable copy of it (``snapshot.json``) for :func:`imagestudio_nb.remix`. Changing
    the project later changes nothing published until it is published again. Projects published
    before stay listed on the index.

    Parameters
    ----------
    projects : Project, name, or a list of them
        Local projects (by name in the local workspace, or open).
    target : folder path or CloudWorkspace
        A folder to write the site into, or a cloud workspace whose account's ``$web`` container
        (``container``) receives it: with static website hosting on, Azure serves it publicly.
    cdn_base_url : str, optional
        Absolute base URL every generated link starts with (a CDN in front of the site). Defaults to
        ``[gallery] cdn_base_url`` of the configuration; without one, links are relative.

    Returns
    -------
    Publication
        The index's address and each project's page and snapshot addresses.

    Raises
    ------
    ProjectNotFoundError
        For a name that is not a local project (nothing is written then).
    InvalidArgumentError
        For an empty list or a ``cdn_base_url`` that is not an absolute http(s) URL.

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb.project import Project
    >>> workspace = tempfile.mkdtemp()
    >>> _ = Project.create("Demo", workspace=workspace, width=32, height=32)
    >>> published = publish_gallery(["Demo"], tempfile.mkdtemp(), local_workspace=workspace)
    >>> [p.name for p in published.projects], published.index_url.endswith("/index.html")
    (['Demo'], True)
    """
    if cdn_base_url is None:
        from ..config import load_config

        cdn_base_url = load_config().gallery.cdn_base_url
    cdn = check_cdn_base_url(cdn_base_url)
    opened = _open_projects(projects if not isinstance(projects, Path) else [str(projects)], local_workspace)
    site = _site(target, container)
    linker = _Linker(site, cdn)
    catalog = _catalog(site)
    published_at = utc_now()
    entries = [_publish_one(site, linker, project, published_at) for project in opened]
    for entry in entries:
        catalog["projects"][entry["id"]] = entry
    from_index = lambda path: linker.from_page("index.html", path)  # noqa: E731
    front = index_page(list(catalog["projects"].values()), stylesheet=from_index("style.css"), page_link=from_index,
                       thumbnail_link=lambda entry: from_index(entry["composite"]))
    site.write("style.css", STYLESHEET.encode("utf-8"), content_type="text/css; charset=utf-8", immutable=False)
    site.write("index.html", front.encode("utf-8"), content_type="text/html; charset=utf-8", immutable=False)
    site.write("gallery.json", json.dumps(catalog, indent=1, sort_keys=True).encode("utf-8"),
               content_type="application/json; charset=utf-8", immutable=False)
    return Publication(linker.public("index.html"), [
        PublishedProject(e["id"], e["name"], linker.public(e["page"]), linker.public(e["snapshot"]),
                         e["snapshot_sha256"], e["images"], e["published_at"]) for e in entries])


def _site(target: str | Path | CloudWorkspace, container: str) -> FolderSite | BlobSite:
    return BlobSite(target, container) if isinstance(target, CloudWorkspace) else FolderSite(target)


def published_projects(target: str | Path | CloudWorkspace, *,
                       container: str = WEB_CONTAINER) -> list[dict[str, Any]]:
    """The projects a gallery lists (its ``gallery.json``): id, name, page, snapshot, images, time."""
    return sorted(_catalog(_site(target, container))["projects"].values(), key=lambda e: str(e.get("published_at")))


__all__: Sequence[str] = ["Publication", "PublishedProject", "publish_gallery", "published_projects"]
