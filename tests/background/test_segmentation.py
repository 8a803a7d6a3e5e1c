"""Segmentation: the embedded U2-Net-p, user ONNX models under the same contract, and method selection."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from imagestudio_nb.errors import InvalidArgumentError, NotFoundError, UnsupportedParameterError
from imagestudio_nb.imaging.background import remove_background, segmentation


def test_u2netp_is_located_in_the_wheel_without_importing_rembg():
    path = segmentation.u2netp_model_path()
    assert path.name == "u2netp.onnx" and path.stat().st_size > 4_000_000
    assert "rembg" not in sys.modules


def test_inference_session_is_cached_and_uses_bounded_threads():
    path = segmentation.u2netp_model_path()
    first = segmentation.get_session(path)
    assert segmentation.get_session(str(path)) is first
    assert 1 <= segmentation._threads() <= 4
    options = first.get_session_options()
    assert options.intra_op_num_threads == segmentation._threads()
    # idle workers sleep instead of spinning against the post-processing and other processes
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.parametrize("kind", ["bottle", "box", "mug"])
@pytest.mark.parametrize("background", ["white", "gradient", "solid"])
def test_u2netp_cuts_out_opaque_products_on_studio_backgrounds(scene, iou, kind, background):
    image, alpha = scene(kind, background)
    result = remove_background(image, method="u2netp")
    assert result.method.startswith("u2netp")
    assert iou(result.matte, alpha) > 0.95
    assert np.abs(result.matte - alpha).mean() < 0.03


def test_mug_handle_hole_shows_the_background(scene):
    image, alpha = scene("mug", "white")
    matte = remove_background(image).matte
    h, w = alpha.shape
    hole = (h // 2, w // 2 + 37)  # inside the handle ring, right of the body
    assert alpha[hole] == 0 and matte[hole] < 0.5


def test_result_image_is_rgba_cutout_with_matte_as_alpha(scene):
    image, _ = scene("bottle", "white")
    result = remove_background(image)
    assert result.image.dtype == np.uint8 and result.image.shape == (*image.shape[:2], 4)
    assert result.matte.dtype == np.float32 and 0 <= result.matte.min() and result.matte.max() <= 1
    assert np.array_equal(result.image[..., 3], result.matte_uint8)
    interior = result.matte > 0.999
    assert np.array_equal(result.image[..., :3][interior], image[interior])  # opaque colours untouched


def test_input_alpha_multiplies_the_matte(scene):
    image, _ = scene("box", "white")
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    rgba[:, : image.shape[1] // 2, 3] = 0
    matte = remove_background(rgba).matte
    assert matte[:, : image.shape[1] // 2].max() == 0
    assert matte.max() > 0.9


def test_input_is_not_mutated(scene):
    image, _ = scene("bottle", "gradient")
    before = image.copy()
    remove_background(image, strokes=[{"tool": "remove", "size": 20, "points": [80, 96]}])
    assert np.array_equal(image, before)


def test_user_onnx_model_runs_at_its_declared_input_size(tiny_onnx_model, scene, iou):
    path = tiny_onnx_model(height=64, width=48)
    session = segmentation.get_session(path)
    assert segmentation.model_input_size(session) == (64, 48)
    image, alpha = scene("box", "white", colour=(20, 20, 20))
    result = remove_background(image, method="onnx", model_path=path, normalization="none", refine=None,
                               studio_fusion=False)
    assert result.method == "onnx" and result.params["model_path"] == str(path)
    # dark object -> positive logits -> sigmoid -> min-max: the box comes out as foreground
    assert iou(result.matte, alpha) > 0.85
    assert result.matte.min() < 0.01 and result.matte.max() > 0.99


def test_user_onnx_model_normalisation_is_applied(tiny_onnx_model, scene):
    path = tiny_onnx_model()
    image, _ = scene("box", "white", colour=(20, 20, 20))
    plain = segmentation.predict_matte(image, model_path=path, normalization="none")
    shifted = segmentation.predict_matte(image, model_path=path, normalization=((0.4, 0.4, 0.4), (1, 1, 1)))
    # subtracting 0.4 moves the background (x = 1) to 0.6: still above 0.5, but nearer the object's logit
    assert not np.allclose(plain, shifted)
    with pytest.raises(UnsupportedParameterError, match="imagenet"):
        segmentation.predict_matte(image, model_path=path, normalization="bogus")


def test_dynamic_model_uses_the_given_input_size(tiny_onnx_model, scene, monkeypatch):
    path = tiny_onnx_model(dynamic=True, name="dynamic.onnx")
    session = segmentation.get_session(path)
    assert segmentation.model_input_size(session, default=96) == (96, 96)
    seen = []
    real = segmentation.prepare_input
    monkeypatch.setattr(segmentation, "prepare_input", lambda rgb, size, m, s: seen.append(size) or real(rgb, size, m, s))
    image, _ = scene("box", "white")
    remove_background(image, model_path=path, input_size=96, refine=None)
    assert seen == [(96, 96)]


def test_u2netp_path_works_as_a_user_model(scene, iou):
    image, alpha = scene("bottle", "white")
    result = remove_background(image, method="onnx", model_path=segmentation.u2netp_model_path())
    assert result.method.startswith("onnx") and iou(result.matte, alpha) > 0.95


def test_bad_methods_and_model_paths_are_refused(scene, tmp_path):
    image, _ = scene()
    with pytest.raises(UnsupportedParameterError, match="u2netp"):
        remove_background(image, method="magic")
    with pytest.raises(InvalidArgumentError, match="model_path"):
        remove_background(image, method="onnx")
    with pytest.raises(NotFoundError, match="does not exist"):
        remove_background(image, model_path=tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(InvalidArgumentError, match="not a loadable ONNX model"):
        remove_background(image, model_path=junk)
    with pytest.raises(UnsupportedParameterError, match="guided"):
        remove_background(image, refine="sharp")
    with pytest.raises(InvalidArgumentError, match="uint8"):
        remove_background(image.astype(np.float32))


def test_auto_falls_back_to_classical_without_onnxruntime(scene, iou, monkeypatch):
    monkeypatch.setattr(segmentation, "onnxruntime_available", lambda: False)
    image, alpha = scene("bottle", "gradient")
    result = remove_background(image)
    assert result.method == "classical"
    assert iou(result.matte, alpha) > 0.9
