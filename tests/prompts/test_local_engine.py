"""The local engine: deterministic, fills the empty slots from the style and the context, explains itself."""

from __future__ import annotations

import pytest

from imagestudio_nb.config import Settings
from imagestudio_nb.errors import InvalidArgumentError, UnsupportedParameterError
from imagestudio_nb.prompts import SLOTS, enhance, enhance_local, get_style, parse_prompt


def test_parse_prompt_reads_every_slot():
    parsed = parse_prompt("oil painting of an old fisherman, impressionist, golden hour, close-up, 85mm, "
                          "muted earthy palette, visible brushstrokes")
    assert parsed.subject == "an old fisherman"
    assert parsed.slots["medium"] == ["oil painting"]
    assert parsed.slots["style"] == ["impressionist"]
    assert parsed.slots["lighting"] == ["golden hour"]
    assert parsed.slots["composition"] == ["close-up"]
    assert parsed.slots["lens"] == ["85mm"]
    assert parsed.slots["colour"] == ["muted earthy palette"]
    assert parsed.slots["detail"] == ["visible brushstrokes"]
    assert parsed.missing == []


def test_local_engine_is_deterministic(offline_settings):
    runs = [enhance("a lighthouse on a cliff", style="cinematic", engine="local", settings=offline_settings)
            for _ in range(3)]
    assert len({r.prompt for r in runs}) == 1
    assert len({tuple(r.alternatives) for r in runs}) == 1
    assert [c.slot for c in runs[0].added] == ["medium", "style", "lighting", "composition", "lens", "colour", "detail"]


def test_local_engine_fills_only_the_missing_slots_and_keeps_the_users_words():
    prompt = "a red fox at golden hour, close-up"
    result = enhance_local(prompt, style="photographic")
    assert result.prompt.startswith(prompt + ", ")
    added = {c.slot for c in result.added}
    assert "lighting" not in added and "composition" not in added
    assert {"medium", "style", "lens", "detail"} <= added
    assert all(c.reason and c.source == "style:photographic" for c in result.added)
    assert parse_prompt(result.prompt).missing == []


def test_enhancing_an_enhanced_prompt_adds_nothing():
    for style in ("photographic", "watercolor", "pixel_art", "noir", "general"):
        first = enhance_local("a cat asleep on a windowsill", style=style)
        second = enhance_local(first.prompt, style=style)
        assert second.prompt == first.prompt, style
        assert second.added == []


def test_every_style_changes_the_prompt_differently():
    prompts = {s: enhance_local("a small cabin by a lake", style=s).prompt
               for s in ("photographic", "watercolor", "anime", "isometric", "pixel_art", "noir")}
    assert len(set(prompts.values())) == len(prompts)
    assert "watercolor painting" in prompts["watercolor"]
    assert "pixel art" in prompts["pixel_art"]


def test_alternatives_differ_from_the_main_prompt_and_each_other():
    result = enhance_local("a bowl of ramen", style="photographic")
    assert len(result.alternatives) == 2
    assert len({result.prompt, *result.alternatives}) == 3
    assert all(a.startswith("a bowl of ramen, ") for a in result.alternatives)


def test_style_suggests_a_filter_chain():
    result = enhance_local("a street at night", style="noir")
    assert result.filters == get_style("noir").filter_chain()
    assert [step["filter"] for step in result.filters][:2] == ["saturation", "contrast"]
    result.filters[0]["params"]["amount"] = 0.5  # a copy: the preset is not changed
    assert get_style("noir").filter_chain()[0]["params"]["amount"] == -1.0


def test_context_fills_slots_the_style_leaves_open_and_size_sets_the_framing():
    result = enhance_local("a teapot", context={"colour": "brand teal and cream palette", "size": "1536x1024"})
    assert "brand teal and cream palette" in result.prompt
    assert "wide horizontal composition" in result.prompt
    sources = {c.slot: c.source for c in result.added}
    assert sources["colour"] == "context" and sources["composition"] == "context"


def test_explicit_style_wins_over_context_and_context_style_over_inference():
    explicit = enhance_local("a teapot", style="watercolor", context={"medium": "3d render"})
    assert "watercolor painting" in explicit.prompt and "3d render" not in explicit.prompt
    project = enhance_local("a teapot", context={"style": "pixel_art"})
    assert project.style == "pixel_art" and "pixel art" in project.prompt


def test_context_subject_fills_a_prompt_without_one():
    result = enhance_local("watercolor, golden hour", context={"subject": "a lighthouse"})
    assert result.prompt.startswith("a lighthouse, watercolor")
    assert result.changes[0].slot == "subject"


def test_settings_default_style_applies_when_no_style_is_given():
    result = enhance("a teapot", engine="local", settings=Settings(default_style="anime"))
    assert result.style == "anime"
    assert "anime" in result.prompt


def test_style_is_inferred_from_the_prompt_and_said():
    result = enhance_local("a logo for a bakery")
    assert result.style == "flat_vector"
    assert any("'logo'" in n for n in result.notes)


def test_no_lens_for_a_painted_medium():
    result = enhance_local("oil painting of a harbour", style="photographic")
    assert "lens" not in {c.slot for c in result.added}
    assert "mm" not in result.prompt
    assert any("not a photograph" in n for n in result.notes)


def test_added_phrases_never_contradict_the_prompt():
    black_and_white = enhance_local("a black and white photo of a city street", style="anime")
    assert parse_prompt(black_and_white.prompt).conflicts == []
    # anime's first two style phrases name anime, which contradicts "photo": the third is used.
    assert "studio ghibli style" in black_and_white.prompt
    minimalist = enhance_local("a minimalist poster of a mountain", style="fantasy_art")
    assert parse_prompt(minimalist.prompt).conflicts == []
    # fantasy_art's first detail ("highly detailed, intricate") contradicts minimalism.
    assert "intricate" not in minimalist.prompt
    assert "painterly detail, atmospheric depth" in minimalist.prompt


def test_clashes_and_vague_words_are_flagged_not_removed():
    result = enhance_local("a nice cartoon of a cool dog", style="photographic")
    assert "cartoon" in result.prompt and "nice" in result.prompt
    text = " ".join(result.notes)
    assert "'cartoon' clashes with the photographic style" in text
    assert "'nice'" in text and "'cool'" in text


def test_cleanup_removes_repeated_phrases_and_says_so():
    result = enhance_local("a cat,  a cat , sleeping,,")
    assert result.prompt.startswith("a cat, sleeping,")
    assert [c.action for c in result.changes if c.source == "cleanup"] == ["cleanup"]


def test_empty_prompt_and_unknown_style_or_engine_are_refused():
    with pytest.raises(InvalidArgumentError):
        enhance_local("   ")
    with pytest.raises(UnsupportedParameterError, match="allowed: general, photographic"):
        enhance_local("a cat", style="vaporwave-ish")
    with pytest.raises(UnsupportedParameterError, match="allowed: auto, local, llm"):
        enhance("a cat", engine="gpt")


def test_local_engine_says_it_cannot_translate():
    result = enhance_local("un chat noir sur le toit de la maison", language="de")
    assert result.language == "fr" and not result.translated
    text = " ".join(result.notes)
    assert "French" in text and "engine='llm'" in text and "language='de'" in text


def test_result_serialises_to_plain_data():
    import json

    data = enhance_local("a cat", style="anime").to_dict()
    assert json.loads(json.dumps(data))["engine"] == "local"
    assert set(data["slots"]) <= set(SLOTS)


def test_inference_passes_over_a_preset_the_prompt_contradicts():
    result = enhance_local("a cartoon of a dog")
    assert result.style == "general"  # a dog suggests a photograph, but "cartoon" clashes with it
    assert "photograph" not in result.prompt
    assert parse_prompt(result.prompt).conflicts == []


def test_the_projects_own_slot_values_win_over_the_projects_preset():
    result = enhance_local("a ceramic teapot", context={"style": "product_studio", "colour": "brand teal palette"})
    assert result.style == "product_studio"
    assert "brand teal palette" in result.prompt and "clean neutral palette" not in result.prompt
    assert "softbox studio lighting" in result.prompt
    phrase = enhance_local("a ceramic teapot", context={"style": "art deco"})
    assert "art deco" in phrase.prompt and {c.slot: c.source for c in phrase.added}["style"] == "context"
