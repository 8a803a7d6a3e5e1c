"""Safe image decoding and fast encoding between bytes and uint8 numpy arrays.

Decoding checks the header's pixel count before any pixel is decompressed, so a decompression bomb
fails fast with ``ImageDecodeError``. It must never decode formats other than PNG, JPEG and WebP.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from ..errors import ImageDecodeError, InvalidArgumentError

#: Default limit on decoded pixels (width x height): 64 megapixels, e.g. 8192 x 8192.
DEFAULT_MAX_PIXELS = 64 * 1024 * 1024

#: MIME type of each format the toolkit reads and writes.
MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}

_FORMAT_ALIASES = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}


def sniff_format(data: bytes) -> str:
    """Return ``"PNG"``, ``"JPEG"`` or ``"WEBP"`` from the magic bytes of ``data``.

    Raises
    ------
    ImageDecodeError
        When the bytes are none of the three formats.

    Examples
    --------
    >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(8))
    'PNG'
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise ImageDecodeError("not a PNG, JPEG or WebP image (unrecognised header); supported formats: PNG, JPEG, WebP")


def image_info(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[str, int, int]:
    """Return ``(format, width, height)`` read from the header only, after the size check."""
    fmt = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                width, height = im.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image is too large to decode safely: {exc}") from None
    except Exception as exc:  # Pillow raises many types for corrupt headers
        raise ImageDecodeError(f"corrupt {fmt} image: {exc}") from None
    _check_pixels(width, height, max_pixels)
    return fmt, width, height


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"image has an empty size {width}x{height}")
    if width * height > max_pixels:
        raise ImageDecodeError(
            f"image is {width}x{height} = {width * height:,} pixels, over the limit of {max_pixels:,}; "
            "pass a larger max_pixels if you trust this file"
        )


def decode_image(data: bytes, *, mode: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode PNG, JPEG or WebP bytes into a uint8 array of shape (H, W, 3) or (H, W, 4).

    Parameters
    ----------
    data : bytes
        The encoded image.
    mode : {"RGB", "RGBA", None}
        Convert to this mode; ``None`` keeps alpha when the image has it and gives RGB otherwise.
    max_pixels : int
        Refuse images with more pixels than this, before decompressing them.

    Returns
    -------
    numpy.ndarray
        A new uint8 array; EXIF orientation is applied.

    Raises
    ------
    ImageDecodeError
        For unsupported, corrupt, truncated or oversized images.

    Examples
    --------
    >>> import numpy as np
    >>> png = encode_image(np.zeros((2, 3, 4), np.uint8), "png")
    >>> decode_image(png).shape
    (2, 3, 4)
    """
    if mode not in (None, "RGB", "RGBA"):
        raise InvalidArgumentError(f"mode={mode!r} is not supported; allowed: 'RGB', 'RGBA', None")
    fmt, _, _ = image_info(data, max_pixels=max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            im.load()
            im = _to_8_bits(ImageOps.exif_transpose(im))
            has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
            target = mode or ("RGBA" if has_alpha else "RGB")
            return np.asarray(im.convert(target), dtype=np.uint8).copy()
    except ImageDecodeError:
        raise
    except Exception as exc:
        raise ImageDecodeError(f"corrupt or truncated {fmt} image: {exc}") from None


def _to_8_bits(im: Image.Image) -> Image.Image:
    """16-bit greyscale PNGs open as 32-bit integer images, which ``convert`` clips to white above 255.

    Scale them as Pillow already does 16-bit RGB(A) PNGs: keep the high byte (``value >> 8``). A
    greyscale ``tRNS`` colour becomes an alpha channel.
    """
    if im.mode not in ("I", "I;16", "I;16B", "I;16L"):
        return im
    values = np.asarray(im)
    grey = Image.fromarray((np.clip(values, 0, 65535).astype(np.uint32) >> 8).astype(np.uint8), "L")
    transparent = im.info.get("transparency")
    if isinstance(transparent, int):
        alpha = Image.fromarray(np.where(values == transparent, 0, 255).astype(np.uint8), "L")
        return Image.merge("LA", (grey, alpha))
    return grey


def check_image_array(image: np.ndarray, *, name: str = "image") -> np.ndarray:
    """Validate that ``image`` is a uint8 RGB or RGBA array and return it.

    Raises
    ------
    InvalidArgumentError
        Naming the expected dtype and shape.
    """
    if not isinstance(image, np.ndarray):
        raise InvalidArgumentError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise InvalidArgumentError(
            f"{name} must be a uint8 array of shape (H, W, 3) or (H, W, 4); got {image.dtype} {image.shape}"
        )
    return image


def encode_image(image: np.ndarray, format: str = "png", *, quality: int = 90, lossless: bool = False) -> bytes:
    """Encode a uint8 RGB or RGBA array as PNG, JPEG or WebP bytes.

    JPEG drops alpha (composited on nothing, i.e. alpha ignored) and uses libjpeg-turbo through
    simplejpeg when available; PNG and WebP keep alpha.

    Examples
    --------
    >>> import numpy as np
    >>> encode_image(np.zeros((4, 4, 3), np.uint8), "jpeg")[:3]
    b'\\xff\\xd8\\xff'
    """
    image = check_image_array(image)
    fmt = _FORMAT_ALIASES.get(str(format).lower())
    if fmt is None:
        raise InvalidArgumentError(f"format={format!r} is not supported; allowed: png, jpeg, webp")
    if not 1 <= int(quality) <= 100:
        raise InvalidArgumentError(f"quality={quality!r} is out of range; allowed: 1..100")
    if fmt == "JPEG":
        rgb = np.ascontiguousarray(image[..., :3])
        try:
            import simplejpeg

            return simplejpeg.encode_jpeg(rgb, quality=int(quality), colorspace="RGB")
        except ImportError:  # pragma: no cover - simplejpeg is a dependency
            pass
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=int(quality))
        return buf.getvalue()
    buf = io.BytesIO()
    pil = Image.fromarray(image)
    if fmt == "PNG":
        pil.save(buf, "PNG", compress_level=6)
    else:
        pil.save(buf, "WEBP", quality=int(quality), lossless=lossless, method=4)
    return buf.getvalue()


def thumbnail(image: np.ndarray, max_side: int = 256) -> np.ndarray:
    """Return a copy of ``image`` scaled down (area averaging) so its longer side is at most ``max_side``."""
    import cv2

    image = check_image_array(image)
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return image.copy()
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
