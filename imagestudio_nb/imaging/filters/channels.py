"""Alpha-aware plumbing shared by the filters: split and rejoin alpha, weighted blurs, premultiplied warps.

Filters that only change colour work on the RGB planes and get alpha back untouched; filters that
mix neighbouring pixels weight them by alpha, so transparent pixels (whose colour is invisible and
often black) never bleed into the edges of a cut-out. Nothing here decides what a filter does.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Round float values to uint8, saturating at 0 and 255 (with OpenCV: numpy's clip is far slower here).

    Examples
    --------
    >>> to_uint8(np.array([[[-3.0, 1.6, 300.0]]], np.float32)).tolist()
    [[[0, 2, 255]]]
    """
    values = np.asarray(values, np.float32)
    clipped = cv2.threshold(values, 0, 0, cv2.THRESH_TOZERO)[1]  # negatives to 0; convertScaleAbs rounds
    return cv2.convertScaleAbs(clipped).reshape(values.shape)


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``(rgb, alpha)``: a contiguous RGB array and the alpha plane (``None`` for RGB input).

    Examples
    --------
    >>> rgb, alpha = split_alpha(np.zeros((2, 2, 4), np.uint8))
    >>> rgb.shape, alpha.shape
    ((2, 2, 3), (2, 2))
    """
    if image.shape[2] == 3:
        return np.ascontiguousarray(image), None
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGBA2RGB), cv2.extractChannel(image, 3)


def join_alpha(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Put ``alpha`` back beside ``rgb`` (returns ``rgb`` itself when ``alpha`` is ``None``)."""
    if alpha is None:
        return rgb
    out = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2RGBA)
    cv2.insertChannel(alpha, out, 3)
    return out


def is_opaque(alpha: np.ndarray | None) -> bool:
    """True when there is no alpha or every pixel is fully opaque."""
    return alpha is None or bool(cv2.minMaxLoc(alpha)[0] == 255)


def alpha_weighted(
    operation: Callable[[np.ndarray], np.ndarray], rgb: np.ndarray, alpha: np.ndarray | None
) -> np.ndarray:
    """Apply a linear neighbourhood ``operation`` (a blur) to ``rgb`` weighting each pixel by alpha.

    ``operation`` maps a float32 array (H, W, C) to one of the same shape. With opaque alpha this is
    ``operation(rgb)``; otherwise colour is averaged as premultiplied colour divided by the averaged
    alpha (normalised convolution), so a cut-out's edge keeps its own colour.
    """
    if is_opaque(alpha):
        return operation(rgb)
    a = alpha.astype(np.float32) * (1 / 255)
    premult = np.dstack([rgb.astype(np.float32) * a[..., None], a])
    blurred = operation(premult)
    weight = blurred[..., 3:]
    colour = blurred[..., :3] / np.maximum(weight, 1e-6)
    # Where no opaque pixel contributes, keep the original (invisible) colour.
    colour = np.where(weight > 1e-6, colour, rgb.astype(np.float32))
    return to_uint8(colour)


def warp_rgba(image: np.ndarray, warp: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply a geometric ``warp`` (array -> array of the same size) to colour and alpha alike.

    RGB images are warped directly. RGBA images with partial transparency are warped premultiplied
    and divided back, so colour from transparent pixels does not darken the moved edges.
    """
    if image.shape[2] == 3 or is_opaque(cv2.extractChannel(image, 3)):
        return warp(np.ascontiguousarray(image))
    a = image[..., 3:].astype(np.float32) * (1 / 255)
    premult = np.dstack([image[..., :3].astype(np.float32) * a, a * 255])
    moved = warp(premult)
    alpha = moved[..., 3:]
    colour = moved[..., :3] * 255 / np.maximum(alpha, 1e-3)
    out = np.dstack([np.where(alpha > 1e-3, colour, 0), alpha])
    return to_uint8(out)
