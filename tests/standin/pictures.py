"""Pictures the stand-in serves: small deterministic gradients for a prompt, edits painted inside a mask."""

from __future__ import annotations

import functools
import hashlib
import io

import numpy as np
from PIL import Image


# --- pictures --------------------------------------------------------------------------------------
def _served_size(size: str | None, side: int, default: tuple[int, int] = (1024, 1024)) -> tuple[int, int]:
    width, height = default
    if size and size != "auto":
        w, _, h = str(size).partition("x")
        width, height = int(w), int(h)
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@functools.lru_cache(maxsize=512)
def render_picture(key: str, width: int, height: int, fmt: str = "png", transparent: bool = False) -> bytes:
    """A small deterministic picture for ``key``: a gradient in colours drawn from its hash."""
    digest = hashlib.sha256(key.encode()).digest()
    a, b = np.frombuffer(digest[:3], np.uint8).astype(np.float32), np.frombuffer(digest[3:6], np.uint8).astype(
        np.float32)
    t = (np.arange(width, dtype=np.float32)[None, :, None] / max(1, width - 1)
         + np.arange(height, dtype=np.float32)[:, None, None] / max(1, height - 1)) / 2
    rgb = (a * (1 - t) + b * t).astype(np.uint8)
    if transparent:
        alpha = np.full((height, width, 1), 255, np.uint8)
        alpha[: height // 4] = 0
        rgb = np.concatenate([rgb, alpha], axis=2)
    return _encode(Image.fromarray(rgb), fmt)


def _encode(picture: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt in ("jpeg", "jpg"):
        picture.convert("RGB").save(buffer, "JPEG", quality=85)
    elif fmt == "webp":
        picture.save(buffer, "WEBP", quality=80)
    else:
        picture.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _edited_picture(source: bytes, mask: bytes | None, prompt: str, size: tuple[int, int], fmt: str) -> bytes:
    """Paint the area to edit (transparent in the mask; everything without one) in the prompt's colour."""
    picture = Image.open(io.BytesIO(source)).convert("RGBA").resize(size)
    colour = tuple(hashlib.sha256(prompt.encode()).digest()[:3]) + (255,)
    paint = Image.new("RGBA", size, colour)
    if mask is None:
        area = Image.new("L", size, 255)
    else:
        alpha = Image.open(io.BytesIO(mask)).convert("RGBA").resize(size).getchannel("A")
        area = alpha.point(lambda v: 255 if v == 0 else 0)
    picture.paste(paint, (0, 0), area)
    return _encode(picture, fmt)


