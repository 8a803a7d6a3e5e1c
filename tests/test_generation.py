"""generate() and edit() on the offline provider: determinism, parameters, provenance, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from imagestudio_nb import Project, edit, generate
from imagestudio_nb.errors import InvalidArgumentError, UnknownModelError, UnsupportedParameterError
from imagestudio_nb.imaging.codec import decode_image, sniff_format


def test_same_prompt_seed_and_size_give_identical_bytes():
    a = generate("a red fox at dawn", seed=7, size="512x512")
    b = generate("a red fox at dawn", seed=7, size="512x512")
    c = generate("a red fox at dawn", seed=8, size="512x512")
    assert a[0].data == b[0].data
    assert a[0].data != c[0].data


def test_default_is_the_offline_local_model_at_1024():
    result = generate("a quiet harbour")[0]
    assert result.record["provider"] == "local"
    assert result.image.shape == (1024, 1024, 3) or result.image.shape == (1024, 1024, 4)


def test_n_images_get_consecutive_seeds_and_distinct_content():
    results = generate("three apples", n=3, seed=10, size="256x256", progress=False)
    assert [r.seed for r in results] == [10, 11, 12]
    assert len({r.asset for r in results}) == 3


def test_a_seed_is_chosen_and_recorded_when_none_is_given():
    result = generate("a bridge", size="256x256")[0]
    again = generate("a bridge", size="256x256", seed=result.seed)[0]
    assert result.seed is not None and result.data == again.data


def test_transparent_background_gives_alpha():
    result = generate("a logo", size="256x256", seed=1, background="transparent")[0]
    assert result.image.shape[2] == 4
    assert result.image[128, 0, 3] == 0 or result.image[..., 3].min() == 0


@pytest.mark.parametrize("fmt, magic", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_output_formats(fmt, magic):
    assert sniff_format(generate("a kite", size="256x256", seed=1, output_format=fmt)[0].data) == magic


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(UnknownModelError, match="available: local"):
        generate("x", model="imaginary-model")


def test_unsupported_size_lists_the_allowed_sizes():
    with pytest.raises(UnsupportedParameterError, match="allowed: 1024x1024, 256x256"):
        generate("x", size="999x999")


@pytest.mark.parametrize("n", [0, 11, 2.5])
def test_n_out_of_range_names_the_range(n):
    with pytest.raises(UnsupportedParameterError, match="from 1 to 10"):
        generate("x", n=n)


def test_unknown_option_and_bad_values_are_named():
    with pytest.raises(UnsupportedParameterError, match="quality='ultra'.*low, medium, high, auto"):
        generate("x", quality="ultra")
    with pytest.raises(UnsupportedParameterError, match="moderation"):
        generate("x", moderation="low")
    with pytest.raises(InvalidArgumentError, match="prompt"):
        generate("   ")


def test_results_are_stored_with_a_full_provenance_record(workspace):
    project = Project.create("Provenance")
    results = generate("a red fox at dawn", seed=7, size="256x256", project="Provenance", n=2, progress=False)
    record = Project.open("Provenance").generations()[0]
    assert record["id"] == results.record["id"]
    assert record["provider"] == "local" and record["model"] == "local"
    assert record["request"] == {"prompt": "a red fox at dawn", "model": "local", "size": "256x256", "n": 2,
                                 "seed": 7, "quality": None, "background": None, "output_format": None,
                                 "style": None, "options": {}}
    assert record["assets"] == [r.asset for r in results]
    assert record["seeds"] == [7, 8] and record["user"] == "tester" and record["status"] == "ok"
    assert record["timings"]["provider_ms"] > 0
    assert {a.hash for a in project.assets.list()} == set(record["assets"])
    assert all(a.source == f"generation:{record['id']}" for a in project.assets.list())


def test_results_show_as_pictures_in_a_notebook():
    results = generate("a boat", size="256x256", seed=1, n=2, progress=False)
    sheet = decode_image(results._repr_png_())
    assert sheet.shape[1] > 256 * 2
    assert sniff_format(results[0]._repr_png_()) == "PNG"


def test_edit_with_a_numpy_mask_changes_only_the_masked_area(workspace):
    source = np.full((256, 256, 3), 30, np.uint8)
    mask = np.zeros((256, 256), bool)
    mask[64:192, 64:192] = True
    result = edit("paint a sun", source, mask=mask, size="256x256", seed=3, project=Project.create("Edits"))[0]
    out = result.image[..., :3].astype(int)
    assert np.all(out[:32, :32] == 30)  # outside the mask: untouched
    assert np.abs(out[64:192, 64:192] - 30).mean() > 20  # inside: repainted
    record = result.record
    assert record["kind"] == "edit" and len(record["request"]["images"]) == 1 and record["request"]["mask"]
    assert set(record["request"]["images"]) <= {a.hash for a in Project.open("Edits").assets.list()}


def test_edit_accepts_pil_images_and_masks():
    source = Image.new("RGB", (256, 256), (200, 10, 10))
    mask = Image.new("L", (256, 256), 0)
    result = edit("nothing to change", source, mask=mask, size="256x256", seed=1)[0]
    assert np.all(result.image[..., :3] == (200, 10, 10))


def test_a_configured_default_quality_applies_only_where_the_model_knows_it(workspace):
    project = Project.create("Defaults")
    project.update_settings(default_quality="high")
    assert generate("a lamp", size="256x256", seed=1, project=project).record["request"]["quality"] == "high"
    project.update_settings(default_quality="hd")  # a dall-e-3 word: the local model does not know it
    assert generate("a lamp", size="256x256", seed=1, project=project).record["request"]["quality"] is None


def test_pixels_are_decoded_only_when_used():
    result = generate("a kettle", size="256x256", seed=1)[0]
    assert result._image is None
    assert result.image.shape[:2] == (256, 256) and result._image is not None


def test_edit_with_a_canvas_mask_layer(workspace):
    project = Project.create("Masked", width=256, height=256)
    layer = project.add_layer("mask", strokes=[{"tool": "mask_add", "size": 60, "points": [128, 40, 128, 216]}])
    source = np.full((256, 256, 3), 30, np.uint8)
    result = edit("a candle", source, mask=project.layer(layer), size="256x256", seed=2, project=project)[0]
    out = result.image[..., :3].astype(int)
    assert np.all(out[:, :40] == 30)  # far from the stroke: untouched
    assert np.abs(out[60:200, 110:146] - 30).mean() > 20  # under the stroke: repainted
