"""Pixels the kernel renders for the Canvas (DESIGN.md D3): layers whose look the browser cannot compute
(filter chains, text), encoded for transport, and the PNG export of the whole canvas.

Filtered layers are the project's derived assets, keyed by (source hash, chain hash) and shared with
``Project.render`` (``project/derived.py``), with the most recent ones kept decoded in memory; nothing here
is written into the project document.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from ..errors import InvalidArgumentError


class _LRU:
    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_derived = _LRU(24)


def encode_for_view(image: np.ndarray) -> tuple[bytes, str]:
    """JPEG for opaque pixels (fast, small), a quickly compressed PNG when alpha matters."""
    if image.shape[2] == 3 or bool((image[..., 3] == 255).all()):
        import simplejpeg

        rgb = np.ascontiguousarray(image[..., :3])
        return simplejpeg.encode_jpeg(rgb, quality=92, colorspace="RGB"), "image/jpeg"
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover - cv2 encodes any uint8 RGBA
        raise InvalidArgumentError("could not encode the layer as PNG")
    return data.tobytes(), "image/png"


def layer_pixels(project, layer: Mapping[str, Any]) -> np.ndarray | None:
    """A layer's own pixels (RGBA uint8) after its filter chain, before its transform; None when empty."""
    from ..imaging.chains import apply_chain, chain_hash
    from ..imaging.layer_render import render_text
    from ..imaging.strokes import render_strokes

    kind = layer.get("kind", "image")
    asset = layer.get("asset")
    chain = layer.get("filters") or []

    def load(digest: str) -> np.ndarray:
        return project.assets.read_array(digest, mode="RGBA")

    if kind in ("image", "generated"):
        if not asset:
            return None
        if not chain:
            return load(asset)
        key = (asset, chain_hash(chain))
        memory_key = (str(project.path), *key)
        if (cached := _derived.get(memory_key)) is not None:
            return cached
        store = _derived_store(project)
        pixels = store.get(key)
        if pixels is None:
            pixels = apply_chain(load(asset), chain, load_asset=load)
            store[key] = pixels
        _derived.put(memory_key, pixels)
        return pixels
    if kind == "paint":
        base = load(asset) if asset else None
        width, height = project.canvas_size
        h, w = base.shape[:2] if base is not None else (height, width)
        pixels = render_strokes(layer.get("strokes") or [], h, w, base)
    elif kind == "text":
        text = layer.get("text") or {}
        if not str(text.get("content", "")):
            return None
        pixels = render_text(text)
    else:
        return None
    return apply_chain(pixels, chain, load_asset=load) if chain else pixels


def _derived_store(project):
    """The project's derived assets (``<project>/cache/derived``), or a plain dict where that store is absent."""
    try:
        from ..project.derived import DerivedAssets
    except ImportError:  # an older project layer: keep the pixels in memory only
        return {}
    return DerivedAssets(project.path / "cache" / "derived")


#: Export formats and their file suffixes.
EXPORT_FORMATS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


def export_bytes(project, format: str = "png", *, quality: int = 90) -> bytes:
    """The canvas rendered by the reference renderer, encoded as PNG or WebP (with alpha) or JPEG (on
    white, since JPEG has no alpha and transparent pixels would otherwise turn black)."""
    from ..imaging.codec import encode_image

    image = project.render()
    if format == "jpeg":
        alpha = image[..., 3:4].astype(np.float32) / 255
        image = (image[..., :3] * alpha + 255 * (1 - alpha) + 0.5).astype(np.uint8)
    return encode_image(image, format, quality=quality, lossless=format == "webp" and quality >= 100)

