"""Compositing: W3C blend modes, source-over with alpha, masks, transforms and the layer renderer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage import transform

from imagestudio_nb.errors import InvalidArgumentError, UnsupportedParameterError
from imagestudio_nb.imaging.chains import apply_chain, chain_hash
from imagestudio_nb.imaging.compositing import (
    BLEND_MODES,
    apply_mask,
    blend_colors,
    composite,
    render_layers,
    set_opacity,
    transform_layer,
)
from imagestudio_nb.imaging.strokes import mask_from_strokes, render_strokes


# W3C Compositing and Blending Level 1, section 10 "Blending", written per scalar.
def w3c_blend(mode: str, cb: float, cs: float) -> float:
    def hard_light(b, s):
        return b * 2 * s if s <= 0.5 else b + (2 * s - 1) - b * (2 * s - 1)

    if mode == "normal":
        return cs
    if mode == "multiply":
        return cb * cs
    if mode == "screen":
        return cb + cs - cb * cs
    if mode == "overlay":
        return hard_light(cs, cb)
    if mode == "hard_light":
        return hard_light(cb, cs)
    if mode == "darken":
        return min(cb, cs)
    if mode == "lighten":
        return max(cb, cs)
    if mode == "difference":
        return abs(cb - cs)
    if mode == "color_dodge":
        if cb == 0:
            return 0.0
        return 1.0 if cs == 1 else min(1.0, cb / (1 - cs))
    if mode == "color_burn":
        if cb == 1:
            return 1.0
        return 0.0 if cs == 0 else 1 - min(1.0, (1 - cb) / cs)
    if mode == "soft_light":
        if cs <= 0.5:
            return cb - (1 - 2 * cs) * cb * (1 - cb)
        d = ((16 * cb - 12) * cb + 4) * cb if cb <= 0.25 else math.sqrt(cb)
        return cb + (2 * cs - 1) * (d - cb)
    raise AssertionError(mode)


GRID = np.array([0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, 1.0])


@pytest.mark.parametrize("mode", BLEND_MODES)
def test_blend_functions_are_the_w3c_formulas(mode):
    cb, cs = np.meshgrid(GRID, GRID, indexing="ij")
    expected = np.vectorize(lambda b, s: w3c_blend(mode, b, s))(cb, cs)
    np.testing.assert_allclose(blend_colors(cb, cs, mode), expected, atol=1e-12)


def rgba_sample(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (24, 32, 4), dtype=np.uint8)


@pytest.mark.parametrize("mode", BLEND_MODES)
def test_composite_is_source_over_with_the_blend(mode):
    backdrop, source = rgba_sample(1), rgba_sample(2)
    ab, as_ = backdrop[..., 3:] / 255.0, source[..., 3:] / 255.0 * 0.8
    cb, cs = backdrop[..., :3] / 255.0, source[..., :3] / 255.0
    mixed = np.vectorize(lambda b, s: w3c_blend(mode, b, s))(cb, cs)
    co = cs * as_ * (1 - ab) + cb * ab * (1 - as_) + as_ * ab * mixed
    ao = as_ + ab * (1 - as_)
    expected_rgb = np.where(ao > 0, co / np.maximum(ao, 1e-12), 0) * 255
    out = composite(backdrop, source, mode=mode, opacity=0.8)
    assert np.abs(out[..., 3] - ao[..., 0] * 255).max() <= 1
    visible = ao[..., 0] > 0.05
    assert np.abs(out[..., :3] - expected_rgb)[visible].max() <= 1.5


def test_composite_with_a_mask_and_opaque_rgb():
    backdrop = np.full((4, 4, 3), 10, np.uint8)
    source = np.full((4, 4, 3), 250, np.uint8)
    mask = np.zeros((4, 4), np.uint8)
    mask[:, 2:] = 255
    out = composite(backdrop, source, mask=mask)
    assert (out[:, :2, :3] == 10).all() and (out[:, 2:, :3] == 250).all() and (out[..., 3] == 255).all()


def test_composite_refuses_bad_input():
    a = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(UnsupportedParameterError, match="multiply, screen"):
        composite(a, a, mode="add")
    with pytest.raises(InvalidArgumentError, match="differ in size"):
        composite(a, np.zeros((4, 5, 3), np.uint8))
    with pytest.raises(UnsupportedParameterError, match=r"0\.\.1"):
        composite(a, a, opacity=1.5)


def test_opacity_and_masks_scale_alpha_only():
    img = rgba_sample(3)
    img[..., 3] = 200
    half = set_opacity(img, 0.5)
    np.testing.assert_array_equal(half[..., :3], img[..., :3])
    assert (half[..., 3] == 100).all()
    matte = np.linspace(0, 1, 32, dtype=np.float32)[None, :].repeat(24, axis=0)
    masked = apply_mask(img, matte)
    np.testing.assert_array_equal(masked[..., 3], np.rint(200 * matte).astype(np.uint8))


def test_integer_translation_is_an_exact_copy():
    img = rgba_sample(4)
    out = transform_layer(img, {"x": 5, "y": -3}, (40, 30))
    expected = np.zeros((30, 40, 4), np.uint8)
    expected[0:21, 5:37] = img[3:24]
    visible = expected[..., 3] > 0
    np.testing.assert_array_equal(out[..., 3], expected[..., 3])
    assert (
        np.abs(out[visible].astype(int) - expected[visible]).max() <= 1
    )  # straight <-> premultiplied rounding


def test_rotation_is_clockwise_about_the_layer_centre():
    img = np.zeros((20, 20, 3), np.uint8)
    img[2:6, 2:18] = 255  # a bar along the top
    out = transform_layer(img, {"rotation": 90}, (20, 20))
    assert out[2:18, 14:18, 0].min() > 200  # now along the right side (clockwise)
    np.testing.assert_array_equal(out[..., 0] > 128, np.rot90(img[..., 0], k=-1) > 128)


def test_scale_and_crop_match_scikit_image():
    rng = np.random.default_rng(6)
    img = np.clip(np.kron(rng.integers(0, 256, (8, 10, 3)), np.ones((4, 4, 1))), 0, 255).astype(np.uint8)
    t = {"x": 3.5, "y": 2.0, "scale_x": 1.5, "scale_y": 1.25, "crop": [4, 8, 30, 20]}
    out = transform_layer(img, t, (60, 40))
    crop = img[8:28, 4:34].astype(float)
    # continuous coordinates: pixel (i, j) covers [i, i + 1); scikit-image puts centres on integers
    tform = transform.AffineTransform(scale=(1.5, 1.25), translation=(3.5 + 0.25, 2.0 + 0.125))
    ref = transform.warp(
        crop, tform.inverse, output_shape=(40, 60), order=1, mode="edge", preserve_range=True
    )
    inside = np.zeros((40, 60), bool)
    inside[4:26, 6:47] = True
    assert np.abs(out[..., :3] - ref)[inside].max() <= 2
    assert (out[inside, 3] == 255).all() and (out[35:, :, 3] == 0).all()


def test_downscaled_layers_are_area_averaged():
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, ::2] = 255  # one-pixel stripes would alias under plain bilinear sampling
    out = transform_layer(img, {"scale_x": 0.25, "scale_y": 0.25}, (10, 10))
    assert np.abs(out[1:-1, 1:-1, 0].astype(int) - 128).max() <= 2


def test_rotated_cut_out_has_no_dark_fringe():
    img = np.zeros((30, 30, 4), np.uint8)
    img[5:25, 5:25] = (255, 255, 0, 255)
    out = transform_layer(img, {"rotation": 30}, (30, 30))
    seen = out[..., 3] > 10
    assert (out[seen, 0] >= 250).all() and (out[seen, 2] <= 2).all()


def solid(colour, h=20, w=30, alpha=255):
    img = np.zeros((h, w, 4), np.uint8)
    img[...] = (*colour, alpha)
    return img


def test_render_layers_composites_the_stack_bottom_first():
    assets = {"a" * 64: solid((200, 40, 40)), "b" * 64: solid((40, 200, 40), 10, 10, 180)}
    layers = [
        {"id": "l1", "kind": "image", "asset": "a" * 64},
        {
            "id": "l2",
            "kind": "generated",
            "asset": "b" * 64,
            "opacity": 0.5,
            "blend_mode": "screen",
            "transform": {"x": 4, "y": 5},
        },
        {"id": "l3", "kind": "image", "asset": "a" * 64, "visible": False},
    ]
    out = render_layers(layers, assets.__getitem__, (30, 20))
    placed = np.zeros((20, 30, 4), np.uint8)
    placed[5:15, 4:14] = assets["b" * 64]
    expected = composite(assets["a" * 64], placed, mode="screen", opacity=0.5)
    np.testing.assert_array_equal(out, expected)


def test_render_layers_background_and_empty_stack():
    out = render_layers([], {}.__getitem__, (5, 4), background="#336699")
    assert (
        out.shape == (4, 5, 4) and (out[..., :3] == (0x33, 0x66, 0x99)).all() and (out[..., 3] == 255).all()
    )
    assert (render_layers([], {}.__getitem__, (5, 4))[..., 3] == 0).all()
    assert (render_layers([], {}.__getitem__, (5, 4), background=(1, 2, 3, 4))[..., 3] == 4).all()


def test_filters_apply_to_layer_pixels_before_the_transform():
    src = np.random.default_rng(7).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    chain = [{"filter": "sepia"}, {"filter": "gaussian_blur", "params": {"sigma": 1.0}}]
    layers = [
        {"id": "l", "kind": "image", "asset": "c" * 64, "filters": chain, "transform": {"x": 2, "y": 3}}
    ]
    out = render_layers(layers, {"c" * 64: src}.__getitem__, (24, 24))
    np.testing.assert_array_equal(out, transform_layer(apply_chain(src, chain), {"x": 2, "y": 3}, (24, 24)))


def test_filtered_layers_use_and_fill_the_derived_cache():
    src = solid((100, 100, 100), 8, 8)
    chain = [{"filter": "brightness", "params": {"amount": 0.2}}]
    layers = [{"id": "l", "kind": "image", "asset": "d" * 64, "filters": chain}]
    cache: dict = {}
    first = render_layers(layers, {"d" * 64: src}.__getitem__, (8, 8), cache=cache)
    key = ("d" * 64, chain_hash(chain))
    assert list(cache) == [key] and (first[..., 0] == 151).all()
    cache[key] = solid((7, 8, 9), 8, 8)
    again = render_layers(
        layers, lambda h: pytest.fail("asset loaded despite the cache"), (8, 8), cache=cache
    )
    assert (again[..., :3] == (7, 8, 9)).all()


def test_paint_and_text_layers_are_drawn():
    strokes = [{"tool": "brush", "size": 6, "color": "#ff0000", "points": [5, 10, 35, 10]}]
    layers = [
        {"id": "p", "kind": "paint", "strokes": strokes},
        {
            "id": "t",
            "kind": "text",
            "text": {"content": "Hi", "font_size": 16, "color": "#0000ff", "x": 4, "y": 20},
        },
    ]
    out = render_layers(layers, {}.__getitem__, (40, 40))
    np.testing.assert_array_equal(out[:18], render_strokes(strokes, 40, 40)[:18])
    text = out[20:40, 4:30]
    assert (text[..., 3] > 200).sum() > 10 and (text[text[..., 3] > 200][:, 2] == 255).all()
    assert (out[20:40, :4, 3] == 0).all()


def test_a_mask_layer_multiplies_the_alpha_of_the_layer_naming_it():
    keep = [{"tool": "keep", "size": 10, "points": [0, 5, 30, 5]}]
    layers = [
        {"id": "img", "kind": "image", "asset": "e" * 64, "mask": "m"},
        {"id": "m", "kind": "mask", "strokes": keep},
    ]
    out = render_layers(layers, {"e" * 64: solid((9, 9, 9))}.__getitem__, (30, 20))
    matte = mask_from_strokes(keep, 20, 30)
    np.testing.assert_array_equal(out[..., 3], np.clip(matte * 255 + 0.5, 0, 255).astype(np.uint8))
    hidden_mask = [layers[0], dict(layers[1], visible=False)]
    assert (
        render_layers(hidden_mask, {"e" * 64: solid((9, 9, 9))}.__getitem__, (30, 20))[..., 3] == 255
    ).all()


def test_a_mask_layer_asset_gives_the_starting_matte():
    matte = solid((0, 0, 0), alpha=0)
    matte[:, :15, 3] = 255
    layers = [
        {"id": "img", "kind": "image", "asset": "f" * 64, "mask": "m"},
        {
            "id": "m",
            "kind": "mask",
            "asset": "0" * 64,
            "strokes": [{"tool": "remove", "size": 4, "points": [5, 2, 5, 18]}],
        },
    ]
    out = render_layers(layers, {"f" * 64: solid((9, 9, 9)), "0" * 64: matte}.__getitem__, (30, 20))
    assert (out[:, 20:, 3] == 0).all() and (out[:, 10:14, 3] == 255).all() and (out[10, 5, 3] == 0)


def test_render_layers_refuses_bad_layers():
    load = {"a" * 64: solid((1, 2, 3))}.__getitem__
    with pytest.raises(UnsupportedParameterError, match="image, generated, paint, text, mask"):
        render_layers([{"id": "x", "kind": "video", "asset": "a" * 64}], load, (30, 20))
    with pytest.raises(UnsupportedParameterError, match="multiply"):
        render_layers([{"id": "x", "asset": "a" * 64, "blend_mode": "glow"}], load, (30, 20))
    with pytest.raises(InvalidArgumentError, match="mask layers: \\[\\]"):
        render_layers([{"id": "x", "asset": "a" * 64, "mask": "nope"}], load, (30, 20))
    with pytest.raises(UnsupportedParameterError, match="opacity"):
        render_layers([{"id": "x", "asset": "a" * 64, "opacity": 2}], load, (30, 20))
    with pytest.raises(InvalidArgumentError, match="canvas_size"):
        render_layers([], load, (0, 20))
