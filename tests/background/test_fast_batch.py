"""The fast paths: guided filter at the uncertain pixels, the early plate gate, batched model calls, the
bounded pipeline and the cut-out encoders."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from imagestudio_nb.errors import InvalidArgumentError, UnsupportedParameterError
from imagestudio_nb.imaging.background import (
    encode_cutout, fit_plate, guided_filter, predict_matte, predict_mattes, refine_guided, remove_background,
    remove_background_batch,
)
from imagestudio_nb.imaging.background.pipeline import run_bounded
from imagestudio_nb.imaging.codec import decode_image, encode_image


def _full_image_guided(rgb, matte):
    """The guided refinement computed over every pixel (the form before the band-only evaluation)."""
    side = max(matte.shape)
    out = np.clip(guided_filter(rgb, matte, radius=max(2, round(side / 80)), eps=1e-4,
                                subsample=max(1, side // 256)), 0, 1)
    out[matte <= 0.02] = 0
    out[matte >= 0.98] = 1
    return out


def test_guided_refinement_at_uncertain_pixels_matches_the_full_image_form(scene):
    image, alpha = scene("mug", "gradient", size=(600, 560))
    coarse = predict_matte(image)
    ours = refine_guided(image, coarse)
    reference = _full_image_guided(image, coarse)
    assert ours.dtype == np.float32 and ours.shape == coarse.shape
    assert float(np.abs(ours - reference).max()) < 0.02  # bilinear sampling by remap vs resize
    certain = (coarse <= 0.02) | (coarse >= 0.98)
    assert np.array_equal(ours[certain], (coarse[certain] >= 0.98).astype(np.float32))


def test_plate_gate_refuses_a_textured_background_before_fitting():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)  # texture everywhere
    alpha = np.zeros((200, 200), np.float32)
    alpha[60:140, 60:140] = 1
    assert not fit_plate(image, alpha).studio_like
    assert fit_plate(image, alpha, require_studio=True) is None
    plain = np.full((200, 200, 3), 230, np.uint8)
    plain[60:140, 60:140] = (40, 60, 150)
    assert fit_plate(plain, alpha, require_studio=True).studio_like  # a studio plate is still fitted


def test_batched_model_calls_give_the_single_call_mattes(scene):
    images = [scene(kind, "white", size=(160, 192))[0] for kind in ("bottle", "box", "mug")]
    batched = predict_mattes(images, batch_size=2)
    for image, matte in zip(images, batched):
        assert np.allclose(matte, predict_matte(image), atol=1e-5)
    report = remove_background_batch(images, progress=False, model_batch=3)
    singles = remove_background_batch(images, progress=False)
    for a, b in zip(report, singles):
        assert np.allclose(a.result.matte, b.result.matte, atol=1e-4)
    with pytest.raises(InvalidArgumentError, match="at least 1"):
        predict_mattes(images, batch_size=0)


def test_coarse_matte_of_the_wrong_shape_is_refused(scene):
    image, _ = scene()
    with pytest.raises(InvalidArgumentError, match="coarse_matte"):
        remove_background(image, coarse_matte=np.zeros((3, 3), np.float32))


def test_pipeline_overlaps_loading_and_storing_and_stays_bounded():
    active = {"load": 0, "store": 0}
    seen = {"overlap": False, "ahead": 0}
    loaded, computed = set(), set()
    lock = threading.Lock()

    def load(k):
        with lock:
            loaded.add(k)
            seen["ahead"] = max(seen["ahead"], len(loaded - computed))
        time.sleep(0.02)
        return k

    def compute(values):
        time.sleep(0.05)
        with lock:
            computed.update(values)
            seen["overlap"] |= active["store"] > 0 or len(loaded - computed) > 0
        return [v if v != 5 else ValueError("item 5 failed") for v in values]

    def store(k, value):
        with lock:
            active["store"] += 1
        time.sleep(0.03)
        with lock:
            active["store"] -= 1
        return value * 2

    results = {}
    run_bounded(12, load, compute, store, done=lambda k, stored, error: results.update({k: (stored, error)}),
                depth=2)
    assert sorted(results) == list(range(12))
    assert str(results[5][1]) == "item 5 failed" and results[4] == (8, None)
    assert seen["overlap"] and seen["ahead"] <= 4  # the group computing plus depth + group loaded ahead


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_cutouts_encode_losslessly(fmt, scene):
    rgba = remove_background(scene("mug", "gradient")[0]).image
    data = encode_cutout(rgba, fmt)
    decoded = decode_image(data)
    visible = rgba[..., 3] > 0  # lossless WebP may change the colour under alpha 0, which nobody sees
    assert np.array_equal(decoded[visible], rgba[visible]) and np.array_equal(decoded[..., 3], rgba[..., 3])
    if fmt == "png":
        assert np.array_equal(decoded, rgba)
    assert len(data) < rgba.nbytes


def test_png_level_trades_size_for_time():
    rng = np.random.default_rng(0)
    rgba = np.zeros((256, 256, 4), np.uint8)
    rgba[64:192, 64:192] = rng.integers(0, 40, (128, 128, 4)) + 100
    rgba[64:192, 64:192, 3] = 255
    assert len(encode_cutout(rgba, png_level=9)) <= len(encode_cutout(rgba, png_level=1)) \
        < len(encode_cutout(rgba, png_level=0))
    assert np.array_equal(decode_image(encode_image(rgba, "png")), decode_image(encode_cutout(rgba)))


def test_encoder_refuses_bad_arguments():
    rgba = np.zeros((4, 4, 4), np.uint8)
    with pytest.raises(UnsupportedParameterError, match="png, webp"):
        encode_cutout(rgba, "jpeg")
    with pytest.raises(InvalidArgumentError, match="0..9"):
        encode_cutout(rgba, png_level=12)
    with pytest.raises(InvalidArgumentError, match="uint8"):
        encode_cutout(rgba.astype(np.float32))


def test_results_are_written_beside_inputs_and_inputs_never_overwritten(tmp_path, scene):
    image = encode_image(scene()[0], "png")
    (tmp_path / "shot.png").write_bytes(image)
    (tmp_path / "other.jpg").write_bytes(encode_image(scene("box")[0], "jpeg"))
    report = remove_background_batch(tmp_path, beside_inputs=True, progress=False)
    assert report.ok and sorted(p.name for p in tmp_path.iterdir()) == [
        "other.cutout.png", "other.jpg", "shot.cutout.png", "shot.png"]
    assert (tmp_path / "shot.png").read_bytes() == image
    again = remove_background_batch(tmp_path, beside_inputs=True, progress=False)  # skips its own outputs
    assert [i.name for i in again] == ["other", "shot"] and again.ok
    # an explicit input named like another input's output is never overwritten
    clash = remove_background_batch([tmp_path / "shot.png", tmp_path / "shot.cutout.png"], beside_inputs=True,
                                    progress=False)
    assert not clash.items[0].ok and "overwrite an input" in clash.items[0].error and clash.items[0].bad_input
    # nor is an input in the --out folder with the output's name
    same = remove_background_batch([tmp_path / "shot.png"], out_dir=tmp_path, progress=False)
    assert not same.ok and (tmp_path / "shot.png").read_bytes() == image
    arrays = remove_background_batch([scene()[0]], beside_inputs=True, progress=False)
    assert "pass out_dir" in arrays.items[0].error


def test_flip_augmentation_runs_where_the_background_is_not_studio_style(scene):
    rng = np.random.default_rng(5)
    textured = np.clip(rng.normal(128, 60, (160, 192, 3)), 0, 255).astype(np.uint8)
    image, alpha = scene("bottle", "white", size=(160, 192))
    busy = np.where(alpha[..., None] > 0.5, image, textured).astype(np.uint8)
    assert remove_background(busy).method == "u2netp"  # off by default
    auto = remove_background(busy, flip_tta=None)
    assert auto.method == "u2netp+flip" and auto.params["flip_tta"] is None
    mirrored = predict_matte(np.ascontiguousarray(busy[:, ::-1]))[:, ::-1]
    expected = refine_guided(busy, (predict_matte(busy) + mirrored) * np.float32(0.5))
    assert np.allclose(auto.auto_matte, expected, atol=1e-5)
    studio = remove_background(image, flip_tta=None)
    assert studio.method == "u2netp+plate"  # the plate fusion decides there; no second model call
    assert remove_background(image, flip_tta=True).method == "u2netp+plate+flip"
    again = remove_background(busy, **{k: v for k, v in auto.params.items() if k != "used"})
    assert np.array_equal(again.matte, auto.matte)


def test_cutout_keeps_no_background_under_full_transparency(scene):
    image, _ = scene("mug", "gradient")
    result = remove_background(image)
    clear = result.image[..., 3] == 0
    assert clear.any() and not result.image[clear][:, :3].any()  # black where nothing shows
    assert np.array_equal(result.source, image)  # the original is still there for replacements
