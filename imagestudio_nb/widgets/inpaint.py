"""Geometry for editing a layer inside a mask layer: the mask, painted in canvas coordinates, brought into
the layer's own pixels; and the placement of an edit result over the layer it replaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np


def edit_mask(project, layer: Mapping[str, Any], mask_layer: Mapping[str, Any]) -> np.ndarray:
    """Boolean mask (True = edit here) of ``mask_layer``'s strokes, in ``layer``'s source pixels."""
    from ..imaging.compositing import normalise_transform, transform_matrix
    from ..imaging.strokes import mask_from_strokes

    width, height = project.canvas_size
    matte = mask_from_strokes(mask_layer.get("strokes") or [], height, width)
    info = project.assets.info(layer["asset"])
    t = normalise_transform(layer.get("transform"))
    x0, y0 = 0, 0
    w, h = info.width, info.height
    if t["crop"] is not None:
        x0, y0 = max(0, int(round(t["crop"][0]))), max(0, int(round(t["crop"][1])))
        w, h = min(info.width - x0, int(round(t["crop"][2]))), min(info.height - y0, int(round(t["crop"][3])))
    m = np.vstack([transform_matrix(t, w, h), [0, 0, 1]]) @ np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]])
    # Source pixel (i, j) covers [i, i+1); sample the canvas matte at pixel centres.
    half_on = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    half_back = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
    warp = half_back @ m @ half_on
    source = cv2.warpAffine(matte, warp[:2], (info.width, info.height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return source > 0.5


def placement_over(layer: Mapping[str, Any], source_shape: tuple, result_shape: tuple) -> dict[str, Any]:
    """A transform that puts a result of ``result_shape`` exactly over ``layer`` (uncropped) on the canvas."""
    from ..imaging.compositing import normalise_transform

    t = normalise_transform(layer.get("transform"))
    sh, sw = source_shape[:2]
    rh, rw = result_shape[:2]
    return {"x": t["x"], "y": t["y"], "scale_x": t["scale_x"] * sw / rw, "scale_y": t["scale_y"] * sh / rh,
            "rotation": t["rotation"], "crop": None}
