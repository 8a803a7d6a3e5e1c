"""The filter registry and the rules every filter keeps: identity, alpha, shape, dtype, clear errors."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

from imagestudio_nb.errors import InvalidArgumentError, UnsupportedParameterError
from imagestudio_nb.imaging import filters as F
from imagestudio_nb.imaging.filters import CATEGORIES, filter_names, get_filter, list_filters

ISSUE_FILTERS = {
    "colour": {
        "brightness",
        "contrast",
        "saturation",
        "hue",
        "exposure",
        "temperature",
        "vibrance",
        "shadows_highlights",
        "levels",
        "curves",
    },
    "blur": {"gaussian_blur", "motion_blur", "zoom_blur", "unsharp_mask", "sharpen"},
    "distortion": {"wave", "ripple", "swirl", "perspective"},
    "artistic": {"oil_painting", "watercolor", "pencil_sketch", "cartoon", "posterize"},
    "lighting": {"vignette", "ambient_light", "drop_shadow"},
    "texture": {"texture_overlay"},
    "vintage": {"sepia", "black_white", "film_grain", "faded"},
}
ALL = filter_names()


def sample(h: int = 40, w: int = 56, *, alpha: bool = False, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.dstack([x * 255 / max(w - 1, 1), y * 255 / max(h - 1, 1), (x + y) * 255 / max(w + h - 2, 1)])
    img = np.clip(base + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)
    if alpha:
        a = np.zeros((h, w), np.uint8)
        a[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 255
        a[: h // 8] = 128
        img = np.dstack([img, a])
    return img


def test_registry_holds_every_filter_the_issue_names_in_its_category():
    for category, names in ISSUE_FILTERS.items():
        assert names <= set(filter_names(category)), category
    assert set(CATEGORIES) == set(ISSUE_FILTERS)


def test_schemas_are_json_with_typed_ranged_parameters():
    schemas = list_filters()
    assert json.loads(json.dumps(schemas)) == schemas
    assert [s["name"] for s in schemas] == sorted(
        ALL, key=lambda n: (CATEGORIES.index(get_filter(n).category), n)
    )
    for schema in schemas:
        assert schema["category"] in CATEGORIES and schema["description"]
        for p in schema["params"]:
            assert set(p) >= {"name", "type", "default", "min", "max", "unit", "description"}, p
            assert p["description"], (schema["name"], p["name"])
            if p["type"] in ("float", "int"):
                assert p["min"] <= p["default"] <= p["max"], (schema["name"], p)
        spec = get_filter(schema["name"])
        assert spec.validate({}) == {p["name"]: p["default"] for p in schema["params"]}
        assert spec.validate(schema["identity"])  # identity parameters are valid values


def test_list_filters_by_category_and_refuses_unknown_category():
    assert {s["name"] for s in list_filters("blur")} == set(filter_names("blur"))
    with pytest.raises(UnsupportedParameterError, match="colour, blur"):
        list_filters("sparkle")


@pytest.mark.parametrize("name", ALL)
def test_public_function_defaults_match_the_schema(name):
    public = getattr(F, name)
    signature = inspect.signature(public.__wrapped__)
    defaults = {k: v.default for k, v in signature.parameters.items() if k not in ("image", "load_asset")}
    assert defaults == get_filter(name).defaults
    assert "Parameters" in public.__doc__ and "Examples" in public.__doc__


@pytest.mark.parametrize("alpha", [False, True], ids=["rgb", "rgba"])
@pytest.mark.parametrize("name", ALL)
def test_identity_parameters_give_the_input_back(name, alpha):
    img = sample(alpha=alpha)
    out = getattr(F, name)(img, **get_filter(name).identity)
    assert out is not img
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize("alpha", [False, True], ids=["rgb", "rgba"])
@pytest.mark.parametrize("name", ALL)
def test_defaults_keep_shape_dtype_alpha_and_input(name, alpha):
    img = sample(alpha=alpha)
    before = img.copy()
    spec = get_filter(name)
    out = getattr(F, name)(img)
    np.testing.assert_array_equal(img, before)  # input untouched
    assert out.shape == img.shape and out.dtype == np.uint8
    if not alpha:
        return
    if spec.alpha == "kept":
        np.testing.assert_array_equal(out[..., 3], img[..., 3])
    elif spec.alpha == "extended":
        assert (out[..., 3] >= img[..., 3]).all()
    else:  # moved: alpha goes where the same filter sends a grey image of it
        grey = np.repeat(img[..., 3:], 3, axis=2)
        expected = getattr(F, name)(grey)[..., 0].astype(int)
        assert np.abs(out[..., 3].astype(int) - expected).max() <= 1


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (3, 2), (17, 9)])
def test_any_size_works(name, shape):
    img = sample(*shape, alpha=True)
    out = getattr(F, name)(img)
    assert out.shape == img.shape


@pytest.mark.parametrize("name", ["brightness", "gaussian_blur", "swirl", "oil_painting", "vignette"])
def test_non_contiguous_views_are_accepted(name):
    img = sample(40, 56)
    view = img[::2, ::-1]
    np.testing.assert_array_equal(getattr(F, name)(view), getattr(F, name)(np.ascontiguousarray(view)))


def test_out_of_range_parameter_names_the_range():
    with pytest.raises(UnsupportedParameterError, match=r"brightness\.amount=2\.0.*-1\.\.1"):
        F.brightness(sample(), amount=2.0)
    with pytest.raises(UnsupportedParameterError, match=r"gaussian_blur\.sigma=-1.*0\.\.200 px"):
        F.gaussian_blur(sample(), sigma=-1)


def test_wrong_types_are_refused_with_the_allowed_values():
    with pytest.raises(UnsupportedParameterError, match="a number in"):
        F.contrast(sample(), amount="strong")
    with pytest.raises(UnsupportedParameterError, match="a number in"):
        F.contrast(sample(), amount=True)
    with pytest.raises(UnsupportedParameterError, match="an integer in 1..500"):
        F.motion_blur(sample(), length=2.5)
    with pytest.raises(UnsupportedParameterError, match="horizontal, vertical, both"):
        F.wave(sample(), direction="diagonal")
    with pytest.raises(UnsupportedParameterError, match="#rrggbb"):
        F.ambient_light(sample(), color="orange")
    with pytest.raises(UnsupportedParameterError, match="x increasing"):
        F.curves(sample(), rgb=[[0, 0], [0, 10], [255, 255]])
    with pytest.raises(UnsupportedParameterError, match="four"):
        F.perspective(sample(), points=[[0, 0], [1, 0], [1, 1]])
    with pytest.raises(UnsupportedParameterError, match="true or false"):
        F.pencil_sketch(sample(), color="yes")


def test_unknown_parameter_lists_the_known_ones():
    with pytest.raises(UnsupportedParameterError, match="radius.*allowed: sigma"):
        F.gaussian_blur(sample(), radius=3)


def test_unknown_filter_lists_the_known_ones():
    with pytest.raises(UnsupportedParameterError, match="filter='blurr'.*gaussian_blur"):
        get_filter("blurr")


def test_bad_images_are_refused():
    with pytest.raises(InvalidArgumentError, match="uint8"):
        F.brightness(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(InvalidArgumentError, match=r"\(H, W, 3\)"):
        F.brightness(np.zeros((4, 4), np.uint8))


def test_levels_refuses_white_point_below_black_point():
    with pytest.raises(UnsupportedParameterError, match="above in_black"):
        F.levels(sample(), in_black=200, in_white=100)


def test_pixel_parameters_are_marked_and_scale_for_previews():
    spec = get_filter("gaussian_blur")
    assert spec.to_dict()["params"][0]["unit"] == "px"
    assert spec.scaled({"sigma": 8.0}, 0.25) == {"sigma": 2.0}
    motion = get_filter("motion_blur")
    assert motion.scaled({"length": 15, "angle": 30.0}, 0.1) == {"length": 2, "angle": 30.0}
