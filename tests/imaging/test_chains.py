"""Filter chains: application, fusion of colour steps, validation, hashing, preview rendering."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest

from imagestudio_nb.errors import InvalidArgumentError, UnsupportedParameterError
from imagestudio_nb.imaging import filters as F
from imagestudio_nb.imaging.chains import (
    apply_chain,
    apply_filters,
    canonical_json,
    chain_hash,
    render_preview,
    validate_chain,
)
from imagestudio_nb.imaging.codec import decode_image
from imagestudio_nb.imaging.filters.colour_ops import _plan

FIVE = [
    {"filter": "brightness", "params": {"amount": 0.1}},
    {"filter": "contrast", "params": {"amount": 0.2}},
    {"filter": "saturation", "params": {"amount": 0.3}},
    {"filter": "gaussian_blur", "params": {"sigma": 3}},
    {"filter": "unsharp_mask", "params": {"radius": 2, "amount": 0.5}},
]


def sample(h: int = 64, w: int = 96, seed: int = 5, lo: int = 0, hi: int = 256) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(lo, hi, (h, w, 3), dtype=np.uint8)
    return cv2.GaussianBlur(img, (0, 0), 1.5)


def one_by_one(img: np.ndarray, chain: list) -> np.ndarray:
    for step in chain:
        img = getattr(F, step["filter"])(img, **step.get("params", {}))
    return img


def test_chain_equals_its_filters_applied_one_by_one():
    img = sample(lo=60, hi=190)  # no step clips, so fusion changes nothing but rounding
    diff = np.abs(apply_chain(img, FIVE).astype(int) - one_by_one(img, FIVE))
    assert diff.max() <= 2


def test_colour_steps_fuse_into_one_pass_per_kind():
    def ops(*steps):
        return [F.get_filter(n).colour_op(**F.get_filter(n).validate(p)) for n, p in steps]

    matrix_run = ops(
        ("brightness", {"amount": 0.1}),
        ("contrast", {"amount": 0.2}),
        ("saturation", {"amount": 0.3}),
        ("hue", {"degrees": 20}),
        ("sepia", {"amount": 0.5}),
    )
    assert [kind for kind, _ in _plan(matrix_run)] == ["matrix"]
    curve_run = ops(
        ("exposure", {"stops": 0.5}),
        ("levels", {"gamma": 1.2}),
        ("brightness", {"amount": 0.1}),
        ("temperature", {"amount": 0.3}),
        ("posterize", {"levels": 8}),
    )
    assert [kind for kind, _ in _plan(curve_run)] == ["lut"]
    mixed = ops(("saturation", {"amount": 0.3}), ("exposure", {"stops": 0.5}), ("black_white", {}))
    assert [kind for kind, _ in _plan(mixed)] == ["matrix", "lut", "matrix"]


def test_a_fused_colour_run_clips_once_so_highlights_come_back():
    img = sample()
    chain = [
        {"filter": "brightness", "params": {"amount": 0.5}},
        {"filter": "brightness", "params": {"amount": -0.5}},
    ]
    np.testing.assert_array_equal(apply_chain(img, chain), img)
    clipped_step_by_step = one_by_one(img, chain)
    assert (clipped_step_by_step != img).any()


def test_identity_steps_are_skipped_and_the_result_is_a_new_array():
    img = sample()
    out = apply_chain(img, [{"filter": "gaussian_blur", "params": {"sigma": 0}}, {"filter": "hue"}])
    assert out is not img
    np.testing.assert_array_equal(out, img)
    assert apply_chain(img, []) is not img


def test_chain_keeps_alpha_and_shape():
    rgba = np.dstack([sample(), np.tile(np.arange(96, dtype=np.uint8), (64, 1))])
    out = apply_chain(rgba, FIVE + [{"filter": "vignette"}, {"filter": "sepia"}])
    assert out.shape == rgba.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])


def test_chain_may_be_json_text_or_a_preset_object_and_apply_filters_is_the_same_function():
    img = sample()
    expected = apply_chain(img, FIVE)
    np.testing.assert_array_equal(apply_chain(img, json.dumps(FIVE)), expected)
    np.testing.assert_array_equal(apply_chain(img, {"name": "x", "chain": FIVE}), expected)
    assert apply_filters is apply_chain


def test_validate_fills_defaults_and_accepts_flat_params():
    steps = validate_chain([{"filter": "vignette", "amount": 0.2}])
    assert steps[0]["params"]["amount"] == 0.2 and steps[0]["params"]["feather"] == 0.5


def test_unknown_filter_in_a_chain_names_the_step_and_lists_known_filters():
    with pytest.raises(
        UnsupportedParameterError, match=r"chain step 1: filter='glow'.*gaussian_blur.*vignette"
    ):
        validate_chain([{"filter": "sepia"}, {"filter": "glow"}])


def test_out_of_range_parameter_in_a_chain_names_the_step_and_range():
    with pytest.raises(UnsupportedParameterError, match=r"chain step 0: contrast\.amount=3.*-1\.\.1"):
        apply_chain(sample(), [{"filter": "contrast", "params": {"amount": 3}}])


@pytest.mark.parametrize(
    "chain, message",
    [
        ({"filter": "sepia"}, "list of steps"),
        ([{"params": {}}], "chain step 0 must be an object"),
        (["sepia"], "chain step 0"),
        ("[not json", "not valid JSON"),
    ],
)
def test_malformed_chains_are_refused(chain, message):
    with pytest.raises(InvalidArgumentError, match=message):
        validate_chain(chain)


def test_chain_hash_is_stable_and_ignores_spelling():
    a = [
        {"filter": "contrast", "params": {"amount": 0.2}},
        {"filter": "gaussian_blur", "params": {"sigma": 3}},
    ]
    b = [{"params": {"amount": 0.2}, "filter": "contrast"}, {"filter": "gaussian_blur", "sigma": 3.0}]
    assert chain_hash(a) == chain_hash(b) == chain_hash(json.dumps(a))
    assert len(chain_hash(a)) == 64 and int(chain_hash(a), 16) >= 0
    assert chain_hash(a) != chain_hash(list(reversed(a)))
    assert chain_hash(a) != chain_hash([a[0], {"filter": "gaussian_blur", "params": {"sigma": 3.5}}])
    assert chain_hash([{"filter": "contrast"}]) == chain_hash(
        [{"filter": "contrast", "params": {"amount": 0}}]
    )


def test_chain_hash_is_pinned():
    # Derived assets are keyed by this hash: a change here invalidates every stored rendering.
    text = canonical_json({"version": 1, "chain": [{"filter": "sepia", "params": {"amount": 1.0}}]})
    assert text == '{"chain":[{"filter":"sepia","params":{"amount":1.0}}],"version":1}'
    assert chain_hash([{"filter": "sepia"}]) == hashlib.sha256(text.encode()).hexdigest()


def test_scale_makes_a_small_render_match_the_full_one():
    big = cv2.resize(sample(64, 64), (256, 256), interpolation=cv2.INTER_CUBIC)
    chain = [{"filter": "gaussian_blur", "params": {"sigma": 8}}, {"filter": "vignette"}]
    full_then_small = cv2.resize(apply_chain(big, chain), (64, 64), interpolation=cv2.INTER_AREA).astype(
        float
    )
    small = cv2.resize(big, (64, 64), interpolation=cv2.INTER_AREA)
    scaled = np.abs(apply_chain(small, chain, scale=0.25) - full_then_small).mean()
    unscaled = np.abs(apply_chain(small, chain) - full_then_small).mean()
    assert scaled < 1.0 < unscaled


def test_render_preview_shrinks_first_and_returns_jpeg_bytes():
    big = cv2.resize(sample(64, 96), (960, 640), interpolation=cv2.INTER_CUBIC)
    data = render_preview(big, FIVE, max_side=240)
    assert isinstance(data, bytes) and data[:3] == b"\xff\xd8\xff"
    preview = decode_image(data)
    assert preview.shape == (160, 240, 3)
    small = cv2.resize(big, (240, 160), interpolation=cv2.INTER_AREA)
    expected = apply_chain(small, FIVE, scale=0.25)
    assert np.abs(preview.astype(int) - expected).mean() < 3  # JPEG q85


def test_render_preview_in_png_keeps_alpha():
    rgba = np.dstack([sample(), np.full((64, 96), 77, np.uint8)])
    preview = decode_image(render_preview(rgba, [{"filter": "sepia"}], max_side=48, format="png"))
    assert preview.shape == (32, 48, 4) and (preview[..., 3] == 77).all()


def test_chain_hands_load_asset_to_texture_steps():
    img = sample()
    tile = np.full((8, 8, 3), 255, np.uint8)
    out = apply_chain(
        img,
        [{"filter": "texture_overlay", "params": {"asset": "00ff", "blend": "multiply", "amount": 1.0}}],
        load_asset={"00ff": tile}.__getitem__,
    )
    np.testing.assert_array_equal(out, img)  # multiplying by white changes nothing
