"""Rasterising stroke data (brush, eraser, mask brushes) into pixels.

Strokes are the compact point lists stored on paint and mask layers (DESIGN.md D1):
``{"tool": ..., "size": px, "hardness": 0..1, "opacity": 0..1, "color": "#rrggbb", "points": [x0, y0, x1, y1, ...]}``.
This module is the reference rasteriser; the browser only draws an interactive approximation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import cv2
import numpy as np

from ..errors import InvalidArgumentError

#: Tools that add paint or mask coverage, and those that take it away.
PAINT_TOOLS = {"brush", "eraser"}
MASK_TOOLS = {"keep", "remove", "mask_add", "mask_remove"}
_SUBPIXEL_BITS = 4  # cv2 draws with 1/16 px precision


def parse_color(color: str) -> tuple[int, int, int]:
    """Parse ``"#rrggbb"`` (or ``"#rgb"``) into an (r, g, b) tuple.

    Examples
    --------
    >>> parse_color("#ff8000")
    (255, 128, 0)
    """
    text = str(color).lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6:
        raise InvalidArgumentError(f"color={color!r} is not a colour; use '#rrggbb'")
    try:
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    except ValueError:
        raise InvalidArgumentError(f"color={color!r} is not a colour; use '#rrggbb'") from None


def stroke_coverage(stroke: Mapping, height: int, width: int) -> np.ndarray:
    """Return one stroke's coverage as a float32 array in [0, 1] of shape (height, width).

    The stroke is drawn as a round-capped polyline ``size`` pixels wide; ``hardness`` below 1
    softens its edge with a Gaussian; ``opacity`` scales it.

    Examples
    --------
    >>> cov = stroke_coverage({"tool": "brush", "size": 4, "points": [2, 5, 8, 5]}, 10, 10)
    >>> float(cov[5, 5]), float(cov[0, 0])
    (1.0, 0.0)
    """
    points = np.asarray(stroke.get("points", ()), dtype=np.float64)
    if points.size == 0:
        return np.zeros((height, width), np.float32)
    if points.size % 2:
        raise InvalidArgumentError("stroke points must be a flat list [x0, y0, x1, y1, ...] of even length")
    size = float(stroke.get("size", 8))
    hardness = float(stroke.get("hardness", 1.0))
    opacity = float(stroke.get("opacity", 1.0))
    if size <= 0 or not 0 <= hardness <= 1 or not 0 <= opacity <= 1:
        raise InvalidArgumentError("stroke size must be > 0, hardness and opacity in 0..1")
    canvas = np.zeros((height, width), np.uint8)
    fixed = np.round(points.reshape(-1, 2) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    thickness = max(1, int(round(size)))
    if len(fixed) == 1:
        cv2.circle(canvas, tuple(fixed[0]), int(round(size / 2 * (1 << _SUBPIXEL_BITS))), 255, -1,
                   cv2.LINE_AA, _SUBPIXEL_BITS)
    else:
        cv2.polylines(canvas, [fixed], False, 255, thickness, cv2.LINE_AA, _SUBPIXEL_BITS)
    coverage = canvas.astype(np.float32) * (1 / 255)
    if hardness < 1:
        sigma = max(0.3, size * (1 - hardness) / 4)
        coverage = cv2.GaussianBlur(coverage, (0, 0), sigma)
    if opacity < 1:
        coverage *= opacity
    return coverage


def render_strokes(strokes: Iterable[Mapping], height: int, width: int,
                   base: np.ndarray | None = None) -> np.ndarray:
    """Paint brush and eraser strokes, in order, onto an RGBA uint8 canvas.

    ``base`` (RGBA uint8) is painted on (as a copy); a transparent canvas is used otherwise.
    Brushes composite their colour "over" the canvas; erasers reduce its alpha.
    """
    if base is None:
        canvas = np.zeros((height, width, 4), np.float32)
    else:
        canvas = base.astype(np.float32) * (1 / 255)
    for stroke in strokes:
        tool = stroke.get("tool", "brush")
        if tool not in PAINT_TOOLS:
            raise InvalidArgumentError(f"tool={tool!r} is not a paint tool; allowed: {sorted(PAINT_TOOLS)}")
        cov = stroke_coverage(stroke, height, width)[..., None]
        if tool == "eraser":
            canvas[..., 3:] *= 1 - cov
            continue
        rgb = np.array(parse_color(stroke.get("color", "#000000")), np.float32) / 255
        alpha = canvas[..., 3:]
        out_alpha = cov + alpha * (1 - cov)
        safe = np.where(out_alpha > 0, out_alpha, 1)
        canvas[..., :3] = (rgb * cov + canvas[..., :3] * alpha * (1 - cov)) / safe
        canvas[..., 3:] = out_alpha
    return np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8)


def mask_from_strokes(strokes: Iterable[Mapping], height: int, width: int,
                      base: np.ndarray | None = None) -> np.ndarray:
    """Apply keep/add and remove strokes, in order, to a float32 matte in [0, 1].

    ``base`` is the starting matte (e.g. the automatic one); zeros are used otherwise.
    ``keep``/``mask_add`` raise the matte towards 1, ``remove``/``mask_remove`` lower it towards 0.
    """
    matte = np.zeros((height, width), np.float32) if base is None else base.astype(np.float32).copy()
    for stroke in strokes:
        tool = stroke.get("tool")
        if tool not in MASK_TOOLS:
            raise InvalidArgumentError(f"tool={tool!r} is not a mask tool; allowed: {sorted(MASK_TOOLS)}")
        cov = stroke_coverage(stroke, height, width)
        if tool in ("keep", "mask_add"):
            matte = matte + (1 - matte) * cov
        else:
            matte = matte * (1 - cov)
    return matte
