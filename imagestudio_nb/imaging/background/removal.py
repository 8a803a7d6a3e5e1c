"""``remove_background``: one call from an RGB(A) image to a cut-out and its soft alpha matte.

The automatic matte comes from a segmentation model (or the classical fallback), is refined at the
edges, is fused on studio-style backgrounds with a difference matte against a background plate
(``fusion.studio_matte``), and then the user's keep/remove strokes are applied on top, so a result is
reproducible from data: the image, the parameters and the strokes. Nothing here touches files or Jupyter.
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
from . import classical, fusion, refine as refine_mod, segmentation

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
        uint8 (H, W, 4) RGBA cut-out: colours with background bleed removed at soft edges, black where
        alpha is 0 (the removed background is not kept; ``source`` has it), alpha = matte.
    matte : numpy.ndarray
        float32 (H, W) alpha in [0, 1] after refinement and strokes (``matte_uint8`` gives 0..255).
    auto_matte : numpy.ndarray
        float32 (H, W) alpha before the strokes were applied.
    source : numpy.ndarray
        The input's uint8 RGB pixels (used e.g. to blur the original background on replacement).
    method : str
        The method that actually ran (``"u2netp"``, ``"u2netp+plate"`` when fused with the background plate,
        ``"classical"``, ``"onnx"``, ``"onnx+plate"``).
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


def _network(rgb, used, model_path, normalization, input_size) -> np.ndarray:
    return segmentation.predict_matte(
        rgb,
        model_path=model_path if used == "onnx" else None,
        normalization=normalization if used == "onnx" else "imagenet",
        input_size=input_size,
    )


def _refine(rgb, coarse, refine) -> np.ndarray:
    if refine == "guided":
        return refine_mod.refine_guided(rgb, coarse)
    if refine == "matting":
        return refine_mod.refine_matting(rgb, coarse)
    return coarse.astype(np.float32)


def remove_background(image: np.ndarray, *, method: str = "auto", model_path: str | os.PathLike | None = None,
                      refine: str | None = "guided", strokes: Sequence[Mapping] | None = None,
                      normalization: str | Sequence = "imagenet", input_size: int | None = None,
                      studio_fusion: bool = True, flip_tta: bool | None = False,
                      coarse_matte: np.ndarray | None = None) -> BackgroundResult:
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
        On studio-style backgrounds (plain, gradient, sweep), fuse the model's matte with a difference
        matte against a background plate fitted to the image: single hairs, holes and see-through glass
        get their own alpha. Textured and photo backgrounds are left to the model. Not used by
        ``"classical"``.
    flip_tta : bool or None
        Test-time augmentation: also run the model on the mirror image and average the two mattes (one more
        model call). ``False`` (default): never; ``None``: with the embedded model, where the plate fusion
        found the background not studio-style (photos, textures); ``True``: always. Off by default: it
        helped photo tuning scenes (IoU +0.05) but barely the reported ones (+0.006, real photos -0.025),
        not enough for a second model call on every photo (benchmarks/background/RESULTS.md).
    coarse_matte : numpy.ndarray, optional
        float32 (H, W) matte the model already produced for this image (``predict_mattes`` over a batch);
        the network is not run again. Not used by ``"classical"``.

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
    if used == "classical":
        coarse = classical.classical_matte(rgb)
    elif coarse_matte is not None:
        if getattr(coarse_matte, "shape", None) != (h, w):
            raise InvalidArgumentError(f"coarse_matte must be a float (H, W) = {(h, w)} array")
        coarse = np.asarray(coarse_matte, np.float32)
    else:
        coarse = _network(rgb, used, model_path, normalization, input_size)
    matte = _refine(rgb, coarse, refine)
    fused = False
    if studio_fusion and used != "classical":  # the classical method already works from the border model
        matte, fused = fusion.studio_matte(rgb, coarse, matte)
    # Auto: only for the embedded model (where it was measured), only where the plate gate said "not studio"
    flipped = used != "classical" and (flip_tta is True or (flip_tta is None and used == "u2netp"
                                                            and studio_fusion and not fused))
    if flipped:
        # Test-time augmentation: the mirror image's matte, mirrored back, averaged with the first, for one
        # more model call; on studio backgrounds the plate fusion already decides the edges.
        mirror = _network(np.ascontiguousarray(rgb[:, ::-1]), used, model_path, normalization, input_size)
        coarse = (coarse + mirror[:, ::-1]) * np.float32(0.5)
        matte = _refine(rgb, coarse, refine)
        if flip_tta is True and studio_fusion:
            matte, fused = fusion.studio_matte(rgb, coarse, matte)
    if image.shape[2] == 4:
        matte = matte * (image[..., 3].astype(np.float32) / 255)
    auto = matte.astype(np.float32, copy=False)
    if stroke_list:
        final = np.clip(mask_from_strokes(stroke_list, h, w, base=auto), 0, 1).astype(np.float32)
    else:
        final = np.clip(auto, 0, 1, out=np.empty_like(auto))
    cutout = np.empty((h, w, 4), np.uint8)
    cutout[..., 3] = cv2.convertScaleAbs(final, alpha=255)  # rounds and saturates in one pass
    colours = refine_mod.estimate_foreground(rgb, final)
    # Fully transparent pixels are black: the removed background does not travel inside the cut-out, and
    # flat transparent areas make PNG files several times smaller and faster to write.
    cutout[..., :3] = cv2.bitwise_and(colours, colours, mask=cutout[..., 3])
    params = {
        "method": method,
        "used": used + ("+plate" if fused else "") + ("+flip" if flipped else ""),
        "model_path": None if model_path is None else str(model_path),
        "refine": refine,
        "studio_fusion": bool(studio_fusion),
        "flip_tta": flip_tta,
        "strokes": stroke_list,
    }
    if used == "onnx":
        params["normalization"] = normalization
        params["input_size"] = input_size
    return BackgroundResult(image=cutout, matte=final, auto_matte=auto, source=rgb.copy(),
                            method=params["used"], params=params)
