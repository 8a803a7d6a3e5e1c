"""Templates render with their variables and save as user files; style presets are consistent data."""

from __future__ import annotations

import importlib.util

import pytest

from imagestudio_nb.errors import InvalidArgumentError, NotFoundError, UnsupportedParameterError
from imagestudio_nb.prompts import (SLOTS, Template, delete_template,
                                    get_style, get_template, list_styles, list_templates, parse_prompt,
                                    render_template, save_template, style_filters)

EXPECTED_TEMPLATES = {"product_shot", "portrait", "landscape", "logo", "social_post", "concept_art"}
EXPECTED_STYLES = {"photographic", "watercolor", "anime", "isometric", "pixel_art"}


def test_the_issue_s_templates_and_styles_ship():
    assert EXPECTED_TEMPLATES <= {t.name for t in list_templates()}
    assert EXPECTED_STYLES <= {s.name for s in list_styles()}


def test_every_builtin_template_renders_its_example_and_names_real_styles():
    for template in list_templates():
        text = template.example()
        assert "{" not in text and "}" not in text, template.name
        assert parse_prompt(text).has("subject"), template.name
        if template.style:
            get_style(template.style)


def test_render_fills_defaults_and_refuses_missing_or_unknown_variables():
    text = render_template("product_shot", product="a green glass bottle")
    assert text.startswith("a green glass bottle on a polished concrete pedestal")
    assert render_template("product_shot", {"product": "a mug", "surface": "a slate tile"}).startswith(
        "a mug on a slate tile")
    with pytest.raises(InvalidArgumentError, match=r"needs values for: product \(the product"):
        render_template("product_shot")
    with pytest.raises(UnsupportedParameterError, match="allowed: product, surface"):
        render_template("product_shot", product="a mug", colour="red")
    with pytest.raises(NotFoundError, match="available: product_shot"):
        get_template("nope")


def test_user_templates_are_saved_listed_shadow_builtins_and_deleted(tmp_path):
    folder = tmp_path / "templates"
    mine = Template(name="pet_portrait", text="a portrait of {pet} wearing {costume}", description="pets", source="user")
    assert set(mine.variables) == {"pet", "costume"}
    path = save_template(mine, folder)
    assert path == folder / "pet_portrait.toml"
    assert get_template("pet_portrait", folder).render(pet="a pug", costume="a tiny crown") == \
        "a portrait of a pug wearing a tiny crown"
    with pytest.raises(InvalidArgumentError, match="overwrite=True"):
        save_template(mine, folder)
    shadow = Template(name="logo", text="my logo for {brand}", source="user")
    save_template(shadow, folder)
    assert get_template("logo", folder).source == "user"
    assert get_template("logo").source == "builtin"
    delete_template("logo", folder)
    assert get_template("logo", folder).source == "builtin"
    with pytest.raises(NotFoundError):
        delete_template("logo", folder)
    assert [p.name for p in folder.iterdir()] == ["pet_portrait.toml"]


def test_a_broken_user_template_file_does_not_hide_the_others(tmp_path):
    (tmp_path / "broken.toml").write_text("text = [unclosed", encoding="utf-8")
    save_template(Template(name="ok", text="a {thing}", source="user"), tmp_path)
    names = {t.name for t in list_templates(tmp_path)}
    assert "ok" in names and "broken" not in names


def test_templates_refuse_attribute_access_and_bad_names(tmp_path):
    with pytest.raises(InvalidArgumentError, match="not a plain name"):
        Template(name="evil", text="{prompt.__class__.__mro__}")
    with pytest.raises(InvalidArgumentError, match="not a plain name"):
        Template(name="evil", text="{prompt!r:>99}")
    with pytest.raises(InvalidArgumentError, match="template name"):
        Template(name="../escape", text="a {thing}")


def test_every_style_phrase_reads_back_into_its_own_slot():
    for style in list_styles():
        for slot, options in style.options.items():
            for phrase in options:
                assert parse_prompt(f"a cat, {phrase}").slots[slot], (style.name, slot, phrase)


def test_style_options_are_slots_and_avoid_terms_are_plain_words():
    for style in list_styles():
        assert set(style.options) == set(SLOTS[1:])
        assert style.title and style.description
        assert all(isinstance(term, str) and term for term in style.avoid)


def test_style_names_accept_user_spellings():
    assert get_style("Pixel Art").name == "pixel_art"
    assert get_style("3d render").name == "render_3d"
    assert get_style("watercolour").name == "watercolor"


def test_style_filter_chains_are_valid_for_the_filter_registry():
    chains = {s.name: style_filters(s.name) for s in list_styles()}
    assert all(isinstance(step["params"], dict) for chain in chains.values() for step in chain)
    if importlib.util.find_spec("imagestudio_nb.imaging.filters") is None:
        pytest.fail("imagestudio_nb.imaging.filters is missing: the style chains cannot be checked")
    from imagestudio_nb.imaging.filters import get_filter

    for name, chain in chains.items():
        for step in chain:
            get_filter(step["filter"]).validate(step["params"])  # raises naming the bad parameter


def test_a_style_chain_applies_to_an_image():
    import numpy as np

    from imagestudio_nb.imaging.filters import get_filter

    image = np.full((16, 16, 3), 128, np.uint8)
    image[4:12, 4:12] = (200, 60, 30)
    out = image
    for step in style_filters("noir"):
        spec = get_filter(step["filter"])
        out = spec.run(out, spec.validate(step["params"]))
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.ptp(out.astype(int), axis=2).max() <= 2  # noir desaturates fully
