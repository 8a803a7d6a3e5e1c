"""``remove_background``: one call from an RGB(A) image to a cut-out and its soft alpha matte.

The automatic matte comes from a segmentation model (or the classical fallback), is refined at the
edges, and then the user's keep/remove strokes are applied on top, so a result is reproducible from
data: the image, the parameters and the strokes. Nothing here touches files or Jupyter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from ...errors import InvalidArgumentError, UnsupportedParameterError
from ..codec import check_image_array
from ..strokes import mask_from_strokes
from . import classical, refine as refine_mod, segmentation

#: Values of ``method``.
METHODS = ("auto", "u2netp", "classical", "onnx")
#: Values of ``refine``.
REFINES = ("guided", "matting", None)
#: Stroke tools that ``remove_background`` accepts.
STROKE_TOOLS = ("keep", "remove")


@dataclass(frozen=True, eq=False)
class BackgroundResult:
    """The outcome of :func:`remove_background`.

    Attributes
    ----------
    image : numpy.ndarray
        uint8 (H, W, 4) RGBA cut-out: colours with background bleed removed at soft edges, alpha = matte.
    matte : numpy.ndarray
        float32 (H, W) alpha in [0, 1] after refinement and strokes (``matte_uint8`` gives 0..255).
    auto_matte : numpy.ndarray
        float32 (H, W) alpha before the strokes were applied.
    source : numpy.ndarray
        The input's uint8 RGB pixels (used e.g. to blur the original background on replacement).
    method : str
        The method that actually ran (``"u2netp"``, ``"u2netp+border"``, ``"classical"``, ``"onnx"``).
    params : dict
        Everything needed to reproduce the result from the source image (method, refine, model, strokes).
    """

    image: np.ndarray
    matte: np.ndarray
    auto_matte: np.ndarray
    source: np.ndarray
    method: str
    params: dict = field(default_factory=dict)

    @property
    def matte_uint8(self) -> np.ndarray:
        """The matte as uint8 0..255."""
        return np.clip(self.matte * 255 + 0.5, 0, 255).astype(np.uint8)


def _check_strokes(strokes) -> list[dict]:
    if strokes is None:
        return []
    if isinstance(strokes, Mapping) or not isinstance(strokes, Sequence):
        raise InvalidArgumentError("strokes must be a list of stroke dicts {'tool': 'keep'|'remove', ...}")
    checked = []
    for stroke in strokes:
        if not isinstance(stroke, Mapping):
            raise InvalidArgumentError(f"each stroke must be a dict; got {type(stroke).__name__}")
        tool = stroke.get("tool")
        if tool not in STROKE_TOOLS:
            raise UnsupportedParameterError("stroke tool", tool, STROKE_TOOLS)
        checked.append(dict(stroke))
    return checked


def _resolve_method(method: str, model_path) -> str:
    if method not in METHODS:
        raise UnsupportedParameterError("method", method, METHODS)
    if method == "onnx" and model_path is None:
        raise InvalidArgumentError("method='onnx' needs model_path, the path of an ONNX segmentation model")
    if method in ("u2netp", "classical") and model_path is not None:
        raise InvalidArgumentError(f"model_path is only used with method='onnx' or 'auto', not {method!r}")
    if method == "auto":
        if not segmentation.onnxruntime_available():
            return "classical"
        return "onnx" if model_path is not None else "u2netp"
    return method


def _studio_fusion(rgb: np.ndarray, matte: np.ndarray) -> tuple[np.ndarray, bool]:
    """On studio-style backgrounds, find see-through parts (glass) that a salient-object model fills in.

    A segmentation network answers "which object", not "how opaque", so it returns glass as solid. Where the
    background is smooth (plain, gradient, sweep), its colour at every pixel is known from the border fit,
    and a region inside the object that looks like that background, is enclosed by the object (so it is not
    an invisible face on the silhouette, e.g. a white box top on white) and is large (a tenth of the object)
    is seen through: its alpha becomes the colour difference to the background relative to the object's
    opaque parts (difference matting). Elsewhere, and on textured or photo backgrounds, the matte is unchanged.
    """
    h, w = matte.shape
    scale = min(1.0, 384 / max(h, w))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    model = classical.border_model(small)
    if not model.studio_like:
        return matte, False
    m = cv2.resize(matte, size, interpolation=cv2.INTER_AREA) if scale < 1 else matte
    inside = m > 0.5
    area = int(inside.sum())
    if area == 0:
        return matte, True
    d = model.surface_distance
    t = model.threshold
    like = inside & (d < max(3 * t, 12.0))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(like.astype(np.uint8), connectivity=8)
    outside = cv2.dilate((~inside).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    touching = set(np.unique(labels[outside & like]).tolist())
    see_through = np.zeros_like(inside)
    for k in range(1, n):
        if stats[k, cv2.CC_STAT_AREA] >= 0.1 * area and k not in touching:
            see_through |= labels == k
    opaque = inside & ~see_through & (d > t)
    reference = float(np.median(d[opaque])) if opaque.any() else 4 * t
    alpha = np.clip(d / max(reference, 1e-3), 0, 1).astype(np.float32)
    # The converse: well inside the object's silhouette (holes filled, edge eroded, so contact shadows
    # beside it are not reached), pixels clearly unlike the background are not half transparent, whatever
    # the network hesitated about (it leaves patches in fur and textured fabric).
    filled = inside.astype(np.uint8)
    contours, _ = cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(filled, contours, -1, 1, -1)
    core = cv2.erode(filled, np.ones((7, 7), np.uint8)) > 0
    firm = core & (d > 3 * t) & ~see_through
    fused_small = np.where(firm, np.maximum(m, alpha), m)
    if see_through.any():
        # Feather the region so its edge follows the image, then lower the matte there only.
        weight = cv2.GaussianBlur(see_through.astype(np.float32), (0, 0), 1.5)
        fused_small = fused_small * (1 - weight) + np.minimum(fused_small, alpha) * weight
    if scale < 1:
        delta = cv2.resize(fused_small - m, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.clip(matte + delta, 0, 1).astype(np.float32), True
    return fused_small.astype(np.float32), True


def remove_background(image: np.ndarray, *, method: str = "auto", model_path: str | os.PathLike | None = None,
                      refine: str | None = "guided", strokes: Sequence[Mapping] | None = None,
                      normalization: str | Sequence = "imagenet", input_size: int | None = None,
                      studio_fusion: bool = True) -> BackgroundResult:
    """Cut the foreground out of an image: an RGBA cut-out and its soft alpha matte.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 RGB or RGBA (H, W, 3|4); an existing alpha channel multiplies the result.
    method : {"auto", "u2netp", "classical", "onnx"}
        ``"u2netp"``: the embedded U2-Net-p model; ``"classical"``: border colour model + GrabCut (no
        model needed); ``"onnx"``: the model at ``model_path``; ``"auto"``: ``"onnx"`` if a model path is
        given, else ``"u2netp"``, falling back to ``"classical"`` when onnxruntime is not installed.
    model_path : path, optional
        A user ONNX model (IS-Net, BiRefNet, ...), run under the same pre/post-processing contract.
    refine : {"guided", "matting", None}
        Edge refinement: a colour guided filter (fast, default), closed-form matting on the uncertain
        band (slower, finer hair and fur), or none.
    strokes : list of dict, optional
        ``{"tool": "keep"|"remove", "size": px, "hardness": 0..1, "opacity": 0..1, "points": [x0, y0, ...]}``
        in image pixels, applied in order on top of the automatic matte.
    normalization : str or (mean, std)
        Input normalisation of a user model: ``"imagenet"`` (default), ``"isnet"``, ``"none"`` or values.
    input_size : int, optional
        Square input size for user models with dynamic input dimensions (default 1024).
    studio_fusion : bool
        Combine the learned matte with the border colour model when the background is studio-style.

    Returns
    -------
    BackgroundResult
        ``.image`` (RGBA uint8), ``.matte`` (float32 0..1), ``.auto_matte``, ``.method``, ``.params``.

    Raises
    ------
    InvalidArgumentError, UnsupportedParameterError
        For a bad image, method, refine value or stroke; ``NotFoundError`` for a missing model file.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((96, 96, 3), 245, np.uint8); img[24:72, 30:66] = (180, 40, 40)
    >>> result = remove_background(img)
    >>> result.image.shape, result.matte.dtype.name
    ((96, 96, 4), 'float32')
    >>> bool(result.matte[48, 48] > 0.9 and result.matte[4, 4] < 0.1)
    True
    >>> kept = remove_background(img, strokes=[{"tool": "keep", "size": 10, "points": [8, 8]}])
    >>> bool(kept.matte[8, 8] > 0.9)
    True
    """
    check_image_array(image)
    if refine not in REFINES:
        raise UnsupportedParameterError("refine", refine, REFINES)
    stroke_list = _check_strokes(strokes)
    used = _resolve_method(method, model_path)
    rgb = np.ascontiguousarray(image[..., :3])
    h, w = rgb.shape[:2]
    fused = False
    if used == "classical":
        coarse = classical.classical_matte(rgb)
    else:
        coarse = segmentation.predict_matte(
            rgb,
            model_path=model_path if used == "onnx" else None,
            normalization=normalization if used == "onnx" else "imagenet",
            input_size=input_size,
        )
        if studio_fusion:
            coarse, fused = _studio_fusion(rgb, coarse)
    if refine == "guided":
        matte = refine_mod.refine_guided(rgb, coarse)
    elif refine == "matting":
        matte = refine_mod.refine_matting(rgb, coarse)
    else:
        matte = coarse.astype(np.float32)
    if image.shape[2] == 4:
        matte = matte * (image[..., 3].astype(np.float32) / 255)
    auto = matte.astype(np.float32)
    final = mask_from_strokes(stroke_list, h, w, base=auto) if stroke_list else auto.copy()
    final = np.clip(final, 0, 1).astype(np.float32)
    colours = refine_mod.estimate_foreground(rgb, final)
    cutout = np.dstack([colours, np.clip(final * 255 + 0.5, 0, 255).astype(np.uint8)])
    params = {
        "method": method,
        "used": used + ("+border" if fused else ""),
        "model_path": None if model_path is None else str(model_path),
        "refine": refine,
        "strokes": stroke_list,
    }
    if used == "onnx":
        params["normalization"] = normalization
        params["input_size"] = input_size
    return BackgroundResult(image=cutout, matte=final, auto_matte=auto, source=rgb.copy(),
                            method=params["used"], params=params)
