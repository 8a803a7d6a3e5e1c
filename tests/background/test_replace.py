"""Replacement backgrounds, templates and the drop shadow."""

from __future__ import annotations

import numpy as np
import pytest

from imagestudio_nb.errors import InvalidArgumentError, UnsupportedParameterError
from imagestudio_nb.imaging.background import (
    BACKGROUND_TEMPLATES, remove_background, render_background, replace_background,
)


@pytest.fixture
def cutout():
    out = np.zeros((60, 80, 4), np.uint8)
    out[20:40, 30:50] = (200, 30, 30, 255)
    out[20:40, 29] = (200, 30, 30, 128)  # one soft column
    return out


def test_transparent_keeps_the_cutout(cutout):
    assert np.array_equal(replace_background(cutout, "transparent"), cutout)
    assert np.array_equal(replace_background(cutout, None), cutout)


def test_solid_colour_fills_behind_and_blends_soft_edges(cutout):
    out = replace_background(cutout, "#00ff00")
    assert out[0, 0].tolist() == [0, 255, 0, 255]
    assert out[30, 40].tolist() == [200, 30, 30, 255]
    assert out[30, 29, :3].tolist() == [100, 142, 15]  # half red, half green
    assert (out[..., 3] == 255).all()
    assert np.array_equal(replace_background(cutout, (0, 255, 0)), out)


def test_linear_gradient_runs_along_its_angle(cutout):
    spec = {"type": "linear", "colors": ["#000000", "#ffffff"], "angle": 90}  # top to bottom
    out = replace_background(cutout, spec)
    column = out[:, 5, 0].astype(int)
    assert (np.diff(column) >= 0).all() and column[0] < 10 and column[-1] > 245
    assert len(set(out[10, :25, 0].tolist())) == 1  # constant across a row


def test_radial_gradient_is_centred(cutout):
    spec = {"type": "radial", "colors": ["#ffffff", "#000000"], "center": [0.5, 0.5], "radius": 0.5}
    bg = render_background(spec, 61, 61)
    assert bg[30, 30, 0] > 250 and bg[0, 0, 0] < 5
    assert bg[30, 10, 0] == pytest.approx(bg[10, 30, 0], abs=1)


@pytest.mark.parametrize("fit", ["fill", "fit", "stretch"])
def test_image_background_fit_modes(cutout, fit):
    photo = np.zeros((30, 120, 3), np.uint8)
    photo[:, :60] = (0, 0, 255)
    photo[:, 60:] = (255, 255, 0)
    out = replace_background(cutout, photo, fit=fit)
    assert out.shape == cutout.shape
    if fit == "fill":  # covers the canvas: scaled to height 60 -> 240 wide, centre crop shows both halves
        assert out[0, 0, :3].tolist() == [0, 0, 255] and out[0, -1, :3].tolist() == [255, 255, 0]
    if fit == "fit":  # contained: scaled to width 80 -> 20 rows tall, centred, blurred letterbox around
        assert out[30, 2, :3].tolist() == [0, 0, 255]
        assert out[2, 40, :3].tolist() not in ([0, 0, 255], [255, 255, 0])  # letterbox: a blurred mix
    if fit == "stretch":
        assert out[0, 0, :3].tolist() == [0, 0, 255] and out[59, 79, :3].tolist() == [255, 255, 0]
    with pytest.raises(UnsupportedParameterError, match="fill, fit, stretch"):
        replace_background(cutout, photo, fit="tile")


def test_blur_of_the_original_background_keeps_the_subject(scene):
    image, _ = scene("bottle", "gradient")
    rng = np.random.default_rng(0)
    noisy = np.clip(image.astype(int) + rng.integers(-40, 40, image.shape), 0, 255).astype(np.uint8)
    result = remove_background(noisy)
    out = replace_background(result, "blur")
    bg = result.matte < 0.01
    assert out[..., :3][bg].astype(float).std() < noisy[bg].astype(float).std()  # smoothed
    solid = result.matte > 0.999
    assert np.abs(out[..., :3][solid].astype(int) - noisy[solid]).max() <= 1  # subject unchanged
    with pytest.raises(InvalidArgumentError, match="BackgroundResult"):
        replace_background(result.image, "blur")


def test_drop_shadow_darkens_below_right_of_the_subject(cutout):
    plain = replace_background(cutout, "#ffffff")
    shaded = replace_background(cutout, "#ffffff", shadow={"offset": [4, 6], "blur": 4, "opacity": 0.6})
    assert shaded[44, 45, 0] < plain[44, 45, 0] - 40  # below-right, in the shadow
    assert shaded[5, 5].tolist() == plain[5, 5].tolist()  # far away: untouched
    assert np.array_equal(shaded[25:35, 35:45], plain[25:35, 35:45])  # subject on top of its shadow
    on_clear = replace_background(cutout, "transparent", shadow=True)
    assert on_clear[40, 40, 3] > 0 and on_clear[5, 5, 3] == 0  # the shadow adds alpha
    with pytest.raises(UnsupportedParameterError, match="offset"):
        replace_background(cutout, "#ffffff", shadow={"distance": 3})


@pytest.mark.parametrize("name", sorted(BACKGROUND_TEMPLATES))
def test_every_template_renders(cutout, name):
    out = replace_background(cutout, name)
    assert out.shape == cutout.shape and (out[..., 3] == 255).all()
    assert out[30, 40, :3].tolist() == [200, 30, 30]


def test_unknown_background_names_the_choices(cutout):
    with pytest.raises(InvalidArgumentError, match="studio-grey"):
        replace_background(cutout, "beach")
    with pytest.raises(InvalidArgumentError, match="RGBA"):
        replace_background(cutout[..., :3], "#ffffff")
