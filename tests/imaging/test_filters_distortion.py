"""Distortion filters against scikit-image warps; alpha moves with the pixels without dark fringes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage import transform

from imagestudio_nb.imaging import filters as F


def sample(h: int = 64, w: int = 80, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.dstack([x * 3.0, y * 3.5, 128 + 110 * np.sin(x / 6.0 + y / 9.0)])
    return np.clip(img + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)


def warp_ref(img: np.ndarray, inverse_map, mode: str = "reflect") -> np.ndarray:
    if not callable(inverse_map):
        return transform.warp(img.astype(float), inverse_map, order=1, mode=mode, preserve_range=True)
    # inverse_map(xy) -> source xy for each output pixel; sampled with SciPy (mirror = reflect-101)
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(float)
    src = inverse_map(np.stack([xs.ravel(), ys.ravel()], axis=1))
    coords = [src[:, 1].reshape(h, w), src[:, 0].reshape(h, w)]
    return np.stack(
        [
            ndimage.map_coordinates(img[..., c].astype(float), coords, order=1, mode="mirror")
            for c in range(img.shape[2])
        ],
        axis=2,
    )


def assert_close(out: np.ndarray, ref: np.ndarray, *, mean: float = 0.6, p99: float = 3.0) -> None:
    d = np.abs(out.astype(float) - ref)
    assert d.mean() < mean and np.percentile(d, 99) <= p99, (d.mean(), np.percentile(d, 99), d.max())


@pytest.mark.parametrize("strength, radius", [(3.0, 0.5), (-6.0, 0.3)])
def test_swirl_matches_scikit_image(strength, radius):
    img = sample()
    h, w = img.shape[:2]
    ref = transform.swirl(
        img.astype(float),
        center=(0.5 * (w - 1), 0.5 * (h - 1)),
        strength=strength,
        radius=radius * min(h, w),
        order=1,
        mode="reflect",
        preserve_range=True,
    )
    assert_close(F.swirl(img, strength=strength, radius=radius), ref)


@pytest.mark.parametrize("direction", ["horizontal", "vertical", "both"])
def test_wave_matches_a_sine_inverse_map(direction):
    img = sample()
    a, lam, ph = 5.0, 23.0, np.radians(40.0)

    def inverse(xy):
        x, y = xy[:, 0].copy(), xy[:, 1].copy()
        out = xy.copy()
        if direction in ("horizontal", "both"):
            out[:, 0] = x + a * np.sin(2 * np.pi * y / lam + ph)
        if direction in ("vertical", "both"):
            out[:, 1] = y + a * np.sin(2 * np.pi * x / lam + ph)
        return out

    ref = warp_ref(img, inverse)
    assert_close(F.wave(img, amplitude=a, wavelength=lam, direction=direction, phase=40.0), ref)


def test_ripple_matches_a_radial_sine_inverse_map():
    img = sample()
    h, w = img.shape[:2]
    cx, cy, a, lam = 0.3 * (w - 1), 0.6 * (h - 1), 4.0, 17.0

    def inverse(xy):
        dx, dy = xy[:, 0] - cx, xy[:, 1] - cy
        r = np.maximum(np.hypot(dx, dy), 1e-9)
        k = a * np.sin(2 * np.pi * r / lam) / r
        return np.stack([xy[:, 0] + dx * k, xy[:, 1] + dy * k], axis=1)

    ref = warp_ref(img, inverse)
    assert_close(F.ripple(img, amplitude=a, wavelength=lam, center_x=0.3, center_y=0.6), ref)


def test_perspective_straightens_the_quadrilateral_onto_the_image():
    img = sample()
    h, w = img.shape[:2]
    quad = [[0.1, 0.05], [0.85, 0.15], [0.95, 0.9], [0.05, 0.8]]
    src = np.array(quad) * [w - 1, h - 1]
    dst = np.array([[0, 0], [1, 0], [1, 1], [0, 1]]) * [w - 1, h - 1]
    tform = transform.ProjectiveTransform.from_estimate(dst, src)  # output -> input, as warp expects
    ref = warp_ref(img, tform, mode="edge")
    assert_close(F.perspective(img, points=quad), ref, mean=0.5, p99=2.0)


def test_perspective_maps_the_quad_corners_to_the_image_corners():
    img = np.zeros((50, 50, 3), np.uint8)
    img[10, 10] = img[10, 39] = img[39, 39] = img[39, 10] = 255
    quad = [[10 / 49, 10 / 49], [39 / 49, 10 / 49], [39 / 49, 39 / 49], [10 / 49, 39 / 49]]
    out = F.perspective(img, points=quad)[..., 0]
    assert out[0, 0] == out[0, 49] == out[49, 49] == out[49, 0] == 255


def test_warped_cut_out_keeps_its_colour_at_the_edges():
    img = np.zeros((64, 64, 4), np.uint8)
    img[16:48, 16:48] = (0, 200, 0, 255)
    out = F.swirl(img, strength=4.0, radius=0.6)
    seen = out[..., 3] > 20
    assert seen.sum() > 500
    assert (out[seen, 1] >= 195).all() and (out[seen, 0] == 0).all()  # premultiplied warp: no dark rim
    assert (out[..., 3] < 255).sum() > (img[..., 3] < 255).sum() - 4096  # alpha moved too


def test_distortion_maps_are_cached_per_size_and_parameters():
    from imagestudio_nb.imaging.filters.caching import shared_cache

    shared_cache.clear()
    img = sample()
    first = F.wave(img, amplitude=3.0)
    assert len(shared_cache) == 1
    np.testing.assert_array_equal(F.wave(img, amplitude=3.0), first)
    assert len(shared_cache) == 1
    F.wave(sample(32, 32), amplitude=3.0)
    assert len(shared_cache) == 2
