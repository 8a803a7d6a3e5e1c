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
from .modes import MASK_TOOLS, PAINT_TOOLS  # noqa: E402  (re-exported)
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
    full = np.zeros((height, width), np.float32)
    found = _coverage_in_box(stroke, height, width)
    if found is not None:
        (y0, y1, x0, x1), coverage = found
        full[y0:y1, x0:x1] = coverage
    return full


def _coverage_in_box(stroke: Mapping, height: int, width: int):
    """``((y0, y1, x0, x1), coverage)`` over the part of the canvas the stroke can touch, or ``None``.

    Drawing and blurring only the stroke's box (with a margin wider than the blur's kernel, and the
    canvas's own border where the box meets it) gives the same pixels as the whole canvas, at a cost
    that follows the stroke's size instead of the canvas's.
    """
    points = np.asarray(stroke.get("points", ()), dtype=np.float64)
    if points.size == 0:
        return None
    if points.size % 2:
        raise InvalidArgumentError("stroke points must be a flat list [x0, y0, x1, y1, ...] of even length")
    size = float(stroke.get("size", 8))
    hardness = float(stroke.get("hardness", 1.0))
    opacity = float(stroke.get("opacity", 1.0))
    if size <= 0 or not 0 <= hardness <= 1 or not 0 <= opacity <= 1:
        raise InvalidArgumentError("stroke size must be > 0, hardness and opacity in 0..1")
    sigma = max(0.3, size * (1 - hardness) / 4) if hardness < 1 else 0.0
    xy = points.reshape(-1, 2)
    margin = size / 2 + 2 + (int(np.ceil(sigma * 8)) + 2 if sigma else 0)
    x0 = max(0, int(np.floor(xy[:, 0].min() - margin)))
    x1 = min(width, int(np.ceil(xy[:, 0].max() + margin)) + 1)
    y0 = max(0, int(np.floor(xy[:, 1].min() - margin)))
    y1 = min(height, int(np.ceil(xy[:, 1].max() + margin)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fixed = np.round((xy - (x0, y0)) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    thickness = max(1, int(round(size)))
    if len(fixed) == 1:
        cv2.circle(canvas, tuple(fixed[0]), int(round(size / 2 * (1 << _SUBPIXEL_BITS))), 255, -1,
                   cv2.LINE_AA, _SUBPIXEL_BITS)
    else:
        cv2.polylines(canvas, [fixed], False, 255, thickness, cv2.LINE_AA, _SUBPIXEL_BITS)
    coverage = canvas.astype(np.float32) * (1 / 255)
    if sigma:
        if (y0, x0) == (0, 0) and (y1, x1) == (height, width):
            coverage = cv2.GaussianBlur(coverage, (0, 0), sigma)
        else:  # blur inside a zero frame so the box's edges behave as open canvas, the canvas's as its border
            pad = [0 if y0 == 0 else 1, 0 if y1 == height else 1, 0 if x0 == 0 else 1, 0 if x1 == width else 1]
            coverage = _blur_in_frame(coverage, sigma, pad)
    if opacity < 1:
        coverage *= opacity
    return (y0, y1, x0, x1), coverage


def _blur_in_frame(coverage: np.ndarray, sigma: float, open_sides: list[int]) -> np.ndarray:
    """Gaussian blur where the open sides continue with zeros and the others reflect (the canvas edge)."""
    k = int(np.ceil(sigma * 8)) + 2
    top, bottom, left, right = (k * side for side in open_sides)
    framed = cv2.copyMakeBorder(coverage, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
    blurred = cv2.GaussianBlur(framed, (0, 0), sigma)
    return blurred[top:top + coverage.shape[0], left:left + coverage.shape[1]]


def render_strokes(strokes: Iterable[Mapping], height: int, width: int,
                   base: np.ndarray | None = None) -> np.ndarray:
    """Paint brush and eraser strokes, in order, onto an RGBA uint8 canvas.

    ``base`` (RGBA uint8) is painted on (as a copy); a transparent canvas is used otherwise.
    Brushes composite their colour "over" the canvas; erasers reduce its alpha.

    Examples
    --------
    >>> out = render_strokes([{"tool": "brush", "size": 4, "points": [2, 5, 8, 5], "color": "#ff0000"}], 10, 10)
    >>> out[5, 5].tolist(), out[0, 0].tolist()
    ([255, 0, 0, 255], [0, 0, 0, 0])
    """
    canvas = StrokeCanvas(height, width, base)
    canvas.paint(strokes)
    return canvas.rgba()


class StrokeCanvas:
    """A paint layer's pixels kept in floating point, so strokes can be added later exactly as if all had
    been drawn at once (a timelapse adds each frame's new strokes; no rounding builds up)."""

    def __init__(self, height: int, width: int, base: np.ndarray | None = None):
        self.height, self.width = height, width
        self.pixels = np.zeros((height, width, 4), np.float32) if base is None else \
            base.astype(np.float32) * (1 / 255)

    def paint(self, strokes: Iterable[Mapping]) -> None:
        """Draw ``strokes`` in order on top of what is there."""
        canvas = self.pixels
        for stroke in strokes:
            tool = stroke.get("tool", "brush")
            if tool not in PAINT_TOOLS:
                raise InvalidArgumentError(f"tool={tool!r} is not a paint tool; allowed: {sorted(PAINT_TOOLS)}")
            found = _coverage_in_box(stroke, self.height, self.width)
            if found is None:
                continue
            (y0, y1, x0, x1), cov = found
            cov = cov[..., None]
            box = canvas[y0:y1, x0:x1]  # a view: the stroke changes nothing outside its box
            if tool == "eraser":
                box[..., 3:] *= 1 - cov
                continue
            rgb = np.array(parse_color(stroke.get("color", "#000000")), np.float32) / 255
            alpha = box[..., 3:]
            out_alpha = cov + alpha * (1 - cov)
            safe = np.where(out_alpha > 0, out_alpha, 1)
            box[..., :3] = (rgb * cov + box[..., :3] * alpha * (1 - cov)) / safe
            box[..., 3:] = out_alpha

    def rgba(self) -> np.ndarray:
        """The pixels as RGBA uint8."""
        return np.clip(self.pixels * 255 + 0.5, 0, 255).astype(np.uint8)


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
        found = _coverage_in_box(stroke, height, width)
        if found is None:
            continue
        (y0, y1, x0, x1), cov = found
        box = matte[y0:y1, x0:x1]
        if tool in ("keep", "mask_add"):
            box += (1 - box) * cov
        else:
            box *= 1 - cov
    return matte
