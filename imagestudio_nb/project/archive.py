"""Export a project to one ``.zip`` and import it back, refusing archives that could do harm.

An import accepts only the entries a project has (``project.isproj``, ``assets/<sha256>.<ext>``,
``experiments/<name>.json``), refuses links, absolute or escaping paths and oversized or
over-compressed entries, checks every asset against its hash, and unpacks into a temporary folder
that is renamed into place only when everything checked out.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ProjectExistsError, UnsafeArchiveError
from .document import dumps_canonical, loads_document
from .files import write_atomic
from .workspace import DOCUMENT_NAME, check_name, workspace_path

if TYPE_CHECKING:
    from .project import Project

#: Limits for imports; pass others to :func:`import_archive` for unusual projects.
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_ENTRY_BYTES = 512 * 1024**2
MAX_ENTRIES = 100_000
MAX_COMPRESSION_RATIO = 200

_ALLOWED = re.compile(r"^(project\.isproj|assets/[0-9a-f]{64}\.(png|jpg|webp)|experiments/[\w.\-]{1,100}\.json)$")


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


def _check_entry(info: zipfile.ZipInfo, max_entry_bytes: int) -> None:
    name = info.filename
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


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: list[int], max_entry: int) -> bytes:
    # Count real bytes while reading: the sizes in the header may lie.
    chunks, size = [], 0
    with zf.open(info) as stream:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            budget[0] -= len(chunk)
            if size > max_entry or budget[0] < 0:
                raise UnsafeArchiveError(f"archive entry {info.filename!r} expands beyond the size limit")
            chunks.append(chunk)
    data = b"".join(chunks)
    path = target / info.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def import_archive(archive: Path, *, name: str | None = None, workspace: str | Path | None = None,
                   max_total_bytes: int = MAX_TOTAL_BYTES, max_entry_bytes: int = MAX_ENTRY_BYTES) -> Project:
    """Unpack a project archive into the workspace and open it.

    Raises
    ------
    UnsafeArchiveError
        For links, paths outside the target, unexpected entries, too much data, or a hash mismatch.
    ProjectExistsError
        When a project of that name exists (pass ``name=`` to import under another).
    """
    from .project import Project

    archive = Path(archive)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchiveError(f"{archive} is not a readable zip archive: {exc}") from None
    root = workspace_path(workspace)
    tmp = root / f".import-{uuid.uuid4().hex[:8]}"
    try:
        with zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                raise UnsafeArchiveError(f"archive has {len(infos):,} entries, over the limit of {MAX_ENTRIES:,}")
            if sum(i.file_size for i in infos) > max_total_bytes:
                raise UnsafeArchiveError(f"archive expands to more than {max_total_bytes:,} bytes")
            for info in infos:
                _check_entry(info, max_entry_bytes)
            if DOCUMENT_NAME not in zf.namelist():
                raise UnsafeArchiveError(f"archive has no {DOCUMENT_NAME}; it is not a project export")
            tmp.mkdir()
            budget = [max_total_bytes]
            for info in infos:
                if info.is_dir():
                    continue
                data = _extract(zf, info, tmp, budget, max_entry_bytes)
                if info.filename.startswith("assets/"):
                    expected = Path(info.filename).stem
                    if hashlib.sha256(data).hexdigest() != expected:
                        raise UnsafeArchiveError(f"archive entry {info.filename!r} does not match its SHA-256 name")
        data = loads_document((tmp / DOCUMENT_NAME).read_text(encoding="utf-8"), source=f"{archive}:{DOCUMENT_NAME}")
        final_name = check_name(name or data["meta"].get("name") or archive.stem)
        if (root / final_name).exists():
            raise ProjectExistsError(f"project {final_name!r} already exists; import with another name (--name)")
        data["meta"]["name"] = final_name
        write_atomic(tmp / DOCUMENT_NAME, dumps_canonical(data))
        (tmp / "assets").mkdir(exist_ok=True)
        tmp.rename(root / final_name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    project = Project.open(root / final_name)
    project.save()  # builds the search index
    return project
