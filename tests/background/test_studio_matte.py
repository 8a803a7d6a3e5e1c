"""Studio fusion: the background plate, and the difference matte fused with a coarse matte."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imagestudio_nb.imaging.background import fit_plate, remove_background, studio_matte

SS = 4


def coverage(draw, size: int) -> np.ndarray:
    """Exact (4x supersampled) coverage of shapes drawn by ``draw(canvas, scale)`` on a size x size image."""
    big = np.zeros((size * SS, size * SS), np.uint8)
    draw(big, SS)
    return cv2.resize(big.astype(np.float32) / 255, (size, size), interpolation=cv2.INTER_AREA)


def composite(alpha, fg, bg, seed=0, noise=1.5):
    rng = np.random.default_rng(seed)
    a = alpha[..., None]
    img = np.asarray(fg, np.float32) * a + np.asarray(bg, np.float32) * (1 - a)
    return np.clip(img + rng.normal(0, noise, img.shape) + 0.5, 0, 255).astype(np.uint8)


def sweep(size: int) -> np.ndarray:
    """A studio sweep: wall to floor through a soft horizon, with a vignette."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    t = 1 / (1 + np.exp(-(yy - 0.65) / 0.06))
    vignette = 1 - 0.18 * (np.hypot(xx - 0.5, yy - 0.55) / 0.7) ** 2
    wall, floor = np.array([205, 200, 196], np.float32), np.array([225, 222, 218], np.float32)
    return (wall * (1 - t[..., None]) + floor * t[..., None]) * vignette[..., None]


def iou(pred, gt):
    p, g = pred > 0.5, gt > 0.5
    return float((p & g).sum() / max(1, (p | g).sum()))


def test_plate_predicts_a_sweep_behind_the_object_and_follows_its_contact_shadow():
    size = 256
    alpha = coverage(lambda m, s: cv2.rectangle(m, (100 * s, 60 * s), (156 * s, 200 * s), 255, -1), size)
    bg = sweep(size)
    plate = fit_plate(composite(alpha, (40, 70, 160), bg), alpha)
    assert plate.studio_like
    assert np.abs(plate.full(size, size) - bg)[alpha > 0.99].mean() < 1.5  # RGB units, behind the box

    foot = coverage(lambda m, s: cv2.ellipse(m, (128 * s, 200 * s), (60 * s, 8 * s), 0, 0, 360, 255, -1),
                    size)
    shadow = cv2.GaussianBlur(foot, (0, 0), 5)
    shaded = bg * (1 - 0.4 * shadow[..., None])
    plate = fit_plate(composite(alpha, (40, 70, 160), shaded), alpha)
    near = (cv2.dilate((alpha > 0).astype(np.uint8), np.ones((13, 13), np.uint8)) > 0) & (alpha == 0)
    visible = near & (shadow > 0.3)
    assert visible.sum() > 100
    error = np.abs(plate.full(size, size) - shaded)[visible].mean()
    # the shadow is part of the plate, not of the object
    assert error < 0.1 * np.abs(shaded - bg)[visible].mean()


def test_textured_backgrounds_are_not_studio_like_and_keep_the_refined_matte():
    rng = np.random.default_rng(3)
    size = 192
    texture = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 1.5)
    bg = np.dstack([120 + 60 * texture / texture.std()] * 3)
    alpha = coverage(lambda m, s: cv2.circle(m, (96 * s, 96 * s), 40 * s, 255, -1), size)
    image = composite(alpha, (200, 40, 40), bg)
    assert not fit_plate(image, alpha).studio_like
    refined = np.clip(alpha * 1.1, 0, 1).astype(np.float32)
    fused, used = studio_matte(image, alpha, refined)
    assert used is False and fused is refined


def fur_ball(size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    c = size // 2
    r = size * 0.22

    def draw(m, s):
        cv2.circle(m, (c * s, c * s), round(r * s), 255, -1)
        for a in rng.uniform(0, 2 * np.pi, 300):
            x0, y0 = c + np.cos(a) * r * 0.9, c + np.sin(a) * r * 0.9
            length = rng.uniform(0.2, 0.4) * r
            x1, y1 = x0 + np.cos(a) * length, y0 + np.sin(a) * length
            cv2.line(m, (round(x0 * s), round(y0 * s)), (round(x1 * s), round(y1 * s)), 255, max(1, s // 2))

    return coverage(draw, size)


def test_difference_matte_recovers_hairs_the_coarse_matte_missed():
    size = 320
    alpha = fur_ball(size)
    image = composite(alpha, (110, 70, 40), (236, 236, 232))
    body = coverage(lambda m, s: cv2.circle(m, (160 * s, 160 * s), round(size * 0.22 * s), 255, -1), size)
    coarse = cv2.GaussianBlur(body, (0, 0), 3)  # a 320-px network sees the ball, not the hairs
    fused, used = studio_matte(image, coarse, coarse)
    hair = (alpha > 0.3) & (body < 0.01)
    assert used
    assert fused[hair].mean() > 0.5 > coarse[hair].mean() + 0.3
    assert np.abs(fused - alpha).mean() < 0.5 * np.abs(coarse - alpha).mean()


def test_handle_hole_is_background_even_where_the_coarse_matte_filled_it():
    size = 256
    def draw_ring(m, s):
        cv2.ellipse(m, (170 * s, 128 * s), (40 * s, 46 * s), 0, 0, 360, 255, -1)
        cv2.ellipse(m, (170 * s, 128 * s), (22 * s, 28 * s), 0, 0, 360, 0, -1)

    ring = coverage(draw_ring, size)
    body = coverage(lambda m, s: cv2.rectangle(m, (60 * s, 70 * s), (150 * s, 190 * s), 255, -1), size)
    alpha = np.maximum(ring, body)
    image = composite(alpha, (170, 40, 50), sweep(size))
    coarse = alpha.copy()
    hole = coverage(lambda m, s: cv2.ellipse(m, (170 * s, 128 * s), (18 * s, 24 * s), 0, 0, 360, 255, -1),
                    size)
    coarse[hole > 0.5] = 0.6  # the model hesitates inside the handle
    fused, _ = studio_matte(image, coarse, coarse)
    assert fused[hole > 0.99].max() < 0.2
    assert iou(fused, alpha) > 0.97


def glass(size: int):
    """A tumbler: a see-through body (alpha 0.3) inside denser walls and base (alpha 0.9), and its tint."""
    walls = coverage(lambda m, s: (cv2.rectangle(m, (90 * s, 50 * s), (166 * s, 210 * s), 255, -1),
                                   cv2.rectangle(m, (98 * s, 50 * s), (158 * s, 196 * s), 0, -1)), size)
    body = coverage(lambda m, s: cv2.rectangle(m, (90 * s, 50 * s), (166 * s, 210 * s), 255, -1), size)
    return np.maximum(0.3 * body, 0.9 * walls), body


@pytest.mark.parametrize("background", [(60, 100, 90), "sweep"])
def test_glass_body_gets_its_own_alpha_not_the_silhouette(background):
    size = 256
    alpha, silhouette = glass(size)
    bg = sweep(size) if background == "sweep" else np.broadcast_to(np.float32(background), (size, size, 3))
    image = composite(alpha, (215, 225, 235), bg)
    fused, used = studio_matte(image, silhouette, silhouette)  # a salient-object model fills the glass
    inner = coverage(lambda m, s: cv2.rectangle(m, (104 * s, 60 * s), (152 * s, 186 * s), 255, -1), size)
    inner = inner > 0.99
    assert used
    assert abs(float(np.median(fused[inner])) - 0.3) < 0.1
    assert iou(fused, alpha) > 0.85  # the walls stay above 0.5, the body falls below


@pytest.mark.parametrize("colour", [(200, 40, 40), (40, 40, 45), (236, 234, 228)])
def test_opaque_products_keep_their_silhouette(colour):
    size = 256
    alpha = coverage(lambda m, s: (cv2.rectangle(m, (96 * s, 90 * s), (160 * s, 210 * s), 255, -1),
                                   cv2.rectangle(m, (118 * s, 50 * s), (138 * s, 92 * s), 255, -1)), size)
    xs = np.linspace(0, np.pi, size, dtype=np.float32)
    shade = (0.62 + 0.38 * np.sin(xs))[None, :, None]
    fg = np.asarray(colour, np.float32) * shade + 120 * np.exp(-((xs - 1.3) / 0.1) ** 2)[None, :, None]
    image = composite(alpha, np.clip(fg, 0, 255), sweep(size))
    fused, _ = studio_matte(image, alpha, alpha)
    assert iou(fused, alpha) > 0.98


def test_remove_background_records_the_fusion_and_reproduces_from_params(scene):
    image, _ = scene("mug", "gradient")
    fused = remove_background(image)
    plain = remove_background(image, studio_fusion=False)
    assert fused.method == "u2netp+plate" and plain.method == "u2netp"
    assert fused.params["studio_fusion"] is True and plain.params["studio_fusion"] is False
    for result in (fused, plain):
        again = remove_background(image, **{k: v for k, v in result.params.items() if k != "used"})
        assert np.array_equal(again.matte, result.matte)
