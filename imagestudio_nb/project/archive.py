"""Export a project to one ``.zip`` and import it back, refusing archives that could do harm.

An import accepts only the entries a project has (``project.isproj``, ``assets/<sha256>.<ext>``,
``experiments/<name>.json``), refuses links, absolute or escaping paths, repeated, oversized or
over-compressed entries and damaged zips, checks every asset against its hash and as an image, checks
the document against the schema, and unpacks into a hidden temporary folder that is renamed into place
only when everything checked out. Whatever it refuses, it leaves nothing in the workspace.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import stat
import struct
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (DocumentFormatError, ImageDecodeError, InvalidArgumentError, ProjectExistsError, StorageError,
                      UnsafeArchiveError)
from ..imaging.codec import EXTENSIONS, MIME_TYPES, image_info
from .document import dumps_canonical, loads_document, loads_json, now_iso
from .files import write_atomic
from .schema import check_renderable
from .workspace import DOCUMENT_NAME, check_name, list_projects, workspace_path

if TYPE_CHECKING:
    from .project import Project

#: Limits for imports; pass others to :func:`import_archive` for unusual projects.
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_ENTRY_BYTES = 512 * 1024**2
MAX_ENTRIES = 100_000
MAX_COMPRESSION_RATIO = 200

log = logging.getLogger(__name__)
EXTENSIONS_BY_MIME = {mime: EXTENSIONS[fmt] for fmt, mime in MIME_TYPES.items()}

_ALLOWED = re.compile(r"^(project\.isproj|assets/[0-9a-f]{64}\.(png|jpg|webp)|experiments/[\w.\-]{1,100}\.json)\Z")


def export_archive(project: Project, archive: Path) -> Path:
    """Write the project's document and assets to ``archive`` (a new ``.zip``), atomically."""
    archive = Path(archive)
    if archive.suffix.lower() != ".zip":
        archive = archive.with_suffix(".zip")
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(DOCUMENT_NAME, dumps_canonical(project.to_data()))
            for info in project.assets.list():
                # Images are compressed already: store them.
                zf.write(project.assets.path(info.hash), f"assets/{info.hash}.{info.extension}",
                         compress_type=zipfile.ZIP_STORED)
            experiments = project.path / "experiments"
            if experiments.is_dir():
                for path in sorted(experiments.glob("*.json")):
                    zf.write(path, f"experiments/{path.name}")
        tmp.replace(archive)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return archive


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_entry(info: zipfile.ZipInfo, max_entry_bytes: int) -> None:
    name = info.filename
    if not name:  # a damaged central directory can name an entry ""; zipfile's own is_dir() fails on it
        raise UnsafeArchiveError("archive has an entry without a name")
    mode = (info.external_attr >> 16) & 0o170000
    if mode == stat.S_IFLNK:
        raise UnsafeArchiveError(f"archive entry {name!r} is a symbolic link; links are refused")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in name.replace("\\", "/").split("/"):
        raise UnsafeArchiveError(f"archive entry {name!r} would be written outside the target folder")
    if info.is_dir():
        return
    if not _ALLOWED.match(name):
        raise UnsafeArchiveError(f"archive entry {name!r} is not part of a project "
                                 "(allowed: project.isproj, assets/<sha256>.<png|jpg|webp>, experiments/*.json)")
    if info.file_size > max_entry_bytes:
        raise UnsafeArchiveError(f"archive entry {name!r} is {info.file_size:,} bytes, over the limit of "
                                 f"{max_entry_bytes:,}")
    if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO and info.file_size > 1024**2:
        raise UnsafeArchiveError(f"archive entry {name!r} expands {info.file_size / info.compress_size:.0f}x; "
                                 "refused as a likely zip bomb")


def _check_entries(infos: list[zipfile.ZipInfo], max_total_bytes: int, max_entry_bytes: int) -> None:
    if len(infos) > MAX_ENTRIES:
        raise UnsafeArchiveError(f"archive has {len(infos):,} entries, over the limit of {MAX_ENTRIES:,}")
    if sum(i.file_size for i in infos) > max_total_bytes:
        raise UnsafeArchiveError(f"archive expands to more than {max_total_bytes:,} bytes")
    seen: dict[str, str] = {}
    for info in infos:
        _check_entry(info, max_entry_bytes)
        # Two entries of one name (or of names one case-insensitive disk cannot tell apart): which one
        # wins depends on the tool that unpacks it, so the archive means different things to different readers.
        other = seen.get(info.filename.casefold())
        if other is not None:
            raise UnsafeArchiveError(f"archive holds {info.filename!r} twice"
                                     + (f" (also as {other!r})" if other != info.filename else ""))
        seen[info.filename.casefold()] = info.filename
    if DOCUMENT_NAME not in seen:
        raise UnsafeArchiveError(f"archive has no {DOCUMENT_NAME}; it is not a project export")


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], max_entry: int) -> bytes:
    # Count real bytes while reading: the sizes in the header may lie.
    chunks, size = [], 0
    with zf.open(info) as stream:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            budget[0] -= len(chunk)
            if size > max_entry or budget[0] < 0:
                raise UnsafeArchiveError(f"archive entry {info.filename!r} expands beyond the size limit")
            chunks.append(chunk)
    return b"".join(chunks)


def _check_asset(name: str, data: bytes) -> str:
    """The asset's hash, after checking the bytes against it and decoding the image's header."""
    digest, extension = Path(name).stem, Path(name).suffix[1:]
    if hashlib.sha256(data).hexdigest() != digest:
        raise UnsafeArchiveError(f"archive entry {name!r} does not match its SHA-256 name")
    try:
        fmt, _, _ = image_info(data)
    except ImageDecodeError as exc:
        raise UnsafeArchiveError(f"archive entry {name!r} is not a usable image: {_one_line(exc)}") from None
    if EXTENSIONS[fmt] != extension:
        raise UnsafeArchiveError(f"archive entry {name!r} holds a {fmt} image under a .{extension} name")
    return digest


#: Errors the zip reader and the decompressors raise for damaged or lying archives (CRC, truncation,
#: bad headers, unknown compression, encryption). They mean "this archive is damaged", never a bug here.
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, struct.error,
            NotImplementedError, RuntimeError, OverflowError)


def _unpack(archive: Path, tmp: Path, max_total_bytes: int, max_entry_bytes: int) -> tuple[bytes, dict[str, str]]:
    """Check and unpack every entry into ``tmp``; return the document's bytes and ``{hash: extension}``."""
    try:
        zf = zipfile.ZipFile(archive)
    except _DAMAGED as exc:  # a missing file too: README documents exit code 6 for it
        raise UnsafeArchiveError(f"{archive.name} is not a readable zip archive: {_one_line(exc)}") from None
    document, assets = b"", {}
    with zf:
        infos = zf.infolist()
        _check_entries(infos, max_total_bytes, max_entry_bytes)
        budget = [max_total_bytes]
        for info in infos:
            if info.is_dir():
                continue
            try:
                data = _read_entry(zf, info, budget, max_entry_bytes)
            except _DAMAGED as exc:
                raise UnsafeArchiveError(f"{archive.name} is damaged: {_one_line(exc)}") from None
            if info.filename == DOCUMENT_NAME:
                document = data
                continue
            if info.filename.startswith("assets/"):
                assets[_check_asset(info.filename, data)] = Path(info.filename).suffix[1:]
            else:
                loads_json(data, source=f"{archive.name}:{info.filename}")
            _write_entry(tmp, info.filename, data)
    return document, assets


def _write_entry(tmp: Path, name: str, data: bytes) -> None:
    path = tmp / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise StorageError(f"could not unpack the archive into {tmp.parent}: {exc.strerror or exc}; "
                           "free some space or choose another workspace") from None


def _referenced_assets(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(path in the document, hash)`` for every asset a layer, checkpoint or generation names."""
    layer_lists = [("layers", data["layers"])] + [
        (f"checkpoints[{i}].snapshot.layers", cp["snapshot"]["layers"]) for i, cp in enumerate(data["checkpoints"])]
    for where, layers in layer_lists:
        for index, layer in enumerate(layers):
            if layer.get("asset"):
                yield f"{where}[{index}].asset", layer["asset"]
    for index, record in enumerate(data["generations"]):
        for digest in record.get("assets") or []:
            yield f"generations[{index}].assets", digest


def _check_references(data: dict[str, Any], files: dict[str, str], source: str) -> None:
    """Every asset the document names is listed in its ``assets`` and held by the archive, as that type."""
    for where, digest in _referenced_assets(data):
        if digest not in data["assets"]:
            raise UnsafeArchiveError(f"{source}: {where} names asset {digest[:12]}..., which the document's "
                                     "assets do not list; the archive is incomplete")
    for digest, record in data["assets"].items():
        if digest not in files:
            raise UnsafeArchiveError(f"{source}: assets lists {digest[:12]}..., which the archive does not hold; "
                                     "it is incomplete")
        if EXTENSIONS_BY_MIME[record["mime"]] != files[digest]:
            raise UnsafeArchiveError(f"{source}: assets[{digest[:12]}...] says {record['mime']}, but the archive "
                                     f"holds a .{files[digest]} file")


def _check_filter_chains(data: dict[str, Any], source: str) -> None:
    """Every layer's filter chain is one the renderer accepts.

    Checked on import only: on open, a chain this version no longer knows must not lock a person out of
    their project (it fails when rendered, in one line); an archive from elsewhere is checked up front.
    """
    if not any(layer.get("filters") for layer in data["layers"]):
        return
    from ..imaging.chains import validate_chain  # loads every filter: only when a chain is there

    for index, layer in enumerate(data["layers"]):
        try:
            validate_chain(layer.get("filters") or [])
        except (ValueError, TypeError) as exc:  # InvalidArgumentError, or what the validator did not foresee
            raise DocumentFormatError(f"{source}: layers[{index}].filters: {_one_line(exc)}") from None


def _final_name(data: dict[str, Any], name: str | None, root: Path, archive: Path) -> str:
    if name is not None:
        return check_name(name, workspace=root)
    proposed = data["meta"]["name"]
    try:
        return check_name(proposed, workspace=root)
    except InvalidArgumentError as exc:
        raise DocumentFormatError(f"{archive.name}: meta.name: {exc}; import it with another name (--name)") from None


def _fresh_id(data: dict[str, Any], root: Path) -> str | None:
    """Give the document a new id when a project in the workspace has its id; return the old one."""
    taken = {info.id: info.name for info in list_projects(root)}
    old = data["meta"]["id"]
    if old not in taken:
        return None
    data["meta"]["id"] = uuid.uuid4().hex
    data["meta"]["imported_from"] = {"id": old, "name": data["meta"]["name"], "at": now_iso()}
    log.warning("imported project %r got the new id %s: its id %s belongs to project %r in this workspace",
                data["meta"]["name"], data["meta"]["id"], old, taken[old])
    return old


def import_archive(archive: Path, *, name: str | None = None, workspace: str | Path | None = None,
                   max_total_bytes: int = MAX_TOTAL_BYTES, max_entry_bytes: int = MAX_ENTRY_BYTES) -> Project:
    """Unpack a project archive into the workspace and open it.

    Everything is checked before the project appears: entry names and sizes, each asset against its
    hash and as a decodable image, the document against the schema, every asset it names present.
    A refused archive leaves nothing in the workspace. When a project there already has the archive's
    id, the import gets a new id and ``meta.imported_from`` names the old one (and a warning is logged).

    Raises
    ------
    UnsafeArchiveError
        For links, paths outside the target, unexpected or repeated entries, too much data, a damaged
        zip (CRC, truncation), a hash mismatch, an asset that is not an image, or a missing asset.
    DocumentFormatError
        For a document or experiment that is not valid, well-formed UTF-8 JSON of the right shape.
    ProjectExistsError
        When a project of that name exists (pass ``name=`` to import under another).
    InvalidArgumentError
        For a ``name`` that is not a valid project name.
    """
    from .project import Project

    archive = Path(archive)
    root = workspace_path(workspace)
    if name is not None:
        check_name(name, workspace=root)
    tmp = root / f".import-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        document, assets = _unpack(archive, tmp, max_total_bytes, max_entry_bytes)
        source = f"{archive.name}:{DOCUMENT_NAME}"
        data = loads_document(document, source=source)
        _check_references(data, assets, source)
        check_renderable(data, source=source)
        _check_filter_chains(data, source)
        final_name = _final_name(data, name, root, archive)
        if (root / final_name).exists():
            raise ProjectExistsError(f"project {final_name!r} already exists; import with another name (--name)")
        data["meta"]["name"] = final_name
        _fresh_id(data, root)
        write_atomic(tmp / DOCUMENT_NAME, dumps_canonical(data))
        (tmp / "assets").mkdir(exist_ok=True)
        tmp.rename(root / final_name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        project = Project.open(root / final_name)
        project.save()  # builds the search index
    except BaseException:  # a project that cannot be opened is not imported: leave nothing behind
        shutil.rmtree(root / final_name, ignore_errors=True)
        raise
    return project
