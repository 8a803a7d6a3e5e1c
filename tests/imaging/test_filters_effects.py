"""Artistic, lighting, texture and grain filters against numpy references and their defining behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import filters

from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.imaging import filters as F
from imagestudio_nb.imaging.filters.artistic import kuwahara
from imagestudio_nb.imaging.filters.texture import procedural_texture


def sample(h: int = 48, w: int = 64, seed: int = 4, noise: float = 20) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.dstack([x * 255 / (w - 1), y * 255 / (h - 1), np.where((x // 16 + y // 16) % 2, 220, 40)])
    return np.clip(img + rng.normal(0, noise, (h, w, 3)), 0, 255).astype(np.uint8)


def two_tone(h: int = 40, w: int = 40) -> np.ndarray:
    img = np.full((h, w, 3), (200, 180, 60), np.uint8)
    img[:, w // 2 :] = (30, 60, 150)
    return img


def naive_kuwahara(img: np.ndarray, r: int) -> np.ndarray:
    f = img.astype(float)
    luma = f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114
    pf = np.pad(f, ((r, r), (r, r), (0, 0)), mode="reflect")
    pl = np.pad(luma, r, mode="reflect")
    out = np.empty_like(f)
    for y in range(img.shape[0]):
        for x in range(img.shape[1]):
            best, best_var = None, np.inf
            for y0, x0 in ((y - r, x - r), (y - r, x), (y, x - r), (y, x)):  # TL, TR, BL, BR
                win = pl[y0 + r : y0 + 2 * r + 1, x0 + r : x0 + 2 * r + 1]
                var = win.var()
                if var < best_var - 1e-3:
                    best_var = var
                    best = pf[y0 + r : y0 + 2 * r + 1, x0 + r : x0 + 2 * r + 1].reshape(-1, 3).mean(axis=0)
            out[y, x] = best
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def test_oil_painting_is_a_kuwahara_filter():
    img = sample(24, 28)
    diff = np.abs(kuwahara(img, 3).astype(int) - naive_kuwahara(img, 3))
    assert (diff <= 1).mean() > 0.99  # ties between quadrants may break differently in float32
    np.testing.assert_array_equal(F.oil_painting(img, radius=3), kuwahara(img, 3))


def test_oil_painting_keeps_edges_and_flattens_areas():
    img = two_tone()
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    out = F.oil_painting(noisy, radius=4)
    assert out[:, :18].std(axis=(0, 1)).max() < noisy[:, :18].std(axis=(0, 1)).max() / 2
    assert abs(int(out[20, 19, 2]) - 60) < 15 and abs(int(out[20, 20, 2]) - 150) < 15


def test_oil_painting_amount_mixes_with_the_original():
    img = sample()
    full = F.oil_painting(img, radius=2).astype(float)
    half = F.oil_painting(img, radius=2, amount=0.5).astype(float)
    assert np.abs(half - (img + full) / 2).max() <= 1


@pytest.mark.parametrize("levels", [2, 5, 16])
def test_posterize_rounds_to_even_levels(levels):
    img = sample()
    step = 255 / (levels - 1)
    expected = np.rint(np.rint(img / step) * step)
    np.testing.assert_array_equal(F.posterize(img, levels=levels), expected.astype(np.uint8))


def test_pencil_sketch_is_a_colour_dodge_of_grey_by_its_blurred_inverse():
    img = sample()
    grey = np.rint(img.astype(float) @ [0.299, 0.587, 0.114])
    blurred = np.rint(
        filters.gaussian(255 - grey, sigma=3.0, truncate=3.0, mode="mirror", preserve_range=True)
    )
    den = 255 - blurred
    expected = np.where(den > 0, np.minimum(255, grey * 255 / np.maximum(den, 1)), np.where(grey > 0, 255, 0))
    out = F.pencil_sketch(img, sigma=3.0)
    assert (out[..., 0] == out[..., 1]).all()
    # One level of difference in the rounded blur moves the divide by its slope, grey * 255 / den**2.
    trusted = den >= 20
    tolerance = 1.5 + grey * 255 / np.maximum(den, 1) ** 2
    assert (np.abs(out[..., 0].astype(float) - expected) <= tolerance)[trusted].all()


def test_pencil_sketch_in_colour_multiplies_the_image():
    img = sample()
    grey_sketch = F.pencil_sketch(img, sigma=3.0)[..., :1].astype(float)
    out = F.pencil_sketch(img, sigma=3.0, color=True)
    assert np.abs(out - np.rint(img * grey_sketch / 255)).max() <= 1


def test_watercolor_washes_flat_areas_and_keeps_strong_edges():
    img = two_tone(64, 64)
    noisy = np.clip(img + np.random.default_rng(1).normal(0, 15, img.shape), 0, 255).astype(np.uint8)
    out = F.watercolor(noisy, edges=0.0)
    assert out[:, :24].std(axis=(0, 1)).max() < noisy[:, :24].std(axis=(0, 1)).max() / 2
    assert np.abs(out[:, :24].mean(axis=(0, 1)) - img[0, 0]).max() < 8
    assert np.abs(out[:, 40:].mean(axis=(0, 1)) - img[0, -1]).max() < 8
    rimmed = F.watercolor(noisy, edges=1.0).astype(int)
    assert rimmed[:, 30:34].mean() < out[:, 30:34].mean()  # darker where washes meet
    np.testing.assert_array_equal(F.watercolor(noisy), F.watercolor(noisy))


def test_cartoon_posterizes_and_draws_dark_lines_on_edges_only():
    img = two_tone(48, 48)
    out = F.cartoon(img, levels=4)
    lines = out.max(axis=2) == 0
    assert lines[:, 20:28].any(axis=1).all()  # a line along the edge, every row
    assert not lines[:, :12].any() and not lines[:, 36:].any()
    palette = set(np.rint(np.arange(4) * 85).astype(int))
    assert set(np.unique(out[~lines])) <= palette


def smoothstep(t):
    t = np.clip(t, 0, 1)
    return t * t * (3 - 2 * t)


@pytest.mark.parametrize("amount", [0.7, -0.5])
def test_vignette_matches_its_radial_formula(amount):
    img = sample()
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    d = np.hypot((x - 0.3 * (w - 1)) / ((w - 1) / 2), (y - 0.5 * (h - 1)) / ((h - 1) / 2)) / np.sqrt(2)
    m = smoothstep((d - 0.4) / 0.5)[..., None]
    if amount > 0:
        expected = img * (1 - amount * m)
    else:
        expected = 255 - (255 - img.astype(float)) * (1 - abs(amount) * m)
    out = F.vignette(img, amount=amount, radius=0.4, feather=0.5, center_x=0.3)
    assert np.abs(out - expected).max() <= 1


def test_drop_shadow_composites_a_shifted_blurred_alpha_under_the_cut_out():
    img = np.zeros((64, 64, 4), np.uint8)
    img[20:36, 18:34] = (250, 240, 10, 255)
    img[36:40, 18:34] = (250, 240, 10, 128)
    out = F.drop_shadow(img, offset_x=6, offset_y=4, blur=3.0, opacity=0.7, color="#102030")
    a = img[..., 3] / 255.0
    shifted = np.zeros_like(a)
    shifted[4:, 6:] = a[:-4, :-6]
    shadow = filters.gaussian(shifted, sigma=3.0, truncate=3.0, mode="constant") * 0.7
    behind = shadow * (1 - a)
    out_a = a + behind
    colour = (img[..., :3] * a[..., None] + np.array([16, 32, 48]) * behind[..., None]) / np.maximum(
        out_a, 1e-6
    )[..., None]
    seen = out_a > 0.02
    assert np.abs(out[..., 3] - out_a * 255).max() <= 1
    assert np.abs(out[..., :3] - colour)[seen].max() <= 2
    opaque = img[..., 3] == 255
    np.testing.assert_array_equal(out[opaque], img[opaque])


def test_drop_shadow_leaves_opaque_rgb_alone():
    img = sample()
    np.testing.assert_array_equal(F.drop_shadow(img), img)


W3C_GREY_BLENDS = {
    "overlay": lambda cb, t: np.where(cb <= 0.5, 2 * cb * t, 1 - 2 * (1 - cb) * (1 - t)),
    "multiply": lambda cb, t: cb * t,
    "screen": lambda cb, t: cb + t - cb * t,
    "soft_light": lambda cb, t: np.where(
        t <= 0.5,
        cb - (1 - 2 * t) * cb * (1 - cb),
        cb + (2 * t - 1) * (np.where(cb <= 0.25, ((16 * cb - 12) * cb + 4) * cb, np.sqrt(cb)) - cb),
    ),
}


@pytest.mark.parametrize(
    "kind, blend",
    [
        ("paper", "overlay"),
        ("canvas", "overlay"),
        ("grain", "overlay"),
        ("paper", "multiply"),
        ("grain", "screen"),
        ("canvas", "soft_light"),
    ],
)
def test_texture_overlay_blends_the_texture_with_w3c_blend_modes(kind, blend):
    img = sample()
    t = procedural_texture(kind, *img.shape[:2], scale=1.5, seed=3)[..., None].astype(float)
    cb = img / 255.0
    expected = (cb + 0.6 * (W3C_GREY_BLENDS[blend](cb, t) - cb)) * 255
    out = F.texture_overlay(img, kind=kind, amount=0.6, scale=1.5, seed=3, blend=blend)
    assert np.abs(out - expected).max() <= 1


def test_procedural_textures_are_seeded_and_differ_by_kind():
    a = procedural_texture("paper", 64, 64, seed=1)
    assert np.array_equal(a, procedural_texture("paper", 64, 64, seed=1))
    assert not np.array_equal(a, procedural_texture("paper", 64, 64, seed=2))
    assert not np.array_equal(a, procedural_texture("canvas", 64, 64, seed=1))
    for kind in ("paper", "canvas", "grain"):
        t = procedural_texture(kind, 64, 64)
        assert 0.45 < t.mean() < 0.55 and t.std() > 0.02 and t.min() >= 0 and t.max() <= 1


def test_texture_overlay_tiles_a_users_image_through_load_asset():
    img = np.full((10, 12, 3), 128, np.uint8)
    tile = np.zeros((4, 4, 3), np.uint8)
    tile[:2] = 255
    calls = []

    def load(h):
        calls.append(h)
        return tile

    out = F.texture_overlay(img, asset="abc123", amount=1.0, blend="multiply", load_asset=load)
    assert calls == ["abc123"]
    assert (out[0:2, :, 0] == 128).all() and (out[2:4, :, 0] == 0).all() and (out[4:6, :, 0] == 128).all()
    with pytest.raises(InvalidArgumentError, match="load_asset"):
        F.texture_overlay(img, asset="abc123")


def test_film_grain_is_seeded_mean_preserving_and_strongest_in_midtones():
    grey = np.full((128, 128, 3), 128, np.uint8)
    out = F.film_grain(grey, amount=0.5, seed=5)
    assert np.array_equal(out, F.film_grain(grey, amount=0.5, seed=5))
    assert not np.array_equal(out, F.film_grain(grey, amount=0.5, seed=6))
    assert abs(out.mean() - 128) < 0.5
    assert (out[..., 0] == out[..., 1]).all()  # monochrome grain
    assert 20 < out.std() < 28  # 48 * 0.5 * (0.3 + 2.8 / 4) = 24 levels
    dark = F.film_grain(np.full((128, 128, 3), 10, np.uint8), amount=0.5, seed=5)
    assert dark.astype(float).std() < out.std() / 2
    colour = F.film_grain(grey, amount=0.5, seed=5, monochrome=False)
    assert not (colour[..., 0] == colour[..., 1]).all()
