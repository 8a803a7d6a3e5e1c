"""Selections and outpainting geometry as masks: rectangle, lasso, magic wand, box-to-object (GrabCut), subject
(the segmentation model), feathering, and extending a canvas for outpainting with the mask an edit needs, then cropping the result back.

Masks are boolean (or float 0-1 when feathered) arrays, True = selected / to be painted; ``generation.edit``
turns them into the API's alpha mask. Pure numpy/OpenCV: no files, no network, nothing of Jupyter.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..errors import InvalidArgumentError


def rectangle_mask(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """A (height, width) mask with ``box`` = (x0, y0, x1, y1) selected (x1, y1 exclusive, clipped to the image).

    Examples
    --------
    >>> int(rectangle_mask((4, 6), (1, 1, 3, 5)).sum())
    6
    """
    height, width = shape[:2]
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        raise InvalidArgumentError(f"box must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0; got {box}")
    mask = np.zeros((height, width), bool)
    mask[max(0, y0):min(height, y1), max(0, x0):min(width, x1)] = True
    return mask


def lasso_mask(shape: tuple[int, int], points: Sequence[tuple[float, float]]) -> np.ndarray:
    """A mask of the polygon through ``points`` (x, y), as a lasso draws it.

    Examples
    --------
    >>> int(lasso_mask((10, 10), [(0, 0), (9, 0), (0, 9)]).sum())
    55
    """
    if len(points) < 3:
        raise InvalidArgumentError("a lasso needs at least 3 points")
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(points, np.float64)).astype(np.int32)], 1)
    return mask.astype(bool)


def magic_wand(image: np.ndarray, seed: tuple[int, int], *, tolerance: int = 16) -> np.ndarray:
    """The connected region around ``seed`` (x, y) whose colour is within ``tolerance`` of the seed's (flood fill).

    Examples
    --------
    >>> picture = np.zeros((8, 8, 3), np.uint8); picture[:, 4:] = 200
    >>> int(magic_wand(picture, (1, 1)).sum()), int(magic_wand(picture, (6, 1)).sum())
    (32, 32)
    """
    rgb = np.ascontiguousarray(image[..., :3])
    height, width = rgb.shape[:2]
    x, y = seed
    if not (0 <= x < width and 0 <= y < height):
        raise InvalidArgumentError(f"seed {seed} is outside the {width}x{height} image")
    if not 0 <= tolerance <= 255:
        raise InvalidArgumentError(f"tolerance must be from 0 to 255; got {tolerance}")
    flood = np.zeros((height + 2, width + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    cv2.floodFill(rgb.copy(), flood, (int(x), int(y)), (0, 0, 0), (tolerance,) * 3, (tolerance,) * 3, flags)
    return flood[1:-1, 1:-1].astype(bool)


def box_to_object(image: np.ndarray, box: tuple[int, int, int, int], *, iterations: int = 5) -> np.ndarray:
    """The object inside ``box`` = (x0, y0, x1, y1): GrabCut separates it from the background around it.

    Examples
    --------
    >>> picture = np.full((80, 80, 3), 230, np.uint8); picture[20:60, 25:55] = (40, 90, 200)
    >>> selected = box_to_object(picture, (10, 10, 70, 70))
    >>> bool(selected[40, 40]), bool(selected[15, 15]), int(selected.sum())
    (True, False, 1200)
    """
    rgb = np.ascontiguousarray(image[..., :3])
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(width, box[2]), min(height, box[3])
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise InvalidArgumentError(f"box {box} is empty inside the {width}x{height} image")
    labels = np.zeros((height, width), np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut's colour models start from k-means: fixed seed, repeatable selections
    cv2.grabCut(rgb, labels, (x0, y0, x1 - x0, y1 - y0), background, foreground, iterations, cv2.GC_INIT_WITH_RECT)
    return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)


def subject_mask(image: np.ndarray, *, threshold: float = 0.5, method: str = "auto") -> np.ndarray:
    """The main subject, from the background-removal matte (the segmentation model, or its classical fallback).

    Examples
    --------
    >>> picture = np.full((96, 96, 3), 245, np.uint8); picture[24:72, 30:66] = (200, 40, 40)
    >>> area = subject_mask(picture, method="classical")
    >>> bool(area[48, 48]), bool(area[5, 5])
    (True, False)
    """
    from .background.removal import remove_background

    return remove_background(image, method=method).matte > threshold


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Soften a mask's edge over about ``radius`` pixels; returns float32 coverage in 0..1.

    Examples
    --------
    >>> soft = feather(rectangle_mask((32, 32), (8, 8, 24, 24)), 3)
    >>> float(soft[16, 16]) > 0.99, 0.2 < float(soft[16, 8]) < 0.8, float(soft[0, 0]) < 0.01
    (True, True, True)
    """
    coverage = np.asarray(mask, np.float32)
    if radius <= 0:
        return coverage
    return cv2.GaussianBlur(coverage, (0, 0), sigmaX=radius / 2, borderType=cv2.BORDER_REPLICATE)


def extend_canvas(image: np.ndarray, *, left: int = 0, top: int = 0, right: int = 0, bottom: int = 0,
                  overlap: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Outpainting: the image on a larger transparent canvas, and the mask of the new area (True = paint here).

    ``overlap`` also selects that many pixels of the original along each extended side, so the model can blend
    the seam.

    Examples
    --------
    >>> canvas, area = extend_canvas(np.full((4, 4, 3), 9, np.uint8), right=2)
    >>> canvas.shape, int(area.sum()), int(canvas[0, 5, 3])
    ((4, 6, 4), 8, 0)
    """
    if min(left, top, right, bottom, overlap) < 0 or left + top + right + bottom == 0:
        raise InvalidArgumentError("extend by a positive number of pixels on at least one side")
    height, width = image.shape[:2]
    rgba = image if image.shape[2] == 4 else np.dstack([image, np.full((height, width), 255, image.dtype)])
    canvas = np.zeros((height + top + bottom, width + left + right, 4), np.uint8)
    canvas[top:top + height, left:left + width] = rgba
    area = np.ones(canvas.shape[:2], bool)
    keep = area[top:top + height, left:left + width]
    keep[:] = False
    for extended, rows, cols in ((left, slice(None), slice(0, overlap)), (right, slice(None), slice(width - overlap, width)),
                                 (top, slice(0, overlap), slice(None)), (bottom, slice(height - overlap, height),
                                                                         slice(None))):
        if extended and overlap:
            keep[rows, cols] = True
    return canvas, area


def composite_back(original: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Put ``generated`` (any size) over ``original``'s canvas where ``mask`` (same size as original, bool or 0-1)
    says, at the original's resolution: untouched pixels stay exactly the original's.

    Examples
    --------
    >>> base = np.zeros((4, 4, 3), np.uint8); new = np.full((8, 8, 3), 200, np.uint8)
    >>> out = composite_back(base, new, rectangle_mask((4, 4), (0, 0, 2, 4)))
    >>> int(out[0, 0, 0]), int(out[0, 3, 0])
    (200, 0)
    """
    height, width = original.shape[:2]
    if generated.shape[:2] != (height, width):
        generated = cv2.resize(generated, (width, height), interpolation=cv2.INTER_AREA)
    channels = original.shape[2]
    if generated.shape[2] != channels:
        generated = generated[..., :3] if channels == 3 else np.dstack(
            [generated[..., :3], np.full((height, width), 255, np.uint8)])
    weight = np.asarray(mask, np.float32)[..., None]
    blended = generated.astype(np.float32) * weight + original.astype(np.float32) * (1 - weight)
    return np.where(weight == 0, original, np.round(blended).astype(np.uint8))
