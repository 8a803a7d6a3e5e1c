"""Selections against drawn ground truth (OpenCV draws the shapes; the selection must find exactly them), feathering,
and outpainting geometry round trips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.imaging.selection import (composite_back, extend_canvas, feather, lasso_mask, magic_wand,
                                              rectangle_mask)


def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grey field with a red disc and a blue triangle; returns the image and the two true masks."""
    image = np.full((120, 160, 3), 128, np.uint8)
    disc = np.zeros((120, 160), np.uint8)
    cv2.circle(disc, (50, 60), 30, 1, -1)
    triangle = np.zeros((120, 160), np.uint8)
    cv2.fillPoly(triangle, [np.array([[100, 20], [150, 100], [100, 100]], np.int32)], 1)
    image[disc.astype(bool)] = (220, 30, 30)
    image[triangle.astype(bool)] = (30, 30, 220)
    return image, disc.astype(bool), triangle.astype(bool)


def test_magic_wand_selects_exactly_the_drawn_disc():
    image, disc, triangle = scene()
    noisy = np.clip(image.astype(int) + np.random.default_rng(0).integers(-6, 7, image.shape), 0, 255).astype(np.uint8)
    selected = magic_wand(noisy, (50, 60), tolerance=20)
    assert (selected == disc).all()
    assert not (magic_wand(noisy, (50, 60), tolerance=2) == disc).all()  # too tight a tolerance leaves holes


def test_lasso_around_the_triangle_matches_it():
    _, _, triangle = scene()
    selected = lasso_mask((120, 160), [(100, 20), (150, 100), (100, 100)])
    assert (selected == triangle).mean() > 0.995


def test_rectangle_is_clipped_and_bad_boxes_refused():
    assert int(rectangle_mask((10, 10), (-5, -5, 3, 3)).sum()) == 9
    with pytest.raises(InvalidArgumentError):
        rectangle_mask((10, 10), (5, 5, 5, 9))
    with pytest.raises(InvalidArgumentError):
        magic_wand(np.zeros((4, 4, 3), np.uint8), (9, 9))


def test_feather_keeps_the_inside_and_softens_only_the_edge():
    hard = rectangle_mask((64, 64), (16, 16, 48, 48))
    soft = feather(hard, 6)
    assert soft[32, 32] > 0.99 and soft[2, 2] < 0.01 and 0.3 < soft[32, 16] < 0.7
    assert np.array_equal(feather(hard, 0), hard.astype(np.float32))


def test_outpainting_extends_the_canvas_and_composites_back_at_the_original_resolution():
    image, _, _ = scene()
    canvas, area = extend_canvas(image, left=20, right=40, top=10, overlap=4)
    assert canvas.shape == (130, 220, 4) and (canvas[10:130, 20:180, :3] == image).all()
    assert area[:10].all() and area[:, :20].all() and area[:, 180:].all()
    assert area[60, 20:24].all() and not area[60, 24:176].any()  # only the overlap of the original is selected
    assert (canvas[~area.astype(bool)][..., 3] == 255).all() and (canvas[:10, :, 3] == 0).all()
    generated = np.full((260, 440, 3), 77, np.uint8)  # the model answered at twice the size
    result = composite_back(canvas, generated, feather(area, 3))
    assert result.shape == canvas.shape and result[0, 0, 0] == 77
    untouched = feather(area, 3) == 0
    assert (result[untouched] == canvas[untouched]).all()
    with pytest.raises(InvalidArgumentError):
        extend_canvas(image)


def test_box_to_object_finds_the_drawn_ellipse_on_a_textured_background():
    from imagestudio_nb.imaging.selection import box_to_object

    rng = np.random.default_rng(3)
    image = (rng.normal(0, 8, (160, 200, 3)) + (170, 180, 150)).clip(0, 255).astype(np.uint8)
    truth = np.zeros((160, 200), np.uint8)
    cv2.ellipse(truth, (100, 80), (50, 35), 20, 0, 360, 1, -1)
    image[truth.astype(bool)] = (150, 40, 60)
    selected = box_to_object(image, (35, 25, 165, 135))
    iou = (selected & truth.astype(bool)).sum() / (selected | truth.astype(bool)).sum()
    assert iou > 0.97
    with pytest.raises(InvalidArgumentError):
        box_to_object(image, (300, 300, 400, 400))


def test_subject_select_with_the_segmentation_model_matches_the_drawn_product():
    from imagestudio_nb.imaging.selection import subject_mask

    image = np.full((256, 256, 3), 245, np.uint8)
    truth = np.zeros((256, 256), np.uint8)
    cv2.rectangle(truth, (80, 60), (176, 210), 1, -1)
    cv2.circle(truth, (128, 60), 40, 1, -1)
    image[truth.astype(bool)] = (30, 110, 190)
    selected = subject_mask(image)
    iou = (selected & truth.astype(bool)).sum() / (selected | truth.astype(bool)).sum()
    assert iou > 0.9
