"""Parallel, verified transfers of immutable blobs (assets and Y states) with bounded concurrency.

Uploads are conditional creates (If-None-Match: *) of one Put Blob each: the service commits a blob
only once its whole declared length has arrived, so an interrupted upload leaves no blob at all under
the final name (larger blobs go through staged blocks committed at the end, just as atomic). Integrity
in transit is TLS's job (a Content-MD5 would cost a fifth of the push time); every download is checked
against the SHA-256 in its name, and :func:`imagestudio_nb.cloud.verify` finds and repairs a bad blob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..project.files import write_atomic
from .connection import CloudWorkspace, translate_errors
from .layout import sha256_hex

#: ``progress(done, total, digest)``, called in the calling thread after each blob.
ProgressCallback = Callable[[int, int, str], None]

_MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "ystate": "application/octet-stream"}


@dataclass(frozen=True)
class BlobItem:
    """One content-addressed blob: its hash, its blob name, its local file and size."""

    digest: str
    blob_name: str
    path: Path
    size: int = 0

    @property
    def extension(self) -> str:
        return self.blob_name.rsplit(".", 1)[-1]


def _bar(progress: bool | ProgressCallback, total_bytes: int, description: str):
    if progress is not True or total_bytes == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc=description, leave=False)


def upload_blob_once(workspace: CloudWorkspace, blob_name: str, data: bytes, *, digest: str) -> bool:
    """Create an immutable blob unless it exists; ``True`` if this call created it.

    Raises
    ------
    CloudError, CloudUnavailableError, CredentialsError
        Translated from the service's answer.
    """
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContentSettings

    settings = ContentSettings(content_type=_MIME.get(blob_name.rsplit(".", 1)[-1], "application/octet-stream"),
                               cache_control="private, max-age=31536000, immutable")
    with translate_errors(workspace, f"uploading {blob_name}"):
        try:
            workspace.container.upload_blob(blob_name, data, overwrite=False,
                                            metadata={"sha256": digest}, content_settings=settings)
        except ResourceExistsError:
            return False
    return True


def download_verified(workspace: CloudWorkspace, blob_name: str, digest: str, *, snapshot: str | None = None) -> bytes:
    """Download a content-addressed blob and check it against ``digest``.

    Raises
    ------
    DataError
        When the content does not match its hash (the remote copy is corrupt or was tampered with).
    """
    with translate_errors(workspace, f"downloading {blob_name}"):
        data = workspace.container.get_blob_client(blob_name, snapshot=snapshot).download_blob(
            max_concurrency=1).readall()
    if sha256_hex(data) != digest:
        raise DataError(f"the remote blob {blob_name} does not match its SHA-256 {digest[:12]}…: it is corrupt or "
                        "was altered; nothing was written locally. `imagestudio sync verify` repairs it from a good copy")
    return data


def _run_parallel(workspace: CloudWorkspace, items: list[BlobItem], work: Callable[[BlobItem], int],
                  progress: bool | ProgressCallback, description: str) -> list[str]:
    """Run ``work`` over ``items`` with bounded concurrency; returns digests whose ``work`` returned > 0."""
    done: list[str] = []
    if not items:
        return done
    bar = _bar(progress, sum(item.size for item in items), description)
    callback = progress if callable(progress) else None
    pool = ThreadPoolExecutor(max_workers=min(workspace.concurrency, len(items)),
                              thread_name_prefix="imagestudio-cloud")
    try:
        futures = {pool.submit(work, item): item for item in items}
        for count, future in enumerate(as_completed(futures), start=1):
            item = futures[future]
            if future.result() > 0:  # re-raises a worker's error; the rest are cancelled below
                done.append(item.digest)
            if bar is not None:
                bar.update(item.size)
            if callback is not None:
                callback(count, len(items), item.digest)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    return done


def upload_items(workspace: CloudWorkspace, items: Iterable[BlobItem], *, progress: bool | ProgressCallback = False,
                 description: str = "upload") -> list[str]:
    """Upload local files as immutable blobs in parallel; returns the digests this call created.

    A local file that no longer matches its hash is refused (``DataError``) rather than uploaded.
    """
    def work(item: BlobItem) -> int:
        data = item.path.read_bytes()
        if sha256_hex(data) != item.digest:
            raise DataError(f"local file {item.path} does not match its SHA-256 name; it was not uploaded. "
                            "Restore it from a backup (for example `imagestudio sync pull`)")
        return len(data) if upload_blob_once(workspace, item.blob_name, data, digest=item.digest) else 0

    return _run_parallel(workspace, list(items), work, progress, description)


def download_items(workspace: CloudWorkspace, items: Iterable[BlobItem], *,
                   progress: bool | ProgressCallback = False, description: str = "download") -> list[str]:
    """Download blobs in parallel into their local paths, each verified against its hash first."""
    def work(item: BlobItem) -> int:
        data = download_verified(workspace, item.blob_name, item.digest)
        item.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(item.path, data)
        return len(data)

    return _run_parallel(workspace, list(items), work, progress, description)
