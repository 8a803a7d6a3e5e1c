"""The content-addressed asset store of a project: image bytes named by SHA-256, immutable.

Files live in ``<project>/assets/<sha256>.<ext>``; their metadata (size, format, tags, source) lives in
the document's ``assets`` map so it travels with the document. Every image is decoded under a pixel
limit before it is accepted, and every read is checked against its hash.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AssetNotFoundError, DataError, InvalidArgumentError
from ..imaging.codec import DEFAULT_MAX_PIXELS, EXTENSIONS, MIME_TYPES, decode_image, encode_image, thumbnail
from .document import now_iso
from .files import write_atomic

if TYPE_CHECKING:
    from .project import Project


@dataclass
class AssetInfo:
    """Metadata of one stored image."""

    hash: str
    mime: str
    width: int
    height: int
    bytes: int
    created: str
    tags: list[str] = field(default_factory=list)
    source: str | None = None

    @property
    def extension(self) -> str:
        return {v: EXTENSIONS[k] for k, v in MIME_TYPES.items()}[self.mime]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _to_bytes(image: Any, format: str) -> bytes:
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, np.ndarray):
        return encode_image(image, format)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        mode = "RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB"
        return encode_image(np.asarray(image.convert(mode)), format)
    if isinstance(image, (str, Path)):
        return Path(image).read_bytes()
    raise InvalidArgumentError(
        f"cannot store a {type(image).__name__}; pass encoded bytes, a uint8 numpy array, a PIL image or a path")


class AssetStore:
    """The assets of one project. Obtain it as ``project.assets``."""

    def __init__(self, project: Project, *, max_pixels: int = DEFAULT_MAX_PIXELS):
        self._project = project
        self.folder = project.path / "assets"
        self.max_pixels = max_pixels

    # --- writing ---------------------------------------------------------------------------------
    def add(self, image: Any, *, tags: tuple[str, ...] | list[str] = (), source: str | None = None,
            format: str = "png", decode: bool = True) -> AssetInfo:
        """Store an image and return its metadata; storing the same bytes twice is a no-op.

        Parameters
        ----------
        image : bytes, numpy.ndarray, PIL.Image.Image or path
            Encoded PNG/JPEG/WebP bytes are kept as they are; arrays and PIL images are encoded as ``format``.
        tags : sequence of str
            Tags to add to the asset.
        source : str, optional
            Where it came from (``"generation:<id>"``, ``"upload"``, a file name).
        decode : bool
            Decode the whole image to prove it is sound (the default). ``False`` checks the header only
            (format and pixel limit), for bytes a provider just produced; they are decoded, under the same
            limit, when first read.

        Raises
        ------
        ImageDecodeError
            When the bytes are not a valid PNG, JPEG or WebP image within the pixel limit.
        """
        from ..imaging.codec import image_info

        data = _to_bytes(image, format)
        if decode:
            array = decode_image(data, max_pixels=self.max_pixels)  # proves the bytes decode, within limits
            height, width = array.shape[:2]
        fmt, header_width, header_height = image_info(data, max_pixels=self.max_pixels)
        if not decode:
            width, height = header_width, header_height
        digest = hashlib.sha256(data).hexdigest()
        path = self.folder / f"{digest}.{EXTENSIONS[fmt]}"
        if not path.exists():
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                # Synced before a snapshot that references it (persistence.py), and before the change is
                # committed when the log runs with IMAGESTUDIO_LOG_SYNC=full.
                write_atomic(path, data, durable=False)
            except OSError as exc:
                from .ylog import storage_error

                raise storage_error(exc, path, "store the image") from None
            self._project._unsynced.append(path)
        existing = self._project._asset_meta(digest)
        if existing is None:
            info = AssetInfo(digest, MIME_TYPES[fmt], int(width), int(height), len(data),
                             now_iso(), sorted(set(tags)), source)
            self._project._set_asset_meta(digest, info.as_dict())
        else:
            info = AssetInfo(**existing)
            if tags and not set(tags) <= set(info.tags):
                info.tags = sorted(set(info.tags) | set(tags))
                self._project._set_asset_meta(digest, info.as_dict())
        return info

    def tag(self, ref: str, *tags: str) -> AssetInfo:
        """Add tags to an asset."""
        info = self.info(ref)
        info.tags = sorted(set(info.tags) | {t.strip() for t in tags if t.strip()})
        self._project._set_asset_meta(info.hash, info.as_dict())
        return info

    def untag(self, ref: str, *tags: str) -> AssetInfo:
        """Remove tags from an asset."""
        info = self.info(ref)
        info.tags = sorted(set(info.tags) - set(tags))
        self._project._set_asset_meta(info.hash, info.as_dict())
        return info

    # --- reading ---------------------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        """Return the full hash for a hash or a unique prefix of at least 6 characters."""
        hashes = self._project._asset_hashes()
        if ref in hashes:
            return ref
        matches = [h for h in hashes if len(ref) >= 6 and h.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgumentError(f"asset prefix {ref!r} is ambiguous ({len(matches)} matches); give more characters")
        raise AssetNotFoundError(f"no asset {ref!r} in project {self._project.name!r}; "
                                 "`imagestudio assets list` shows the stored ones")

    def info(self, ref: str) -> AssetInfo:
        """Metadata of an asset by hash or unique prefix."""
        digest = self.resolve(ref)
        return AssetInfo(**self._project._asset_meta(digest))

    def list(self, *, tag: str | None = None) -> list[AssetInfo]:
        """All assets (optionally only those with ``tag``), oldest first."""
        infos = [AssetInfo(**meta) for meta in self._project._all_asset_meta()]
        if tag:
            infos = [i for i in infos if tag in i.tags]
        return sorted(infos, key=lambda i: (i.created, i.hash))

    def path(self, ref: str) -> Path:
        """Path of the asset's file."""
        info = self.info(ref)
        return self.folder / f"{info.hash}.{info.extension}"

    def read(self, ref: str) -> bytes:
        """The asset's bytes, checked against its hash.

        Raises
        ------
        DataError
            When the file is missing or its content no longer matches its hash.
        """
        info = self.info(ref)
        path = self.folder / f"{info.hash}.{info.extension}"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"asset file {path} is missing; restore it from a backup or an export") from None
        if hashlib.sha256(data).hexdigest() != info.hash:
            raise DataError(f"asset file {path} is corrupt: its content does not match its SHA-256 name")
        return data

    def read_array(self, ref: str, *, mode: str | None = "RGBA") -> np.ndarray:
        """The asset decoded as a uint8 array (RGBA by default)."""
        return decode_image(self.read(ref), mode=mode, max_pixels=self.max_pixels)

    def open_image(self, ref: str):
        """The asset as a PIL image."""
        from PIL import Image

        return Image.open(io.BytesIO(self.read(ref)))

    def thumbnail(self, ref: str, max_side: int = 256) -> bytes:
        """A PNG thumbnail (alpha kept) whose longer side is at most ``max_side``; cached on disk."""
        info = self.info(ref)
        cache = self._project.path / "cache" / "thumbs" / f"{info.hash}_{max_side}.png"
        if cache.exists():
            return cache.read_bytes()
        data = encode_image(thumbnail(self.read_array(info.hash), max_side), "png")
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cache, data)
        return data

    def export(self, ref: str, destination: Path) -> Path:
        """Copy an asset to ``destination`` (a file, or a folder to put ``<hash>.<ext>`` in)."""
        info = self.info(ref)
        destination = Path(destination)
        if destination.is_dir():
            destination = destination / f"{info.hash}.{info.extension}"
        write_atomic(destination, self.read(info.hash))
        return destination

    def _remove(self, digest: str) -> None:
        # Only the clean-up path calls this, after checking that nothing references the asset.
        info = AssetInfo(**self._project._asset_meta(digest))
        (self.folder / f"{digest}.{info.extension}").unlink(missing_ok=True)
        for thumb in (self._project.path / "cache" / "thumbs").glob(f"{digest}_*"):
            thumb.unlink(missing_ok=True)
        self._project._delete_asset_meta(digest)
