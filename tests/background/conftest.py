"""Synthetic product-like scenes with known alpha for the background-removal tests."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

SS = 4


def _down(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(mask.astype(np.float32) / 255, size, interpolation=cv2.INTER_AREA)


def draw_object(kind: str, h: int, w: int) -> np.ndarray:
    """Exact (supersampled) coverage of a bottle, box or mug (with a handle hole), centred."""
    m = np.zeros((h * SS, w * SS), np.uint8)
    s = SS
    cx, cy = w * s // 2, h * s // 2
    if kind == "bottle":
        cv2.rectangle(m, (cx - 18 * s, cy - 20 * s), (cx + 18 * s, cy + 44 * s), 255, -1)
        cv2.ellipse(m, (cx, cy - 20 * s), (18 * s, 10 * s), 0, 0, 360, 255, -1)
        cv2.rectangle(m, (cx - 6 * s, cy - 48 * s), (cx + 6 * s, cy - 20 * s), 255, -1)
    elif kind == "box":
        pts = np.array([[cx - 30, cy - 30], [cx + 20, cy - 30], [cx + 34, cy - 42], [cx + 34, cy + 30],
                        [cx + 20, cy + 42], [cx - 30, cy + 42]]) * 1
        pts = (pts - [cx, cy]) * s + [cx, cy]
        cv2.fillPoly(m, [pts.astype(np.int32)], 255)
    elif kind == "mug":
        cv2.ellipse(m, (cx + 30 * s, cy), (22 * s, 26 * s), 0, 0, 360, 255, -1)
        cv2.ellipse(m, (cx + 30 * s, cy), (12 * s, 15 * s), 0, 0, 360, 0, -1)
        cv2.rectangle(m, (cx - 34 * s, cy - 36 * s), (cx + 30 * s, cy + 38 * s), 255, -1)
    else:
        raise ValueError(kind)
    return _down(m, (w, h))


def make_scene(kind: str = "bottle", background: str = "white", size: tuple[int, int] = (192, 160),
               colour=(30, 70, 160), seed: int = 0):
    """Return (uint8 RGB image, float32 alpha) of an opaque shaded object on a background."""
    h, w = size
    rng = np.random.default_rng(seed)
    alpha = draw_object(kind, h, w)
    xs = np.linspace(0, np.pi, w, dtype=np.float32)
    shade = (0.65 + 0.35 * np.sin(xs))[None, :, None]
    fg = np.asarray(colour, np.float32) * shade * np.ones((h, 1, 1), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if background == "white":
        bg = np.full((h, w, 3), 250, np.float32)
    elif background == "gradient":
        t = (yy / h)[..., None]
        bg = np.array([235, 225, 210], np.float32) * (1 - t) + np.array([170, 180, 200], np.float32) * t
    elif background == "solid":
        bg = np.broadcast_to(np.array([210, 190, 80], np.float32), (h, w, 3))
    else:
        raise ValueError(background)
    a = alpha[..., None]
    img = fg * a + bg * (1 - a) + rng.normal(0, 1.0, (h, w, 3))
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), alpha


def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    p, g = pred > 0.5, gt > 0.5
    return float((p & g).sum() / max(1, (p | g).sum()))


@pytest.fixture
def scene():
    return make_scene


@pytest.fixture
def tiny_onnx_model(tmp_path):
    """Write a tiny ONNX "segmentation model": logits = 12 * (0.5 - mean over channels), fixed 64x48 input."""
    return lambda **kw: build_tiny_model(tmp_path, **kw)


def build_tiny_model(folder, *, height=64, width=48, dynamic=False, name="tiny.onnx"):
    import onnx
    from onnx import TensorProto, helper

    dims_in = [1, 3, "H", "W"] if dynamic else [1, 3, height, width]
    dims_out = [1, 1, "H", "W"] if dynamic else [1, 1, height, width]
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, dims_in)
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, dims_out)
    half = helper.make_tensor("half", TensorProto.FLOAT, [], [0.5])
    gain = helper.make_tensor("gain", TensorProto.FLOAT, [], [12.0])
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["half", "mean"], ["centred"]),
        helper.make_node("Mul", ["centred", "gain"], ["logits"]),
    ]
    graph = helper.make_graph(nodes, "tiny", [x], [y], initializer=[half, gain])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = folder / name
    onnx.save(model, str(path))
    return path


@pytest.fixture(name="iou")
def iou_fixture():
    return iou
