"""16-bit images decode scaled to 8 bits (the high byte), never clipped to white."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from imagestudio_nb.imaging.codec import decode_image

VALUES = np.array([[0, 255, 256, 257], [32768, 40000, 65280, 65535]], np.uint16)
EXPECTED = (VALUES >> 8).astype(np.uint8)  # 0 0 1 1 / 128 156 255 255


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png16(samples: np.ndarray, colour_type: int, *, trns: bytes | None = None) -> bytes:
    """A 16-bit PNG written byte by byte from the spec, for modes neither OpenCV nor Pillow write."""
    height, width = samples.shape[:2]
    rows = samples.reshape(height, -1).astype(">u2").tobytes()
    stride = len(rows) // height
    raw = b"".join(b"\x00" + rows[y * stride:(y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    extra = _png_chunk(b"tRNS", trns) if trns else b""
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + extra + _png_chunk(b"IDAT", zlib.compress(raw))
            + _png_chunk(b"IEND", b""))


def test_16_bit_grey_png_from_opencv_is_scaled_not_clipped():
    ok, png = cv2.imencode(".png", VALUES)
    assert ok and Image.open(io.BytesIO(png.tobytes())).mode.startswith("I")
    decoded = decode_image(png.tobytes())
    assert decoded.shape == (2, 4, 3)
    for channel in range(3):
        np.testing.assert_array_equal(decoded[..., channel], EXPECTED)


def test_16_bit_grey_png_from_pillow_is_scaled_not_clipped():
    buffer = io.BytesIO()
    Image.fromarray(VALUES).save(buffer, "PNG")
    decoded = decode_image(buffer.getvalue(), mode="RGBA")
    np.testing.assert_array_equal(decoded[..., 0], EXPECTED)
    assert (decoded[..., 3] == 255).all()


@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_png_from_opencv_is_scaled(channels):
    planes = [VALUES, 65535 - VALUES, VALUES // 2, np.full_like(VALUES, 40000)][:channels]
    rgb = np.dstack(planes)
    bgr = rgb[..., [2, 1, 0, 3][:channels]]
    ok, png = cv2.imencode(".png", np.ascontiguousarray(bgr))
    decoded = decode_image(png.tobytes())
    assert decoded.shape == (2, 4, channels)
    np.testing.assert_array_equal(decoded, (rgb >> 8).astype(np.uint8))


def test_16_bit_grey_with_alpha_is_scaled():
    alpha = np.array([[65535, 0, 32768, 65535], [65535, 65535, 256, 0]], np.uint16)
    png = _png16(np.dstack([VALUES, alpha]), colour_type=4)
    decoded = decode_image(png)
    assert decoded.shape == (2, 4, 4)
    np.testing.assert_array_equal(decoded[..., 0], EXPECTED)
    np.testing.assert_array_equal(decoded[..., 3], (alpha >> 8).astype(np.uint8))


def test_16_bit_grey_transparent_colour_becomes_alpha():
    png = _png16(VALUES, colour_type=0, trns=struct.pack(">H", 40000))
    decoded = decode_image(png)
    assert decoded.shape == (2, 4, 4)
    np.testing.assert_array_equal(decoded[..., 0], EXPECTED)
    assert decoded[1, 1, 3] == 0 and (np.delete(decoded[..., 3].ravel(), 5) == 255).all()


def test_8_bit_grey_png_is_unchanged():
    grey = np.array([[0, 1, 128, 255]], np.uint8)
    ok, png = cv2.imencode(".png", grey)
    np.testing.assert_array_equal(decode_image(png.tobytes())[..., 1], grey)
