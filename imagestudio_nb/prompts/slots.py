"""Reading a prompt into slots (subject, medium, style, lighting, composition, lens, colour, detail).

The vocabulary comes from ``data/lexicon.toml`` plus every phrase of every style preset. Matching is
case-insensitive on word boundaries, longest phrase first, and compiled once per process, so parsing
a prompt costs tens of microseconds. Nothing here touches the network or the disk beyond package data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .styles import SLOTS, STYLE_SLOTS, _read_data, list_styles

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
_SEGMENT = re.compile(r"[,;.\n]+")


@dataclass(frozen=True)
class Conflict:
    """Two terms of a prompt that contradict each other."""

    first: str
    second: str
    reason: str


@dataclass
class ParsedPrompt:
    """What the local engine reads in a prompt."""

    text: str
    subject: str
    slots: dict[str, list[str]]
    words: list[str]
    content_words: list[str]
    vague_words: list[str]
    conflicts: list[Conflict] = field(default_factory=list)

    def has(self, slot: str) -> bool:
        """Whether the prompt fills ``slot``."""
        if slot == "subject":
            return bool(self.subject_words)
        return bool(self.slots.get(slot))

    @property
    def subject_words(self) -> list[str]:
        lexicon = _lexicon()
        return [w for w in _words(self.subject) if w not in lexicon.stopwords and w not in lexicon.vague]

    @property
    def filled(self) -> list[str]:
        """The slots the prompt fills, in slot order."""
        return [slot for slot in SLOTS if self.has(slot)]

    @property
    def missing(self) -> list[str]:
        """The slots the prompt leaves empty, in slot order."""
        return [slot for slot in SLOTS if not self.has(slot)]


@dataclass(frozen=True)
class _Lexicon:
    slot_of: dict[str, str]
    terms: re.Pattern
    patterns: tuple[tuple[str, re.Pattern], ...]
    vague: frozenset[str]
    vague_phrases: tuple[str, ...]
    stopwords: frozenset[str]
    prefixes: re.Pattern
    conflicts: tuple[tuple[re.Pattern, re.Pattern, str], ...]
    phrases: dict[str, tuple[str, ...]]


def _bounded(alternatives: list[str]) -> str:
    body = "|".join(re.escape(a) for a in sorted(set(alternatives), key=len, reverse=True))
    return rf"(?<![\w-])(?:{body})(?![\w-])"


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    data = _read_data("lexicon.toml")
    slot_of: dict[str, str] = {}
    phrases: dict[str, list[str]] = {slot: [] for slot in STYLE_SLOTS}
    # Style phrases first so that a preset's whole phrase ("85mm lens, shallow depth of field") keeps its slot.
    for preset in list_styles():
        for slot in STYLE_SLOTS:
            for phrase in preset.options.get(slot, ()):
                slot_of.setdefault(phrase.lower(), slot)
                phrases[slot].append(phrase)
    patterns = []
    for slot in STYLE_SLOTS:
        spec = data["slots"].get(slot, {})
        for term in spec.get("terms", ()):
            slot_of.setdefault(term.lower(), slot)
            phrases[slot].append(term)
        patterns.extend((slot, re.compile(p, re.IGNORECASE)) for p in spec.get("patterns", ()))
    vocab = data["vocabulary"]
    vague = [v for v in vocab["vague"] if " " not in v]
    conflicts = tuple((re.compile(_bounded(a.lower().split("|")), re.IGNORECASE),
                       re.compile(_bounded(b.lower().split("|")), re.IGNORECASE), reason)
                      for a, b, reason in data["conflicts"]["pairs"])
    prefixes = re.compile(r"^(?:\s*(?:" + "|".join(re.escape(p) for p in sorted(vocab["subject_prefixes"],
                                                                                  key=len, reverse=True))
                          + r")(?![\w-]))+", re.IGNORECASE)
    return _Lexicon(slot_of, re.compile(_bounded(list(slot_of)), re.IGNORECASE), tuple(patterns),
                    frozenset(vague), tuple(v for v in vocab["vague"] if " " in v), frozenset(vocab["stopwords"]),
                    prefixes, conflicts, {k: tuple(dict.fromkeys(v)) for k, v in phrases.items()})


_LEADING = re.compile(r"^(?:(?:a|an|the)\s+(?=(?:of|with|in|on|at|by|and|for)\b)|(?:of|with|in|on|at|by|and|for)\s+)",
                      re.IGNORECASE)
_TRAILING = re.compile(r"\s+(?:of|with|in|on|at|by|and|for|a|an|the|under|over|during)$", re.IGNORECASE)


def _trim_subject(text: str) -> str:
    # Taking slot phrases out leaves dangling articles and prepositions ("a  of a cat at").
    previous = None
    while previous != text:
        previous = text
        text = _TRAILING.sub("", _LEADING.sub("", text.strip()))
    return text


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def slot_phrases(slot: str) -> tuple[str, ...]:
    """Every phrase the local engine knows for ``slot`` (style presets' first, then the lexicon).

    Examples
    --------
    >>> "golden hour" in slot_phrases("lighting")
    True
    """
    return _lexicon().phrases.get(slot, ())


@lru_cache(maxsize=4096)
def conflict_groups(text: str) -> tuple[tuple[bool, bool], ...]:
    """For each conflict pair, whether ``text`` holds a term of its first and of its second group.

    The local engine uses this to check, cheaply, that a phrase it adds contradicts nothing already there.
    """
    return tuple((first.search(text) is not None, second.search(text) is not None)
                 for first, second, _ in _lexicon().conflicts)


def find_conflicts(text: str) -> list[Conflict]:
    """Return the pairs of contradicting terms in ``text``.

    Examples
    --------
    >>> [c.reason for c in find_conflicts("a black and white photo, vibrant colors")]
    ['a monochrome image cannot be colourful']
    """
    found = []
    for first, second, reason in _lexicon().conflicts:
        a, b = first.search(text), second.search(text)
        if a and b and not (a.start() < b.end() and b.start() < a.end()):
            found.append(Conflict(a.group(0), b.group(0), reason))
    return found


def parse_prompt(text: str) -> ParsedPrompt:
    """Read ``text`` into slots, its subject, its words and its contradictions.

    Parameters
    ----------
    text : str
        A prompt in English (other languages parse, but few of their words are recognised).

    Returns
    -------
    ParsedPrompt
        ``slots`` maps each slot to the phrases found for it; ``subject`` is the first clause with
        medium, style, lighting, composition, lens and detail phrases taken out.

    Examples
    --------
    >>> p = parse_prompt("watercolor painting of a fox at golden hour, close-up")
    >>> p.subject, p.slots["medium"], p.slots["lighting"], p.slots["composition"]
    ('a fox', ['watercolor painting'], ['golden hour'], ['close-up'])
    >>> p.missing
    ['style', 'lens', 'colour', 'detail']
    """
    lexicon = _lexicon()
    candidates = [(m.start(), m.end(), lexicon.slot_of[m.group(0).lower()]) for m in lexicon.terms.finditer(text)]
    for slot, pattern in lexicon.patterns:
        candidates.extend((m.start(), m.end(), slot) for m in pattern.finditer(text))
    # Longest phrase wins; an overlapping shorter one is dropped.
    chosen: list[tuple[int, int, str]] = []
    for start, end, slot in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, slot))
    chosen.sort()
    slots: dict[str, list[str]] = {slot: [] for slot in STYLE_SLOTS}
    for start, end, slot in chosen:
        phrase = text[start:end].strip()
        if phrase.lower() not in (p.lower() for p in slots[slot]):
            slots[slot].append(phrase)
    # The subject: the first clause without the non-colour slot phrases.
    masked = list(text)
    for start, end, slot in chosen:
        if slot != "colour":
            masked[start:end] = " " * (end - start)
    masked_text = "".join(masked)
    subject = ""
    for segment in _SEGMENT.split(masked_text):
        candidate = _trim_subject(lexicon.prefixes.sub("", " ".join(segment.split())))
        if any(w not in lexicon.stopwords for w in _words(candidate)):
            subject = candidate
            break
    words = _words(text)
    rest = _words(masked_text)
    vague = [w for w in rest if w in lexicon.vague]
    lowered = text.lower()
    vague += [p for p in lexicon.vague_phrases if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", lowered)]
    content = [w for w in words if w not in lexicon.stopwords and w not in lexicon.vague]
    return ParsedPrompt(text, subject, slots, words, content, vague, find_conflicts(text))
