"""Fast encoding of cut-outs: PNG by OpenCV's encoder at a low compression level, or lossless WebP.

A 1024x1024 RGBA cut-out is mostly transparent or flat, so a low zlib level compresses it nearly as well
as the default at a fraction of the time (``benchmarks/background/RESULTS.md`` has the figures). Bytes in,
bytes out: nothing here touches files.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...errors import InvalidArgumentError, UnsupportedParameterError

#: Output formats with alpha.
CUTOUT_FORMATS = ("png", "webp")
#: zlib level of PNG cut-outs (0-9): 1 measured several times faster than Pillow's 6 for a few % more bytes.
PNG_LEVEL = 1


def encode_cutout(image: np.ndarray, format: str = "png", *, png_level: int = PNG_LEVEL) -> bytes:
    """Encode a uint8 RGB or RGBA image losslessly as PNG (zlib level ``png_level``) or WebP.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 (H, W, 3) or (H, W, 4), RGB(A) channel order.
    format : {"png", "webp"}
        PNG (OpenCV's encoder) or lossless WebP; both keep alpha. WebP keeps every visible pixel exactly
        but may change the colour under alpha 0.
    png_level : int
        zlib compression level 0 (none) to 9 (smallest, slowest).

    Returns
    -------
    bytes

    Raises
    ------
    UnsupportedParameterError
        For another format; ``InvalidArgumentError`` for a bad image or level.

    Examples
    --------
    >>> import numpy as np
    >>> from imagestudio_nb.imaging.codec import decode_image
    >>> rgba = np.zeros((8, 8, 4), np.uint8); rgba[2:6, 2:6] = (200, 30, 30, 255)
    >>> data = encode_cutout(rgba)
    >>> data[:4], bool((decode_image(data) == rgba).all())
    (b'\\x89PNG', True)
    >>> bool((decode_image(encode_cutout(rgba, "webp"))[2:6, 2:6] == rgba[2:6, 2:6]).all())
    True
    """
    if format not in CUTOUT_FORMATS:
        raise UnsupportedParameterError("format", format, CUTOUT_FORMATS)
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
            and image.shape[2] in (3, 4)):
        raise InvalidArgumentError("encode_cutout needs a uint8 (H, W, 3|4) RGB(A) array")
    if not 0 <= int(png_level) <= 9:
        raise InvalidArgumentError(f"png_level={png_level} must be 0..9")
    code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    bgr = cv2.cvtColor(image, code)
    if format == "png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, int(png_level)]
        ok, buf = cv2.imencode(".png", bgr, params)
    else:
        # OpenCV writes lossless WebP for a quality above 100.
        ok, buf = cv2.imencode(".webp", bgr, [cv2.IMWRITE_WEBP_QUALITY, 101])
    if not ok:
        raise InvalidArgumentError(f"OpenCV could not encode a {image.shape} image as {format}")
    return buf.tobytes()
