"""The consistency score flags drift in colour, edges and texture, and not a change of subject in the same look."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.imaging.style_metrics import consistency, describe_style


def warm_poster(seed: int, shape: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.full((128, 128, 3), (235, 205, 160), np.uint8)
    colour = tuple(int(v) for v in (200 + rng.integers(0, 30), 80 + rng.integers(0, 20), 40))
    if shape == "circle":
        cv2.circle(image, (64, 64), 40, colour, -1)
    else:
        cv2.rectangle(image, (24, 30), (104, 100), colour, -1)
    return image


def test_same_look_other_subject_is_consistent_and_recoloured_or_busy_images_drift():
    references = [warm_poster(i, "circle") for i in range(3)]
    same_look = warm_poster(9, "square")
    recoloured = same_look[..., ::-1].copy()  # the same square in cold colours
    busy = data.astronaut()[:128, :128]  # a photo: other colours, many edges, other texture
    report = consistency(references, [same_look, recoloured, busy])
    assert report.drifted == [1, 2]
    assert report.scores[0] > report.scores[1] and report.scores[0] > report.scores[2]
    assert report.distances[1]["palette"] > 1 and report.distances[2]["edges"] > report.distances[0]["edges"]


def test_one_reference_and_no_reference():
    report = consistency([warm_poster(0, "circle")], [warm_poster(0, "circle")])
    assert report.scores == [1.0] and report.drifted == []
    with pytest.raises(InvalidArgumentError):
        consistency([], [warm_poster(0, "circle")])


def test_description_names_temperature_and_detail():
    assert describe_style([warm_poster(0, "circle")]).startswith("warm")
    cold_busy = describe_style([data.coffee()[..., ::-1].copy()])
    assert "cool" in cold_busy or "neutral" in cold_busy
    assert "few edges" not in describe_style([data.astronaut()])
