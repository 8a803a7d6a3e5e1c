"""Strokes are drawn within their own box: the same pixels as drawing each one over the whole canvas."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imagestudio_nb.imaging.strokes import _SUBPIXEL_BITS as BITS
from imagestudio_nb.imaging.strokes import mask_from_strokes, parse_color, render_strokes


def _whole_canvas_coverage(stroke, height, width):
    """The reference: the stroke drawn and blurred over the whole canvas (the renderer's first version)."""
    canvas = np.zeros((height, width), np.uint8)
    points = np.asarray(stroke["points"], np.float64).reshape(-1, 2)
    fixed = np.round(points * (1 << BITS)).astype(np.int32)
    size, hardness, opacity = stroke.get("size", 8), stroke.get("hardness", 1.0), stroke.get("opacity", 1.0)
    if len(fixed) == 1:
        cv2.circle(canvas, tuple(fixed[0]), int(round(size / 2 * (1 << BITS))), 255, -1, cv2.LINE_AA, BITS)
    else:
        cv2.polylines(canvas, [fixed], False, 255, max(1, int(round(size))), cv2.LINE_AA, BITS)
    coverage = canvas.astype(np.float32) / 255
    if hardness < 1:
        coverage = cv2.GaussianBlur(coverage, (0, 0), max(0.3, size * (1 - hardness) / 4))
    return coverage * opacity


def _whole_canvas_render(strokes, height, width):
    canvas = np.zeros((height, width, 4), np.float32)
    for stroke in strokes:
        cov = _whole_canvas_coverage(stroke, height, width)[..., None]
        if stroke["tool"] == "eraser":
            canvas[..., 3:] *= 1 - cov
            continue
        rgb = np.array(parse_color(stroke["color"]), np.float32) / 255
        alpha = canvas[..., 3:]
        out = cov + alpha * (1 - cov)
        canvas[..., :3] = (rgb * cov + canvas[..., :3] * alpha * (1 - cov)) / np.where(out > 0, out, 1)
        canvas[..., 3:] = out
    return np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8)


def _random_strokes(rng, height, width):
    strokes = []
    for k in range(int(rng.integers(1, 6))):
        points = rng.uniform(-30, max(height, width) + 30, 2 * int(rng.integers(1, 6))).tolist()
        strokes.append({"tool": "eraser" if k and rng.random() < 0.3 else "brush", "points": points,
                        "size": float(rng.uniform(0.5, 40)), "opacity": float(rng.uniform(0.2, 1)),
                        "hardness": float(rng.uniform(0, 1)) if rng.random() < 0.5 else 1.0,
                        "color": "#%06x" % int(rng.integers(0, 2**24))})
    return strokes


@pytest.mark.parametrize("seed", range(20))
def test_strokes_drawn_in_their_box_match_the_whole_canvas(seed):
    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(20, 160, 2))
    strokes = _random_strokes(rng, height, width)
    assert np.array_equal(render_strokes(strokes, height, width), _whole_canvas_render(strokes, height, width))
    masks = [dict(s, tool="keep" if s["tool"] == "brush" else "remove") for s in strokes]
    reference = np.zeros((height, width), np.float32)
    for stroke in masks:
        cov = _whole_canvas_coverage(stroke, height, width)
        reference = reference + (1 - reference) * cov if stroke["tool"] == "keep" else reference * (1 - cov)
    assert np.abs(mask_from_strokes(masks, height, width) - reference).max() < 1e-5


def test_a_stroke_leaves_the_canvas_outside_its_box_untouched():
    base = np.full((64, 64, 4), 200, np.uint8)
    out = render_strokes([{"tool": "brush", "points": [10, 10, 12, 12], "size": 3, "color": "#000000"}], 64, 64,
                         base=base)
    assert np.array_equal(out[30:, 30:], base[30:, 30:]) and not np.array_equal(out[:20, :20], base[:20, :20])
