"""Lighting filters: vignette, ambient light colour, and drop shadows for cut-outs.

Vignette gain masks are cached per size and parameters. The drop shadow is the one filter that
adds coverage: it grows alpha under and around a cut-out and never reduces it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..strokes import parse_color
from .blur import gaussian
from .caching import shared_cache
from .channels import to_uint8
from .colour_ops import ColourMatrix, apply_colour_ops
from .registry import Param, register


def vignette_mask(
    height: int, width: int, *, radius: float, feather: float, center_x: float = 0.5, center_y: float = 0.5
) -> np.ndarray:
    """Vignette weight in [0, 1] (float32, H x W): 0 within ``radius``, rising smoothly over ``feather``.

    Distance is elliptical, scaled so that the corners of a centred vignette are at 1.

    Examples
    --------
    >>> m = vignette_mask(5, 5, radius=0.5, feather=0.25)
    >>> float(m[2, 2]), float(m[0, 0])
    (0.0, 1.0)
    """
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = center_x * (width - 1), center_y * (height - 1)
    dx = (xs - cx) / max((width - 1) / 2, 0.5)
    dy = (ys - cy) / max((height - 1) / 2, 0.5)
    d = np.sqrt(dx * dx + dy * dy) / np.sqrt(2)
    t = np.clip((d - radius) / max(feather, 1e-6), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)


@register(
    "vignette",
    category="lighting",
    identity={"amount": 0.0},
    rgb_only=True,
    params=[
        Param("amount", "float", 0.5, -1.0, 1.0, "", "Darken (positive) or lighten (negative) the edges."),
        Param(
            "radius",
            "float",
            0.6,
            0.0,
            1.5,
            "fraction",
            "Where the fall-off starts, as a fraction of the centre-to-corner distance.",
        ),
        Param("feather", "float", 0.5, 0.01, 1.5, "fraction", "Width of the fall-off."),
        Param("center_x", "float", 0.5, 0.0, 1.0, "fraction", "Centre, as a fraction of the width."),
        Param("center_y", "float", 0.5, 0.0, 1.0, "fraction", "Centre, as a fraction of the height."),
    ],
)
def vignette(
    image: np.ndarray,
    *,
    amount: float = 0.5,
    radius: float = 0.6,
    feather: float = 0.5,
    center_x: float = 0.5,
    center_y: float = 0.5,
) -> np.ndarray:
    """Darken (or lighten towards white) the edges: ``c * (1 - amount * m)`` with ``m = vignette_mask(...)``.

    Examples
    --------
    >>> out = vignette(np.full((9, 9, 3), 200, np.uint8), amount=0.5, radius=0.3, feather=0.3)
    >>> int(out[4, 4, 0]), int(out[0, 0, 0])
    (200, 100)
    """
    if amount == 0:
        return image.copy()
    h, w = image.shape[:2]

    def make():
        mask = vignette_mask(h, w, radius=radius, feather=feather, center_x=center_x, center_y=center_y)
        return cv2.merge([1 - abs(amount) * mask] * 3)

    gain = shared_cache.get_or_make(
        ("vignette", h, w, abs(amount), radius, feather, center_x, center_y), make
    )
    if amount > 0:
        return cv2.multiply(image, gain, dtype=cv2.CV_8U)
    return cv2.bitwise_not(cv2.multiply(cv2.bitwise_not(image), gain, dtype=cv2.CV_8U))


def _ambient_op(color: str, intensity: float, brightness: float) -> ColourMatrix:
    rgb = np.array(parse_color(color), np.float64) / 255
    return ColourMatrix.of(np.diag((1 - intensity + intensity * rgb) * (1 + brightness)))


@register(
    "ambient_light",
    category="lighting",
    identity={"intensity": 0.0, "brightness": 0.0},
    colour_op=_ambient_op,
    params=[
        Param("color", "color", "#ffd8a8", description="Colour of the light falling on the scene."),
        Param("intensity", "float", 0.5, 0.0, 1.0, "", "How strongly the light's colour shows."),
        Param("brightness", "float", 0.0, -1.0, 1.0, "", "Stronger (positive) or weaker light."),
    ],
)
def ambient_light(
    image: np.ndarray, *, color: str = "#ffd8a8", intensity: float = 0.5, brightness: float = 0.0
) -> np.ndarray:
    """Relight with a coloured ambient light: each channel times ``(1 - i + i * colour) * (1 + brightness)``.

    Examples
    --------
    >>> ambient_light(np.full((1, 1, 3), 200, np.uint8), color="#ff0000", intensity=0.5)[0, 0].tolist()
    [200, 100, 100]
    """
    return apply_colour_ops(image, [_ambient_op(color, intensity, brightness)])


@register(
    "drop_shadow",
    category="lighting",
    identity={"opacity": 0.0},
    alpha="extended",
    params=[
        Param("offset_x", "float", 8.0, -1000.0, 1000.0, "px", "Shadow shift to the right."),
        Param("offset_y", "float", 8.0, -1000.0, 1000.0, "px", "Shadow shift downwards."),
        Param("blur", "float", 6.0, 0.0, 200.0, "px", "Softness (Gaussian sigma) of the shadow."),
        Param("opacity", "float", 0.6, 0.0, 1.0, "", "Darkness of the shadow."),
        Param("color", "color", "#000000", description="Colour of the shadow."),
    ],
)
def drop_shadow(
    image: np.ndarray,
    *,
    offset_x: float = 8.0,
    offset_y: float = 8.0,
    blur: float = 6.0,
    opacity: float = 0.6,
    color: str = "#000000",
) -> np.ndarray:
    """Drop a soft shadow behind a cut-out (RGBA): the shifted, blurred alpha, composited under the image.

    RGB images have nothing to cast a shadow around (they are opaque everywhere) and come back unchanged.
    Alpha only grows: pixels of the cut-out keep their colour and coverage.

    Examples
    --------
    >>> img = np.zeros((7, 7, 4), np.uint8); img[1:3, 1:3] = 255
    >>> out = drop_shadow(img, offset_x=3, offset_y=3, blur=0, opacity=0.5)
    >>> out[4, 4].tolist(), out[1, 1].tolist()
    ([0, 0, 0, 128], [255, 255, 255, 255])
    """
    if opacity == 0 or image.shape[2] == 3:
        return image.copy()
    h, w = image.shape[:2]
    alpha = cv2.extractChannel(image, 3).astype(np.float32) * (1 / 255)
    shift = np.array([[1, 0, offset_x], [0, 1, offset_y]], np.float32)
    shadow = cv2.warpAffine(alpha, shift, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    if blur > 0:
        shadow = gaussian(shadow, blur)
    behind = cv2.multiply(shadow, 1 - alpha, scale=opacity)
    out_alpha = alpha + behind
    rgb = cv2.cvtColor(image, cv2.COLOR_RGBA2RGB).astype(np.float32)
    colour = np.array(parse_color(color), np.float32)
    # Where the shadow shows, colour = (rgb * a + shadow colour * behind) / (a + behind).
    weight = cv2.divide(behind, np.maximum(out_alpha, 1e-6))
    mixed = rgb + (colour - rgb) * weight[..., None]
    out = cv2.cvtColor(to_uint8(mixed), cv2.COLOR_RGB2RGBA)
    cv2.insertChannel(to_uint8(out_alpha * 255), out, 3)
    return out


__all__ = ["vignette", "ambient_light", "drop_shadow", "vignette_mask"]
