"""Offline language flags: English passes, other languages are named."""

from __future__ import annotations

import pytest

from imagestudio_nb.prompts import detect_language, language_note


@pytest.mark.parametrize("text", [
    "a cat", "cinematic portrait, golden hour, 85mm", "a portrait of a woman in the rain",
    "Paris at night, café terrace", "smiling chef with a red umbrella", "neon city, 8k",
])
def test_english_prompts_are_not_flagged(text):
    assert detect_language(text).is_english
    assert language_note(text) is None


@pytest.mark.parametrize("text, code", [
    ("un chat noir sur le toit de la maison, aquarelle", "fr"),
    ("eine rote Katze im Wald bei Nacht", "de"),
    ("un perro en la playa al atardecer", "es"),
    ("un gatto nero sul tetto della casa", "it"),
    ("uma casa na floresta com um gato", "pt"),
    ("een oude vrouw in de tuin", "nl"),
    ("kot na dachu w nocy", "pl"),
    ("bir kedi bahçede", "tr"),
    ("кошка на крыше", "ru"),
    ("一只猫在屋顶上", "zh"),
    ("夕暮れの東京の街並み", "ja"),
    ("고양이가 지붕 위에 있다", "ko"),
])
def test_other_languages_are_named(text, code):
    guess = detect_language(text)
    assert guess.code == code
    assert not guess.is_english
    note = language_note(text)
    assert guess.name in note and "engine='llm'" in note


def test_text_without_letters_counts_as_english():
    assert detect_language("1234 !!").code == "en"
