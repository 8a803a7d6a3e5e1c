"""Blur and sharpen filters against scikit-image and SciPy references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage import filters

from imagestudio_nb.imaging import filters as F


def sample(h: int = 60, w: int = 72, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.dstack([x * 3.5, y * 4.0, 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)])
    return np.clip(img + rng.normal(0, 30, (h, w, 3)), 0, 255).astype(np.uint8)


def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(float) - np.asarray(b, float))


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0, 8.0])
def test_gaussian_blur_matches_scikit_image(sigma):
    img = sample()
    ref = filters.gaussian(
        img.astype(float), sigma=sigma, truncate=3.0, mode="mirror", channel_axis=-1, preserve_range=True
    )
    assert diff(F.gaussian_blur(img, sigma=sigma), ref).max() <= 1.0


def test_large_gaussian_blur_is_computed_small_and_stays_close():
    img = np.kron(sample(64, 64), np.ones((4, 4, 1), np.uint8))  # 256x256
    ref = filters.gaussian(
        img.astype(float), sigma=40.0, truncate=3.0, mode="mirror", channel_axis=-1, preserve_range=True
    )
    d = diff(F.gaussian_blur(img, sigma=40.0), ref)
    assert d.mean() < 1.0 and d.max() <= 4


@pytest.mark.parametrize(
    "name, params",
    [
        ("gaussian_blur", {"sigma": 3.0}),
        ("motion_blur", {"length": 15, "angle": 30.0}),
        ("zoom_blur", {"amount": 0.3}),
        ("unsharp_mask", {"radius": 2.0, "amount": 1.0}),
        ("sharpen", {"amount": 1.0}),
    ],
)
def test_blur_on_a_cut_out_keeps_its_edge_colour(name, params):
    img = np.zeros((40, 40, 4), np.uint8)
    img[10:30, 10:30] = (255, 0, 0, 255)
    out = getattr(F, name)(img, **params)
    np.testing.assert_array_equal(out[..., 3], img[..., 3])
    inside = img[..., 3] > 0
    assert (out[inside, 0] == 255).all() and (out[inside, 1:3] == 0).all()  # no black bleeding in


@pytest.mark.parametrize("length", [3, 9, 14])
def test_horizontal_motion_blur_is_a_running_mean(length):
    img = sample()
    out = F.motion_blur(img, length=length, angle=0.0)
    if length % 2:
        ref = ndimage.uniform_filter1d(img.astype(float), size=length, axis=1, mode="mirror")
        assert diff(out, ref).max() <= 1.0
    else:  # even lengths spread over length + 1 pixels with half weights at the ends
        w = np.r_[0.5, np.ones(length - 1), 0.5] / length
        ref = ndimage.correlate1d(img.astype(float), w, axis=1, mode="mirror")
        assert diff(out, ref).max() <= 1.0


def test_vertical_motion_blur_runs_along_columns():
    img = sample()
    ref = ndimage.uniform_filter1d(img.astype(float), size=7, axis=0, mode="mirror")
    assert diff(F.motion_blur(img, length=7, angle=90.0), ref).max() <= 1.0


def test_diagonal_motion_blur_streaks_along_its_angle():
    img = np.zeros((41, 41, 3), np.uint8)
    img[20, 20] = 255
    out = F.motion_blur(img, length=21, angle=45.0)[..., 0].astype(int)
    # counter-clockwise from the x axis: up and to the right in image coordinates; 21 px reach 7 px per axis
    assert out[14, 26] > 0 and out[26, 14] > 0 and out[14, 14] == 0 and out[26, 26] == 0
    assert out[12, 28] == 0
    assert abs(out.sum() - 255) < 30


def test_zoom_blur_is_the_average_of_scaled_copies():
    # Built by doubling passes, each a bilinear resampling: fine pixel noise softens a little more than
    # in the continuous average, so the reference image carries detail but no per-pixel noise.
    img = F.gaussian_blur(sample(64, 64), sigma=1.0)
    amount, cx, cy = 0.15, 0.4 * 63, 0.6 * 63
    ys, xs = np.mgrid[0:64, 0:64].astype(float)
    acc = np.zeros(img.shape)
    scales = (1 - amount) ** np.linspace(0, 1, 200)  # geometrically spaced zoom
    for s in scales:
        coords = [cy + (ys - cy) * s, cx + (xs - cx) * s]
        for c in range(3):
            acc[..., c] += ndimage.map_coordinates(img[..., c].astype(float), coords, order=1, mode="mirror")
    ref = acc / len(scales)
    d = diff(F.zoom_blur(img, amount=amount, center_x=0.4, center_y=0.6), ref)
    assert d.mean() < 1.0 and np.percentile(d, 99) < 4
    assert (F.zoom_blur(img, amount=amount)[32, 32] - img[32, 32] < 40).all()  # centre barely moves


@pytest.mark.parametrize("radius, amount", [(1.0, 1.0), (2.0, 0.5), (3.0, 2.0)])
def test_unsharp_mask_matches_scikit_image(radius, amount):
    img = sample()
    # one channel at a time: scikit-image 0.26 gives NaN for float input with channel_axis
    ref = (
        np.stack(
            [filters.unsharp_mask(img[..., c] / 255.0, radius=radius, amount=amount) for c in range(3)],
            axis=2,
        )
        * 255
    )
    m = int(4 * radius) + 1  # borders differ (scikit-image reflects with edge repeat)
    d = diff(F.unsharp_mask(img, radius=radius, amount=amount), ref)[m:-m, m:-m]
    assert d.max() <= 1 + amount


def test_unsharp_mask_threshold_protects_small_detail():
    img = sample()
    blurred = filters.gaussian(
        img.astype(float), sigma=2.0, truncate=3.0, mode="mirror", channel_axis=-1, preserve_range=True
    )
    out = F.unsharp_mask(img, radius=2.0, amount=1.0, threshold=20.0)
    small = np.abs(img - blurred) < 19
    np.testing.assert_array_equal(out[small], img[small])
    assert (out != img).any()


@pytest.mark.parametrize("amount", [0.25, 1.0])
def test_sharpen_is_the_laplacian_kernel(amount):
    img = sample()
    a = amount
    kernel = np.array([[0, -a, 0], [-a, 1 + 4 * a, -a], [0, -a, 0]])
    ref = np.stack(
        [ndimage.convolve(img[..., c].astype(float), kernel, mode="mirror") for c in range(3)], axis=2
    )
    assert diff(F.sharpen(img, amount=amount), np.clip(ref, 0, 255)).max() <= 1.0


def test_sharpen_increases_edge_contrast():
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, 4:] = 200
    img[:, :4] = 50
    out = F.sharpen(img, amount=0.5)
    assert out[0, 3, 0] < 50 and out[0, 4, 0] > 200
