"""Artistic filters: oil painting (Kuwahara), watercolour, pencil sketch, cartoon and posterize.

They are built from fast OpenCV primitives (box filters, bilateral filtering at half size, a
colour-dodge divide) rather than ``cv2.stylization``/``cv2.pencilSketch``, which are 40-100x slower.
Every one has an ``amount`` (or ``levels``) that gives the input back, and alpha is kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from .blur import gaussian
from .channels import to_uint8
from .colour_ops import ToneCurve, apply_colour_ops
from .registry import Param, register

_AMOUNT = Param(
    "amount", "float", 1.0, 0.0, 1.0, "", "Mix of the effect with the original; 0 is the original."
)


def _mix(original: np.ndarray, effect: np.ndarray, amount: float) -> np.ndarray:
    if amount >= 1:
        return effect
    return cv2.addWeighted(original, 1 - amount, effect, amount, 0)


def kuwahara(rgb: np.ndarray, radius: int) -> np.ndarray:
    """Kuwahara filter: each pixel takes the mean colour of the least varied of its four quadrants.

    Quadrants are ``(radius + 1)`` pixels square, tried in the order top-left, top-right, bottom-left,
    bottom-right (the first wins a tie); variance is measured on luma; borders reflect (101).

    Examples
    --------
    >>> img = np.zeros((6, 6, 3), np.uint8); img[:, 3:] = 200
    >>> kuwahara(img, 2)[:, 2:4, 0].tolist()[0]
    [0, 200]
    """
    k = radius + 1
    f = rgb.astype(np.float32)
    luma = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)
    luma2 = luma * luma
    best = best_var = None
    for anchor in ((radius, radius), (0, radius), (radius, 0), (0, 0)):

        def box(a):
            return cv2.boxFilter(a, -1, (k, k), anchor=anchor, borderType=cv2.BORDER_REFLECT_101)

        mean, mean_l = box(f), box(luma)
        var = box(luma2) - mean_l * mean_l
        if best is None:
            best, best_var = mean, var
        else:
            better = (var < best_var).view(np.uint8)
            cv2.copyTo(mean, better, best)
            np.minimum(best_var, var, out=best_var)
    return to_uint8(best)


@register(
    "oil_painting",
    category="artistic",
    identity={"amount": 0.0},
    rgb_only=True,
    params=[
        Param("radius", "int", 4, 1, 30, "px", "Brush size: quadrants are radius + 1 pixels square."),
        _AMOUNT,
    ],
)
def oil_painting(image: np.ndarray, *, radius: int = 4, amount: float = 1.0) -> np.ndarray:
    """Oil-paint look by a Kuwahara filter (flat strokes, kept edges), computed with box filters.

    Examples
    --------
    >>> img = np.zeros((8, 8, 3), np.uint8); img[:, 4:] = 200
    >>> bool((oil_painting(img, radius=2) == img).all())
    True
    """
    if amount == 0:
        return image.copy()
    return _mix(image, kuwahara(image, int(radius)), amount)


def _posterize_op(levels: int) -> ToneCurve:
    return ToneCurve.per_channel(lambda x: np.rint(np.rint(x * (levels - 1) / 255) * 255 / (levels - 1)))


@register(
    "posterize",
    category="artistic",
    identity={"levels": 256},
    colour_op=_posterize_op,
    params=[Param("levels", "int", 6, 2, 256, "", "Number of levels per channel; 256 is the original.")],
)
def posterize(image: np.ndarray, *, levels: int = 6) -> np.ndarray:
    """Reduce each channel to ``levels`` evenly spaced values (nearest level).

    Examples
    --------
    >>> posterize(np.array([[[10, 100, 200]]], np.uint8), levels=2)[0, 0].tolist()
    [0, 0, 255]
    """
    return apply_colour_ops(image, [_posterize_op(levels)])


@register(
    "watercolor",
    category="artistic",
    identity={"amount": 0.0},
    rgb_only=True,
    params=[
        Param("smoothing", "float", 0.5, 0.0, 1.0, "", "How far colours are washed together."),
        Param("levels", "int", 24, 2, 256, "", "Pigment levels per channel (256: no banding)."),
        Param("edges", "float", 0.4, 0.0, 1.0, "", "Darkening where washes meet."),
        _AMOUNT,
    ],
)
def watercolor(
    image: np.ndarray, *, smoothing: float = 0.5, levels: int = 24, edges: float = 0.4, amount: float = 1.0
) -> np.ndarray:
    """Watercolour look: edge-preserving washes (bilateral filtering at half size), pigment levels,
    and darker rims where washes meet.

    Examples
    --------
    >>> img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    >>> bool(watercolor(img).std() < img.std())
    True
    """
    if amount == 0:
        return image.copy()
    h, w = image.shape[:2]
    small = image
    if min(h, w) >= 64:
        small = cv2.resize(image, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    sigma_colour = 20 + 80 * smoothing
    for _ in range(2):
        small = cv2.bilateralFilter(small, 9, sigma_colour, 4)
    wash = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) if small.shape[:2] != (h, w) else small
    if levels < 256:
        wash = apply_colour_ops(wash, [_posterize_op(levels)])
    if edges > 0:
        grey = cv2.cvtColor(wash, cv2.COLOR_RGB2GRAY)
        rim = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        rim = cv2.GaussianBlur(rim, (3, 3), 0).astype(np.float32) * (edges / 255)
        wash = to_uint8(wash * (1 - np.minimum(rim, 1))[..., None])
    return _mix(image, wash, amount)


def colour_dodge_divide(base: np.ndarray, blend: np.ndarray) -> np.ndarray:
    """The W3C colour-dodge of uint8 planes: ``min(255, base * 255 / (255 - blend))``, 0 where base is 0.

    Examples
    --------
    >>> base, blend = np.array([[0, 100, 100, 9]], np.uint8), np.array([[255, 0, 155, 255]], np.uint8)
    >>> colour_dodge_divide(base, blend).tolist()
    [[0, 100, 255, 255]]
    """
    den = 255 - blend
    out = cv2.divide(base, den, scale=255).reshape(base.shape)
    out[(den == 0) & (base > 0)] = 255
    return out


@register(
    "pencil_sketch",
    category="artistic",
    identity={"amount": 0.0},
    rgb_only=True,
    params=[
        Param("sigma", "float", 8.0, 0.5, 100.0, "px", "Blur of the inverted image: the stroke width."),
        Param("color", "bool", False, description="Keep the colours (multiply) instead of grey."),
        _AMOUNT,
    ],
)
def pencil_sketch(
    image: np.ndarray, *, sigma: float = 8.0, color: bool = False, amount: float = 1.0
) -> np.ndarray:
    """Pencil sketch: grey, colour-dodged by its blurred inverse (outlines stay, flat areas go white).

    Examples
    --------
    >>> img = np.full((9, 9, 3), 120, np.uint8)
    >>> int(pencil_sketch(img, sigma=2.0)[4, 4, 0])
    255
    """
    if amount == 0:
        return image.copy()
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    blurred = gaussian(cv2.bitwise_not(grey), sigma)
    sketch = colour_dodge_divide(grey, blurred)
    if color:
        effect = cv2.multiply(image, cv2.cvtColor(sketch, cv2.COLOR_GRAY2RGB), scale=1 / 255)
    else:
        effect = cv2.cvtColor(sketch, cv2.COLOR_GRAY2RGB)
    return _mix(image, effect, amount)


@register(
    "cartoon",
    category="artistic",
    identity={"amount": 0.0},
    rgb_only=True,
    params=[
        Param("levels", "int", 8, 2, 64, "", "Colour levels per channel after smoothing."),
        Param("line_size", "int", 9, 3, 99, "px", "Neighbourhood for the outlines (odd sizes)."),
        Param(
            "line_strength",
            "float",
            4.0,
            0.0,
            40.0,
            "level",
            "How much darker than its neighbourhood a pixel must be to be drawn as a line.",
        ),
        _AMOUNT,
    ],
)
def cartoon(
    image: np.ndarray, *, levels: int = 8, line_size: int = 9, line_strength: float = 4.0, amount: float = 1.0
) -> np.ndarray:
    """Cartoon look: smoothed, posterized colour with dark outlines from an adaptive threshold.

    Examples
    --------
    >>> img = np.full((16, 16, 3), 200, np.uint8); img[:, 8:] = 40
    >>> out = cartoon(img)
    >>> int(out[0, 0, 0]), int(out[0, 15, 0])
    (182, 36)
    """
    if amount == 0:
        return image.copy()
    h, w = image.shape[:2]
    if min(h, w) >= 64:  # smoothing at half size: a quarter of the cost, and it is blurred anyway
        small = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        smooth = cv2.resize(cv2.bilateralFilter(small, 9, 60, 3), (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        smooth = cv2.bilateralFilter(image, 9, 60, 5)
    colour = apply_colour_ops(smooth, [_posterize_op(levels)])
    grey = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 5)
    block = max(3, int(line_size) | 1)
    lines = cv2.adaptiveThreshold(
        grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, line_strength
    )
    effect = cv2.bitwise_and(colour, cv2.cvtColor(lines, cv2.COLOR_GRAY2RGB))
    return _mix(image, effect, amount)


__all__ = [
    "oil_painting",
    "watercolor",
    "pencil_sketch",
    "cartoon",
    "posterize",
    "kuwahara",
    "colour_dodge_divide",
]
