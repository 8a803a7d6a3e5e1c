"""Distortion filters: wave, ripple, swirl and perspective correction from four points.

Each is an inverse map (output pixel -> source position) sampled bilinearly by ``cv2.remap`` with
fixed-point maps cached per size and parameters, since computing a map costs more than using it.
Alpha moves with the pixels (a swirled cut-out keeps its shape swirled); borders are reflected.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .caching import shared_cache
from .channels import warp_rgba
from .registry import Param, register


def _remap(image: np.ndarray, key: tuple, make_map) -> np.ndarray:
    h, w = image.shape[:2]

    def make():
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        map_x, map_y = make_map(xs, ys)
        return cv2.convertMaps(map_x.astype(np.float32), map_y.astype(np.float32), cv2.CV_16SC2)

    maps = shared_cache.get_or_make(key + (h, w), make)
    return warp_rgba(
        image, lambda a: cv2.remap(a, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    )


@register(
    "wave",
    category="distortion",
    alpha="moved",
    identity={"amplitude": 0.0},
    params=[
        Param("amplitude", "float", 8.0, 0.0, 500.0, "px", "Largest displacement."),
        Param("wavelength", "float", 80.0, 2.0, 5000.0, "px", "Distance between crests."),
        Param(
            "direction",
            "choice",
            "horizontal",
            choices=("horizontal", "vertical", "both"),
            description="Horizontal shifts rows sideways; vertical shifts columns up and down.",
        ),
        Param("phase", "float", 0.0, -360.0, 360.0, "deg", "Shift of the wave along its length."),
    ],
)
def wave(
    image: np.ndarray,
    *,
    amplitude: float = 8.0,
    wavelength: float = 80.0,
    direction: str = "horizontal",
    phase: float = 0.0,
) -> np.ndarray:
    """Sine-wave displacement: row ``y`` samples ``x + amplitude * sin(2 pi y / wavelength + phase)``.

    Examples
    --------
    >>> img = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    >>> bool((wave(img, amplitude=0.0) == img).all())
    True
    """
    if amplitude == 0:
        return image.copy()
    k, ph = 2 * math.pi / wavelength, math.radians(phase)

    def make_map(xs, ys):
        dx = amplitude * np.sin(k * ys + ph) if direction in ("horizontal", "both") else 0
        dy = amplitude * np.sin(k * xs + ph) if direction in ("vertical", "both") else 0
        return xs + dx, ys + dy

    return _remap(image, ("wave", amplitude, wavelength, direction, phase), make_map)


@register(
    "ripple",
    category="distortion",
    alpha="moved",
    identity={"amplitude": 0.0},
    params=[
        Param("amplitude", "float", 6.0, 0.0, 500.0, "px", "Largest radial displacement."),
        Param("wavelength", "float", 40.0, 2.0, 5000.0, "px", "Distance between rings."),
        Param("center_x", "float", 0.5, 0.0, 1.0, "fraction", "Centre, as a fraction of the width."),
        Param("center_y", "float", 0.5, 0.0, 1.0, "fraction", "Centre, as a fraction of the height."),
        Param("phase", "float", 0.0, -360.0, 360.0, "deg", "Shift of the rings outwards."),
    ],
)
def ripple(
    image: np.ndarray,
    *,
    amplitude: float = 6.0,
    wavelength: float = 40.0,
    center_x: float = 0.5,
    center_y: float = 0.5,
    phase: float = 0.0,
) -> np.ndarray:
    """Concentric ripples: each pixel samples ``amplitude * sin(2 pi r / wavelength + phase)`` further out.

    Examples
    --------
    >>> img = np.arange(75, dtype=np.uint8).reshape(5, 5, 3)
    >>> ripple(img, amplitude=2.0, wavelength=8.0)[2, 2].tolist() == img[2, 2].tolist()
    True
    """
    if amplitude == 0:
        return image.copy()
    h, w = image.shape[:2]
    cx, cy = center_x * (w - 1), center_y * (h - 1)
    k, ph = 2 * math.pi / wavelength, math.radians(phase)

    def make_map(xs, ys):
        dx, dy = xs - cx, ys - cy
        r = np.sqrt(dx * dx + dy * dy)
        shift = amplitude * np.sin(k * r + ph) / np.maximum(r, 1e-6)
        shift[r < 1e-6] = 0
        return xs + dx * shift, ys + dy * shift

    return _remap(image, ("ripple", amplitude, wavelength, cx, cy, phase), make_map)


@register(
    "swirl",
    category="distortion",
    alpha="moved",
    identity={"strength": 0.0},
    params=[
        Param("strength", "float", 3.0, -20.0, 20.0, "rad", "Twist at the centre (radians)."),
        Param(
            "radius",
            "float",
            0.5,
            0.01,
            2.0,
            "fraction",
            "Extent of the swirl, as a fraction of the shorter side.",
        ),
        Param("center_x", "float", 0.5, 0.0, 1.0, "fraction", "Centre, as a fraction of the width."),
        Param("center_y", "float", 0.5, 0.0, 1.0, "fraction", "Centre, as a fraction of the height."),
    ],
)
def swirl(
    image: np.ndarray,
    *,
    strength: float = 3.0,
    radius: float = 0.5,
    center_x: float = 0.5,
    center_y: float = 0.5,
) -> np.ndarray:
    """Swirl about a centre, as ``skimage.transform.swirl``: twist ``strength * exp(-r / (radius ln2 / 5))``.

    Examples
    --------
    >>> img = np.arange(75, dtype=np.uint8).reshape(5, 5, 3)
    >>> swirl(img, strength=5.0)[2, 2].tolist() == img[2, 2].tolist()
    True
    """
    if strength == 0:
        return image.copy()
    h, w = image.shape[:2]
    cx, cy = center_x * (w - 1), center_y * (h - 1)
    decay = radius * min(h, w) / 5 * math.log(2)

    def make_map(xs, ys):
        dx, dy = xs - cx, ys - cy
        rho = np.sqrt(dx * dx + dy * dy)
        theta = strength * np.exp(-rho / decay) + np.arctan2(dy, dx)
        return cx + rho * np.cos(theta), cy + rho * np.sin(theta)

    return _remap(image, ("swirl", strength, decay, cx, cy), make_map)


_FULL = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


def perspective_matrix(points: list, width: int, height: int) -> np.ndarray:
    """The 3x3 homography taking the four ``points`` (fractions of the size) to the image's corners.

    Examples
    --------
    >>> perspective_matrix([[0, 0], [1, 0], [1, 1], [0, 1]], 10, 10).round(6).tolist()[0]
    [1.0, 0.0, 0.0]
    """
    scale = np.array([width - 1, height - 1], np.float32)
    src = np.asarray(points, np.float32) * scale
    dst = np.asarray(_FULL, np.float32) * scale
    return cv2.getPerspectiveTransform(src, dst)


@register(
    "perspective",
    category="distortion",
    alpha="moved",
    identity={"points": _FULL},
    params=[
        Param(
            "points",
            "quad",
            _FULL,
            -1.0,
            2.0,
            "fraction",
            "Corners of the region to straighten (top-left, top-right, bottom-right, bottom-left), "
            "as fractions of width and height.",
        )
    ],
)
def perspective(image: np.ndarray, *, points: list = _FULL) -> np.ndarray:
    """Perspective correction: the quadrilateral ``points`` is stretched onto the whole image.

    Examples
    --------
    >>> img = np.zeros((11, 11, 3), np.uint8); img[5:, :] = 200
    >>> int(perspective(img, points=[[0, 0.5], [1, 0.5], [1, 1], [0, 1]])[0, 0, 0])
    200
    """
    if points == _FULL:
        return image.copy()
    h, w = image.shape[:2]
    matrix = perspective_matrix(points, w, h)
    return warp_rgba(
        image,
        lambda a: cv2.warpPerspective(
            a, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ),
    )


__all__ = ["wave", "ripple", "swirl", "perspective", "perspective_matrix"]
