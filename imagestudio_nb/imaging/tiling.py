"""Texture sets: tileable textures and the maps a 3D tool wants from one image (height, normal, roughness),
plus a 3x3 preview and a measure of how visible the seams are.

Pure numpy/OpenCV on uint8 RGB(A) arrays: it encodes PNG bytes when asked and writes no files.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InvalidArgumentError
from .codec import encode_image


def _ramp(length: int, blend: float) -> np.ndarray:
    """1 in the middle, falling smoothly to 0 at both ends over ``blend`` of the length on each side."""
    position = np.abs(np.arange(length, dtype=np.float32) + 0.5 - length / 2) / (length / 2)  # 0 centre, 1 ends
    inner = 1 - 2 * blend
    t = np.clip((1 - position) / max(1e-6, 1 - inner), 0, 1)
    return t * t * (3 - 2 * t)  # smoothstep


def make_seamless(image: np.ndarray, *, blend: float = 0.5) -> np.ndarray:
    """Make ``image`` tile without visible seams by offset-and-blend, one axis at a time.

    For each axis the image is blended with a copy shifted by half its size: the copy near the wrap edges (where
    it is continuous across them), the original in the middle (which hides the copy's own seam). Working one
    axis at a time keeps the corners consistent. ``blend`` (0-0.5) is how far from each edge the change
    reaches; content near the edges is softened in proportion.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ramp = (np.linspace(0, 255, 64)[None, :, None] * np.ones((64, 1, 3))).astype(np.uint8)
    >>> round(seam_visibility(ramp)), round(seam_visibility(make_seamless(ramp)), 1)
    (63, 2.7)
    """
    if not 0 < blend <= 0.5:
        raise InvalidArgumentError(f"blend must be in (0, 0.5]; got {blend}")
    out = image.astype(np.float32)
    height, width = out.shape[:2]
    across = _ramp(width, blend)[None, :, None]
    out = across * out + (1 - across) * np.roll(out, width // 2, axis=1)
    down = _ramp(height, blend)[:, None, None]
    out = down * out + (1 - down) * np.roll(out, height // 2, axis=0)
    return np.round(out).astype(np.uint8)


def seam_visibility(tile: np.ndarray) -> float:
    """How much larger the jump across the wrap edges is than between neighbouring pixels inside the tile.

    About 1 means the step across the seam is like any other step (noise gives 1.0; smooth tiles 1-3, since
    their mean step is small); a hard seam gives tens or more. Measured on luminance: the mean absolute
    difference between the last and first column (and row) over the mean absolute difference between adjacent
    columns (and rows) inside. It measures steps only: a tile that repeats a visible feature has no seam by
    this measure and may still look repetitive.

    Examples
    --------
    >>> noise = np.random.default_rng(2).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    >>> round(seam_visibility(noise), 1)
    1.0
    """
    grey = _luminance(tile)
    wrap = (np.abs(grey[:, -1] - grey[:, 0]).mean() + np.abs(grey[-1, :] - grey[0, :]).mean()) / 2
    inside = (np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=0)).mean()) / 2
    return float(wrap / max(inside, 1e-3))


def _wrap_blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur that wraps around the edges (OpenCV's filters have no wrap border), so tiles stay tileable."""
    pad = int(np.ceil(3 * sigma)) + 1
    padded = np.pad(values, ((pad, pad), (pad, pad)), mode="wrap")
    return cv2.GaussianBlur(padded, (0, 0), sigma)[pad:-pad, pad:-pad]


def _luminance(image: np.ndarray) -> np.ndarray:
    rgb = image[..., :3].astype(np.float32) / 255
    return rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32) if rgb.ndim == 3 else rgb


def height_map(image: np.ndarray, *, smooth: float = 1.0) -> np.ndarray:
    """Height in 0..1 from luminance (bright = high), lightly smoothed, stretched to the full range.

    Examples
    --------
    >>> h = height_map(np.dstack([np.tile(np.arange(0, 256, 32, dtype=np.uint8), (8, 1))] * 3), smooth=0)
    >>> float(h.min()), float(h.max())
    (0.0, 1.0)
    """
    grey = _luminance(image)
    if smooth > 0:
        grey = _wrap_blur(grey, smooth)
    low, high = float(grey.min()), float(grey.max())
    return ((grey - low) / (high - low)).astype(np.float32) if high > low else np.full_like(grey, 0.5)


def normal_map(height: np.ndarray, *, strength: float = 4.0) -> np.ndarray:
    """A tangent-space normal map (OpenGL convention: green points up) from a 0..1 height map, as uint8 RGB.

    Gradients wrap around the edges, so the normal map of a tileable height map tiles too.

    Examples
    --------
    >>> normal_map(np.zeros((4, 4), np.float32))[0, 0].tolist()
    [128, 128, 255]
    """
    dx = (np.roll(height, -1, axis=1) - np.roll(height, 1, axis=1)) / 2 * strength
    dy = (np.roll(height, -1, axis=0) - np.roll(height, 1, axis=0)) / 2 * strength
    normal = np.dstack([-dx, dy, np.ones_like(height)])  # +y up: image rows grow downwards
    normal /= np.linalg.norm(normal, axis=2, keepdims=True)
    return np.round((normal + 1) / 2 * 255).clip(0, 255).astype(np.uint8)


def roughness_map(image: np.ndarray, *, radius: float = 3.0) -> np.ndarray:
    """A rough guess at roughness in 0..1: high where local contrast is high, low where the surface is even.

    A heuristic for a starting point, not a measurement of the material.
    """
    grey = _luminance(image)
    mean = _wrap_blur(grey, radius)
    spread = np.sqrt(np.maximum(_wrap_blur(grey * grey, radius) - mean * mean, 0))
    return np.clip(0.35 + spread * 4, 0, 1).astype(np.float32)


def tile_preview(tile: np.ndarray, *, repeat: int = 3) -> np.ndarray:
    """The tile repeated ``repeat`` x ``repeat`` times, to judge the seams by eye.

    Examples
    --------
    >>> tile_preview(np.zeros((4, 5, 3), np.uint8)).shape
    (12, 15, 3)
    """
    return np.tile(tile, (repeat, repeat, 1))


@dataclass
class TextureSet:
    """A PBR texture set: base colour, height, normal and roughness maps of one tileable texture."""

    albedo: np.ndarray
    height: np.ndarray
    normal: np.ndarray
    roughness: np.ndarray

    def encoded(self) -> dict[str, bytes]:
        """PNG bytes per map: ``albedo``, ``height`` (16-bit grey), ``normal``, ``roughness``, ``preview``."""
        import io

        from PIL import Image

        buffer = io.BytesIO()  # 16-bit grey keeps the height's precision; the codec only writes 8-bit colour
        Image.fromarray(np.round(self.height * 65535).astype(np.uint16)).save(buffer, "PNG")
        grey = np.round(self.roughness * 255).astype(np.uint8)
        return {"albedo": encode_image(self.albedo, "png"), "height": buffer.getvalue(),
                "normal": encode_image(self.normal, "png"),
                "roughness": encode_image(np.dstack([grey] * 3), "png"),
                "preview": encode_image(tile_preview(self.albedo), "png")}


def texture_set(image: np.ndarray, *, seamless: bool = True, strength: float = 4.0, blend: float = 0.5) -> TextureSet:
    """A PBR set from one image: made tileable (unless ``seamless=False``), then height, normal and roughness.

    Examples
    --------
    >>> maps = texture_set(np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8))
    >>> maps.albedo.shape, maps.normal.shape, maps.height.dtype.name, sorted(maps.encoded())
    ((32, 32, 3), (32, 32, 3), 'float32', ['albedo', 'height', 'normal', 'preview', 'roughness'])
    """
    albedo = make_seamless(image[..., :3], blend=blend) if seamless else np.ascontiguousarray(image[..., :3])
    height = height_map(albedo)
    return TextureSet(albedo, height, normal_map(height, strength=strength), roughness_map(albedo))
