"""Edit masks from a canvas mask layer: the strokes a person painted become the area an edit may change.

A mask layer holds ``mask_add``/``mask_remove`` (or ``keep``/``remove``) strokes in canvas pixels. This module
rasterises them with the reference rasteriser and scales the result to the image being edited; the
generation layer then turns it into the PNG alpha mask the OpenAI images API expects (transparent = edit).
It knows nothing of projects or files: it is handed the layer's plain data.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from ..errors import InvalidArgumentError
from ..imaging.strokes import mask_from_strokes


def mask_from_layer(layer: Mapping, *, canvas_size: tuple[int, int], size: tuple[int, int] | None = None,
                    threshold: float = 0.5) -> np.ndarray:
    """The edit area of a canvas mask layer as a boolean array (True = edit here).

    Parameters
    ----------
    layer : mapping
        A layer's plain data (``project.layer(id)``) with ``strokes``; a paint or mask layer.
    canvas_size : (width, height)
        The canvas the strokes were drawn on (``project.canvas_size``).
    size : (width, height), optional
        The image being edited; the matte is scaled to it (the image is taken to cover the canvas).
    threshold : float
        Coverage above which a pixel counts as painted (soft brush edges are partly covered).

    Raises
    ------
    InvalidArgumentError
        When the layer has no mask strokes.

    Examples
    --------
    >>> layer = {"kind": "mask", "strokes": [{"tool": "mask_add", "size": 4, "points": [0, 2, 7, 2]}]}
    >>> area = mask_from_layer(layer, canvas_size=(8, 8), size=(4, 4))
    >>> area.shape, bool(area[1, 1]), bool(area[3, 1])
    ((4, 4), True, False)
    """
    strokes = list(layer.get("strokes") or [])
    if not strokes:
        raise InvalidArgumentError(f"layer {layer.get('name', layer.get('id', ''))!r} has no mask strokes; paint the "
                                   "area to edit with the mask brush first")
    width, height = canvas_size
    matte = mask_from_strokes(strokes, height, width)
    if size is not None and tuple(size) != (width, height):
        matte = cv2.resize(matte, tuple(size), interpolation=cv2.INTER_AREA)
    return matte > threshold
