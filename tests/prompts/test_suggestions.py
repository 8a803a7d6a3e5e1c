"""Live suggestions: word completions, earlier prompts, missing slots; instant and local."""

from __future__ import annotations

from imagestudio_nb.prompts import PromptHistory, parse_prompt, suggest


def test_a_half_typed_word_is_completed_from_the_slot_vocabulary():
    first = suggest("a fox at golden h")[0]
    assert first.kind == "complete" and first.text == "a fox at golden hour" and first.slot == "lighting"
    assert suggest("a castle, cinem")[0].text == "a castle, cinematic"


def test_missing_slots_are_suggested_in_order_of_value_from_the_style():
    items = suggest("a fox in the snow, ", style="watercolor", limit=7)
    assert [s.kind for s in items] == ["slot"] * 6
    assert [s.slot for s in items] == ["medium", "style", "lighting", "composition", "colour", "detail"]
    assert items[0].text == "a fox in the snow, watercolor painting"
    for item in items:
        assert parse_prompt(item.text).has(item.slot)


def test_filled_slots_are_not_suggested_again():
    items = suggest("a fox, oil painting, golden hour, close-up", limit=10)
    assert not {"medium", "lighting", "composition"} & {s.slot for s in items if s.kind == "slot"}


def test_mid_word_slot_suggestions_build_on_the_completion():
    items = suggest("a fox at golden h", limit=5)
    slots = [s for s in items if s.kind == "slot"]
    assert slots and all(s.text.startswith("a fox at golden hour, ") for s in slots)
    assert "lighting" not in {s.slot for s in slots}


def test_history_suggestions_come_best_rated_first():
    history = PromptHistory(":memory:")
    history.add("a red fox in the snow, watercolor")
    history.add("a red panda eating bamboo", assets=["a" * 64])
    history.rate(5, asset="a" * 64)
    items = [s for s in suggest("a red", history=history) if s.kind == "history"]
    assert [s.text for s in items] == ["a red panda eating bamboo", "a red fox in the snow, watercolor"]
    assert "rated 5.0" in items[0].label
    # an empty box shows the prompts that worked
    assert [s.text for s in suggest("", history=history)] == ["a red panda eating bamboo"]


def test_a_projects_own_prompts_can_be_passed_as_strings():
    project_prompts = ["a teal teapot, studio light", "a teal teapot, studio light", "a teal mug"]
    items = [s for s in suggest("teal teap", history=project_prompts) if s.kind == "history"]
    assert items[0].text == "a teal teapot, studio light" and "used 2×" in items[0].label
    assert "a teal mug" not in [s.text for s in items]


def test_limit_and_odd_input():
    assert len(suggest("a cat", limit=2)) == 2
    assert suggest("a cat", limit=0) == [] and suggest(None) == []
    assert suggest("") == []
    texts = [s.text for s in suggest("a cat", limit=10)]
    assert len(texts) == len(set(texts))
