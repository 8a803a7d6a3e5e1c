"""The 0-100 rubric: vague prompts score low, specific ones high, contradictions cost points."""

from __future__ import annotations

from imagestudio_nb.prompts import RUBRIC, enhance_local, score

SPECIFIC = ("a tabby cat asleep on a sunlit windowsill, film photograph, cinematic, soft window light, "
            "close-up, 50mm lens, warm tones, fine fur detail")


def test_rubric_adds_up_to_100_and_the_breakdown_sums_to_the_total():
    assert sum(RUBRIC.values()) == 100
    result = score(SPECIFIC)
    assert [c.name for c in result.criteria] == list(RUBRIC)
    assert sum(result.breakdown().values()) == result.total
    assert all(0 <= c.points <= c.max_points for c in result.criteria)


def test_a_vague_prompt_scores_lower_than_a_specific_one():
    vague, specific = score("something cool"), score(SPECIFIC)
    assert vague.total < 20 < 85 <= specific.total
    assert vague.breakdown()["subject"] == 0
    assert "vague" in vague.criteria[0].detail
    assert specific.breakdown()["subject"] == RUBRIC["subject"]


def test_each_slot_raises_its_criterion():
    base = score("a lighthouse on a cliff")
    lit = score("a lighthouse on a cliff, golden hour")
    framed = score("a lighthouse on a cliff, wide shot")
    styled = score("a lighthouse on a cliff, watercolor painting")
    assert lit.breakdown()["lighting"] > base.breakdown()["lighting"]
    assert framed.breakdown()["composition"] > base.breakdown()["composition"]
    assert styled.breakdown()["style"] > base.breakdown()["style"]


def test_conflicting_terms_are_penalised_and_named():
    clean = score("a black and white photo of a street, close-up, film grain")
    clash = score("a black and white photo of a street, close-up, wide shot, vibrant colors")
    assert clean.breakdown()["conflicts"] == RUBRIC["conflicts"]
    assert clash.breakdown()["conflicts"] == 0
    detail = clash.criteria[-1].detail
    assert "'black and white' vs 'vibrant'" in detail and "'close-up' vs 'wide shot'" in detail
    assert "remove one side of each contradiction" in clash.hints


def test_length_rewards_the_useful_range():
    assert score("cat").breakdown()["length"] == 0
    assert score(SPECIFIC).breakdown()["length"] == RUBRIC["length"]
    assert score(", ".join(["a very long prompt about a cat"] * 40)).breakdown()["length"] < RUBRIC["length"]


def test_hints_point_at_what_is_missing_first():
    result = score("a dog in a park")
    assert result.hints[0].startswith("add concrete details") or result.hints[0].startswith("name a medium")
    assert any("light" in h for h in result.hints)


def test_enhancement_raises_the_score():
    for prompt in ("a cat", "a dog in a park", "a logo for a bakery", "a castle"):
        assert score(enhance_local(prompt).prompt).total > score(prompt).total + 30, prompt


def test_a_non_english_prompt_gets_a_note():
    result = score("un chat noir sur le toit de la maison")
    assert result.language == "fr"
    assert any("French" in n for n in result.notes)


def test_llm_judgement_without_a_chat_deployment_is_a_note_not_an_error(offline_settings):
    result = score("a cat", settings=offline_settings, llm=True)
    assert result.llm is None
    assert any("no chat deployment" in n for n in result.notes)
