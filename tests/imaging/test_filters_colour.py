"""Colour, tone and vintage colour filters against references (W3C formulas, scikit-image, SciPy)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator
from skimage import color, exposure, filters

from imagestudio_nb.imaging import filters as F
from imagestudio_nb.imaging.filters.colour import pchip


def sample(h: int = 48, w: int = 64, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def ref_u8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def close(actual: np.ndarray, expected: np.ndarray, tol: int = 1) -> None:
    diff = np.abs(actual.astype(int) - expected.astype(int))
    assert diff.max() <= tol, f"max difference {diff.max()} > {tol}"


def apply_matrix(img: np.ndarray, m: np.ndarray, offset=0.0) -> np.ndarray:
    return ref_u8(np.einsum("ij,hwj->hwi", np.asarray(m, float), img.astype(float)) + offset)


# W3C Filter Effects Module Level 1, section "feColorMatrix" (values as printed in the spec).
def w3c_saturate(s):
    return np.array(
        [
            [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
        ]
    )


def w3c_hue_rotate(deg):
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array(
        [
            [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928],
            [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.140, 0.072 - c * 0.072 - s * 0.283],
            [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072],
        ]
    )


def w3c_sepia(a):
    return np.array(
        [
            [0.393 + 0.607 * (1 - a), 0.769 - 0.769 * (1 - a), 0.189 - 0.189 * (1 - a)],
            [0.349 - 0.349 * (1 - a), 0.686 + 0.314 * (1 - a), 0.168 - 0.168 * (1 - a)],
            [0.272 - 0.272 * (1 - a), 0.534 - 0.534 * (1 - a), 0.131 + 0.869 * (1 - a)],
        ]
    )


@pytest.mark.parametrize("amount", [-1.0, -0.3, 0.1, 0.5, 1.0])
def test_brightness_adds_a_fraction_of_white(amount):
    img = sample()
    close(F.brightness(img, amount=amount), ref_u8(img.astype(float) + amount * 255))


@pytest.mark.parametrize("amount", [-1.0, -0.5, 0.2, 1.0])
def test_contrast_scales_around_mid_grey(amount):
    img = sample()
    close(F.contrast(img, amount=amount), ref_u8((img.astype(float) - 127.5) * (1 + amount) + 127.5))


@pytest.mark.parametrize("amount", [-1.0, -0.4, 0.3, 1.0])
def test_saturation_is_the_w3c_saturate_matrix(amount):
    img = sample()
    close(F.saturation(img, amount=amount), apply_matrix(img, w3c_saturate(1 + amount)))


def test_full_desaturation_is_luma_grey_as_scikit_image():
    img = sample()
    grey = ref_u8(color.rgb2gray(img) * 255)
    out = F.saturation(img, amount=-1.0)
    close(out[..., 0], grey)
    assert (out[..., 0] == out[..., 2]).all()


@pytest.mark.parametrize("degrees", [-150.0, -45.0, 30.0, 120.0, 180.0])
def test_hue_is_the_w3c_hue_rotate_matrix(degrees):
    img = sample()
    close(F.hue(img, degrees=degrees), apply_matrix(img, w3c_hue_rotate(degrees)))


def test_hue_keeps_greys():
    grey = np.repeat(np.arange(256, dtype=np.uint8).reshape(16, 16, 1), 3, axis=2)
    close(F.hue(grey, degrees=77.0), grey)


@pytest.mark.parametrize("stops", [-2.0, -0.5, 0.7, 3.0])
def test_exposure_scales_linear_light(stops):
    img = sample()
    v = img / 255.0
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4) * 2**stops
    linear = np.clip(linear, 0, 1)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    close(F.exposure(img, stops=stops), ref_u8(srgb * 255))


def test_temperature_warms_and_tints_with_channel_gains():
    img = sample()
    out = F.temperature(img, amount=0.4, tint=-0.5)
    gains = np.array([1 + 0.1 - 0.05, 1 + 0.1, 1 - 0.1 - 0.05])
    close(out, ref_u8(img * gains))
    warm = F.temperature(np.full((1, 1, 3), 128, np.uint8), amount=1.0)[0, 0]
    assert warm[0] > 128 > warm[2]


@pytest.mark.parametrize("amount", [-1.0, 0.6])
def test_vibrance_boosts_dull_colours_more(amount):
    img = sample()
    f = img.astype(float)
    luma = f @ np.array([0.2126, 0.7152, 0.0722])
    sat = (f.max(axis=2) - f.min(axis=2)) / 255
    expected = luma[..., None] + (f - luma[..., None]) * (1 + amount * (1 - sat))[..., None]
    close(F.vibrance(img, amount=amount), ref_u8(expected))
    vivid = np.array([[[255, 0, 0]]], np.uint8)
    np.testing.assert_array_equal(F.vibrance(vivid, amount=1.0), vivid)


def test_shadows_highlights_as_a_pure_tone_curve():
    img = sample()
    f = img.astype(float)
    luma = (f @ np.array([0.2126, 0.7152, 0.0722]) / 255)[..., None]
    ws, wh = np.clip(1 - 2 * luma, 0, 1) ** 2, np.clip(2 * luma - 1, 0, 1) ** 2
    expected = f + 127.5 * (0.6 * ws - 0.4 * wh)
    close(F.shadows_highlights(img, shadows=0.6, highlights=-0.4, radius=0.0), ref_u8(expected))


def test_shadows_highlights_with_a_blurred_mask_matches_scikit_image_blur():
    img = sample()
    f = img.astype(float)
    luma = f @ np.array([0.2126, 0.7152, 0.0722]) / 255
    luma = filters.gaussian(luma, sigma=4.0, truncate=3.0, mode="mirror")[..., None]
    expected = f + 127.5 * (0.5 * np.clip(1 - 2 * luma, 0, 1) ** 2)
    close(F.shadows_highlights(img, shadows=0.5, radius=4.0), ref_u8(expected))


def test_levels_match_scikit_image_rescale_intensity():
    img = sample()
    expected = exposure.rescale_intensity(img.astype(float), in_range=(30, 220), out_range=(10, 240))
    close(F.levels(img, in_black=30, in_white=220, out_black=10, out_white=240), ref_u8(expected))


def test_levels_gamma_brightens_midtones():
    img = sample()
    t = np.clip((img - 20.0) / (235 - 20), 0, 1) ** (1 / 1.8)
    close(F.levels(img, in_black=20, in_white=235, gamma=1.8), ref_u8(t * 255))


def test_curve_interpolation_is_scipy_pchip():
    xs, ys = np.array([0.0, 40, 128, 200, 255]), np.array([10.0, 30, 160, 170, 250])
    x = np.linspace(0, 255, 511)
    np.testing.assert_allclose(pchip(xs, ys, x), PchipInterpolator(xs, ys)(x), atol=1e-9)
    np.testing.assert_allclose(
        pchip(xs[[0, 4]], ys[[0, 4]], x), np.interp(x, xs[[0, 4]], ys[[0, 4]]), atol=1e-9
    )


def test_curves_apply_channel_curves_then_the_master_curve():
    img = sample()
    master = [[0, 0], [128, 170], [255, 255]]
    red = [[0, 20], [255, 235]]
    out = F.curves(img, rgb=master, red=red)
    levels = np.arange(256.0)
    m = PchipInterpolator(*np.array(master, float).T)
    r_table = np.interp(np.interp(levels, *np.array(red, float).T), levels, m(levels))
    close(out[..., 0], ref_u8(r_table[img[..., 0]]))
    close(out[..., 1], ref_u8(m(img[..., 1].astype(float))))


@pytest.mark.parametrize("amount", [0.3, 1.0])
def test_sepia_is_the_w3c_sepia_matrix(amount):
    img = sample()
    close(F.sepia(img, amount=amount), apply_matrix(img, w3c_sepia(amount)))


def test_black_white_default_is_luma_grey_and_mixes_channels():
    img = sample()
    out = F.black_white(img)
    close(out[..., 1], ref_u8(color.rgb2gray(img) * 255))
    red_filter = F.black_white(img, red=0.8, green=0.3, blue=-0.1)
    close(red_filter[..., 2], ref_u8(img.astype(float) @ np.array([0.8, 0.3, -0.1])))
    half = F.black_white(img, amount=0.5)
    close(half, ref_u8(0.5 * img + 0.5 * (img.astype(float) @ np.array([0.2126, 0.7152, 0.0722]))[..., None]))


def test_faded_lifts_blacks_and_dims_whites():
    img = sample()
    a = 0.8
    grey = (img.astype(float) @ np.array([0.2126, 0.7152, 0.0722]))[..., None]
    desat = grey + (1 - 0.3 * a) * (img - grey)
    close(F.faded(img, amount=a), ref_u8(desat * (1 - 0.22 * a) + 0.12 * a * 255))


def test_ambient_light_multiplies_by_the_light_colour():
    img = sample()
    light = np.array([255, 200, 100]) / 255
    close(
        F.ambient_light(img, color="#ffc864", intensity=0.6, brightness=0.1),
        ref_u8(img * (0.4 + 0.6 * light) * 1.1),
    )


def test_colour_filters_keep_alpha_exactly():
    rgba = np.dstack([sample(), np.arange(48 * 64, dtype=np.uint8).reshape(48, 64)])
    for name in ("brightness", "saturation", "hue", "exposure", "levels", "sepia", "posterize"):
        out = getattr(F, name)(rgba, **({"levels": 4} if name == "posterize" else {}))
        np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
        close(
            out[..., :3],
            getattr(F, name)(
                np.ascontiguousarray(rgba[..., :3]), **({"levels": 4} if name == "posterize" else {})
            ),
            0,
        )
