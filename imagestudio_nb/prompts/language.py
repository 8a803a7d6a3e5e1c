"""Offline language flags for prompts (``data/languages.toml``): which language a prompt is in, well
enough to tell English from the rest. It never translates: that is the LLM engine's job.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .styles import _read_data

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)

# Letters that belong to one or two Latin-script languages only.
_MARKS = {"ß": ("de",), "ñ": ("es",), "ã": ("pt",), "õ": ("pt",), "ç": ("fr", "pt", "tr"),
          "ł": ("pl",), "ą": ("pl",), "ę": ("pl",), "ś": ("pl",), "ż": ("pl",), "ź": ("pl",), "ń": ("pl",),
          "ğ": ("tr",), "ş": ("tr",), "ı": ("tr",), "ä": ("de",), "ö": ("de", "tr"), "ü": ("de", "tr"),
          "è": ("fr", "it"), "ê": ("fr", "pt"), "à": ("fr", "it"), "â": ("fr", "pt"), "î": ("fr",),
          "ô": ("fr", "pt"), "û": ("fr",), "œ": ("fr",), "ì": ("it",), "ò": ("it",), "ù": ("it", "fr")}


@dataclass(frozen=True)
class LanguageGuess:
    """The language a text seems to be in."""

    code: str
    name: str
    confidence: float

    @property
    def is_english(self) -> bool:
        return self.code == "en"


@dataclass(frozen=True)
class _Languages:
    words: dict[str, frozenset[str]]
    names: dict[str, str]
    blocks: tuple[tuple[str, str, int, int], ...]


@lru_cache(maxsize=1)
def _languages() -> _Languages:
    data = _read_data("languages.toml")
    words = {code: frozenset(spec["words"]) for code, spec in data["latin"].items()}
    names = {code: spec["name"] for code, spec in data["latin"].items()}
    blocks = tuple((code, name, int(lo, 16), int(hi, 16)) for code, name, lo, hi in data["scripts"]["blocks"])
    names.update({code: name for code, name, _, _ in blocks})
    # Every English word the slot lexicon knows is English evidence too ("watercolor", "cinematic").
    from .slots import _lexicon

    english = set(words["en"])
    for phrase in _lexicon().slot_of:
        english.update(w for w in _WORD.findall(phrase) if len(w) > 3)
    words["en"] = frozenset(english)
    return _Languages(words, names, blocks)


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of ``text``, offline, in microseconds.

    Non-Latin scripts are recognised by their Unicode blocks; Latin-script languages (English, French,
    German, Spanish, Italian, Portuguese, Dutch, Polish, Turkish) by function words, common prompt
    nouns and letters only some of them use. Text with too little evidence counts as English.

    Examples
    --------
    >>> detect_language("a red fox in the snow, watercolor").code
    'en'
    >>> detect_language("un chat noir sur le toit de la maison, aquarelle").code
    'fr'
    >>> detect_language("夕暮れの東京の街並み").name
    'Japanese'
    """
    languages = _languages()
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return LanguageGuess("en", "English", 0.0)
    script_counts: dict[str, int] = {}
    for char in letters:
        point = ord(char)
        for code, _, lo, hi in languages.blocks:
            if lo <= point <= hi:
                script_counts[code] = script_counts.get(code, 0) + 1
                break
    other = sum(script_counts.values())
    if other / len(letters) > 0.3:
        # Kana mark Japanese even when kanji (shared with Chinese) are the majority.
        code = "ja" if script_counts.get("ja") else max(script_counts, key=script_counts.get)
        return LanguageGuess(code, languages.names[code], round(other / len(letters), 2))
    words = [w.lower() for w in _WORD.findall(text)]
    scores = {code: 0.0 for code in languages.words}
    for word in words:
        for code, vocabulary in languages.words.items():
            if word in vocabulary:
                scores[code] += 1.0
    for char in unicodedata.normalize("NFC", text.lower()):
        for code in _MARKS.get(char, ()):
            scores[code] += 0.75
    best = max(scores, key=lambda c: (scores[c], c == "en"))
    total = sum(scores.values())
    # English wins ties and thin evidence: a foreign flag needs two clues and a clear lead.
    if best == "en" or scores[best] < 2 or scores[best] <= 1.25 * scores["en"]:
        confidence = scores["en"] / total if total else 0.0
        return LanguageGuess("en", "English", round(confidence, 2))
    return LanguageGuess(best, languages.names[best], round(scores[best] / total, 2))


def language_name(code_or_name: str) -> str:
    """The English name of a language code this module knows (``"de"`` -> ``"German"``); other text as given.

    Examples
    --------
    >>> language_name("de"), language_name("Klingon")
    ('German', 'Klingon')
    """
    return _languages().names.get(code_or_name.strip().lower(), code_or_name.strip())


def language_note(text: str) -> str | None:
    """Return a note for a prompt that is not in English, or ``None`` for English.

    Examples
    --------
    >>> language_note("a lighthouse at dusk") is None
    True
    """
    guess = detect_language(text)
    if guess.is_english:
        return None
    return (f"the prompt seems to be in {guess.name} ({guess.code}); image models follow English prompts best. "
            "The local engine does not translate: use engine='llm' (a configured chat deployment) to translate it")
