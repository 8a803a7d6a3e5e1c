"""Keep/remove strokes on top of the automatic matte, and reproducing a result from its data."""

from __future__ import annotations

import numpy as np
import pytest

from imagestudio_nb.errors import InvalidArgumentError, UnsupportedParameterError
from imagestudio_nb.imaging.background import remove_background


def test_keep_stroke_adds_a_missed_region(scene):
    image, _ = scene("bottle", "white")
    auto = remove_background(image)
    assert auto.matte[10, 10] < 0.05
    kept = remove_background(image, strokes=[{"tool": "keep", "size": 12, "points": [4, 10, 30, 10]}])
    assert kept.matte[10, 10] > 0.99 and kept.image[10, 10, 3] == 255
    assert np.array_equal(kept.auto_matte, auto.matte)  # strokes apply on top, the automatic part is unchanged


def test_remove_stroke_erases_part_of_the_object(scene):
    image, alpha = scene("box", "white")
    h, w = alpha.shape
    result = remove_background(image, strokes=[{"tool": "remove", "size": 16, "points": [w // 2 - 20, h // 2, w // 2 + 20, h // 2]}])
    assert result.matte[h // 2, w // 2] < 0.01
    assert result.auto_matte[h // 2, w // 2] > 0.99
    assert result.matte[h // 2 + 25, w // 2] > 0.99  # away from the stroke nothing changed


def test_strokes_apply_in_order_and_soft_strokes_are_partial(scene):
    image, alpha = scene("bottle", "white")
    p = [10, 10]
    later_keep = remove_background(image, strokes=[{"tool": "remove", "size": 10, "points": p},
                                                   {"tool": "keep", "size": 10, "points": p}])
    later_remove = remove_background(image, strokes=[{"tool": "keep", "size": 10, "points": p},
                                                     {"tool": "remove", "size": 10, "points": p}])
    assert later_keep.matte[10, 10] > 0.99 and later_remove.matte[10, 10] < 0.01
    half = remove_background(image, strokes=[{"tool": "keep", "size": 10, "opacity": 0.5, "points": p}])
    assert 0.45 < half.matte[10, 10] < 0.55


def test_result_is_reproducible_from_its_params(scene):
    image, _ = scene("mug", "gradient")
    strokes = [{"tool": "keep", "size": 14, "hardness": 0.6, "opacity": 1.0, "points": [5, 5, 40, 8]},
               {"tool": "remove", "size": 20, "hardness": 1.0, "opacity": 1.0, "points": [80, 96]}]
    first = remove_background(image, strokes=strokes, refine="guided")
    params = {k: v for k, v in first.params.items() if k not in ("used",)}
    again = remove_background(image, **params)
    assert np.array_equal(first.matte, again.matte) and np.array_equal(first.image, again.image)
    assert first.params["strokes"] == strokes


def test_paint_tools_and_malformed_strokes_are_refused(scene):
    image, _ = scene()
    with pytest.raises(UnsupportedParameterError, match="keep, remove"):
        remove_background(image, strokes=[{"tool": "brush", "points": [1, 1]}])
    with pytest.raises(InvalidArgumentError, match="list of stroke dicts"):
        remove_background(image, strokes={"tool": "keep"})
    with pytest.raises(InvalidArgumentError, match="even length"):
        remove_background(image, strokes=[{"tool": "keep", "points": [1, 2, 3]}])
