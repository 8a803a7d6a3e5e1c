"""Prompt quality scoring: a 0-100 rubric computed locally (specificity, subject clarity, style,
lighting, composition, length, conflicting terms), with an LLM judgement added on request.

The rubric is deterministic and explains every point; it judges the text, not the images it makes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..config import Settings
from ..errors import ImageStudioError, InvalidArgumentError
from .language import detect_language
from .slots import ParsedPrompt, parse_prompt
from .styles import STYLE_SLOTS

#: Criterion -> maximum points; they add up to 100.
RUBRIC = {"specificity": 25, "subject": 20, "style": 15, "lighting": 10, "composition": 10, "length": 10,
          "conflicts": 10}


@dataclass(frozen=True)
class Criterion:
    """One line of the rubric: the points earned, the maximum, and why."""

    name: str
    points: int
    max_points: int
    detail: str


@dataclass
class Score:
    """The result of :func:`score`."""

    prompt: str
    total: int
    criteria: list[Criterion]
    #: What to add or fix, most valuable first.
    hints: list[str] = field(default_factory=list)
    language: str = "en"
    #: The model's judgement when ``llm=True`` and a chat deployment answered.
    llm: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def breakdown(self) -> dict[str, int]:
        """Criterion name -> points."""
        return {c.name: c.points for c in self.criteria}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __int__(self) -> int:
        return self.total


def _specificity(p: ParsedPrompt) -> Criterion:
    filled = [slot for slot in STYLE_SLOTS if p.slots[slot]]
    descriptive = len(set(p.content_words))
    points = 2 * len(filled) + min(11, descriptive // 2) - 2 * len(set(p.vague_words))
    points = max(0, min(RUBRIC["specificity"], points))
    detail = f"{len(filled)} of {len(STYLE_SLOTS)} slots filled, {descriptive} descriptive words"
    if p.vague_words:
        detail += f", vague: {', '.join(sorted(set(p.vague_words)))}"
    return Criterion("specificity", points, RUBRIC["specificity"], detail)


def _subject(p: ParsedPrompt) -> Criterion:
    words = p.subject_words
    if not words:
        return Criterion("subject", 0, RUBRIC["subject"], "no clear subject")
    if len(words) == 1:
        points, detail = 12, f"a bare subject ({p.subject!r}): add what it is like or doing"
    elif len(words) <= 10:
        points, detail = 20, f"clear subject: {p.subject!r}"
    else:
        points, detail = 14, f"the first clause runs long ({len(words)} words): lead with the subject"
    return Criterion("subject", points, RUBRIC["subject"], detail)


def _style(p: ParsedPrompt) -> Criterion:
    medium, style = bool(p.slots["medium"]), bool(p.slots["style"])
    points = 15 if medium and style else 10 if medium or style else 0
    named = ", ".join(p.slots["medium"] + p.slots["style"]) or "none"
    return Criterion("style", points, RUBRIC["style"], f"medium and style: {named}")


def _lighting(p: ParsedPrompt) -> Criterion:
    points = 10 if p.slots["lighting"] else 0
    return Criterion("lighting", points, RUBRIC["lighting"], f"lighting: {', '.join(p.slots['lighting']) or 'none'}")


def _composition(p: ParsedPrompt) -> Criterion:
    if p.slots["composition"]:
        points = 10
    elif p.slots["lens"]:
        points = 5
    else:
        points = 0
    named = ", ".join(p.slots["composition"] + p.slots["lens"]) or "none"
    return Criterion("composition", points, RUBRIC["composition"], f"framing and optics: {named}")


def _length(p: ParsedPrompt) -> Criterion:
    n = len(p.words)
    for limit, points in ((3, 0), (7, 4), (11, 7), (60, 10), (100, 7), (200, 4)):
        if n <= limit:
            break
    else:
        points = 0
    ideal = "12 to 60 words is the useful range"
    return Criterion("length", points, RUBRIC["length"], f"{n} words; {ideal}")


def _conflicts(p: ParsedPrompt) -> Criterion:
    if not p.words:
        return Criterion("conflicts", 0, RUBRIC["conflicts"], "nothing to judge")
    points = max(0, RUBRIC["conflicts"] - 5 * len(p.conflicts))
    detail = "; ".join(f"{c.first!r} vs {c.second!r}" for c in p.conflicts) or "no contradictions"
    return Criterion("conflicts", points, RUBRIC["conflicts"], detail)


_HINTS = {
    "subject": "say what the image shows: who or what, doing what, where",
    "style": "name a medium (photograph, watercolor, 3d render...) and a style",
    "lighting": "describe the light (golden hour, soft window light, neon glow...)",
    "composition": "describe the framing (close-up, wide shot, rule of thirds, top-down...)",
    "specificity": "add concrete details: materials, colours, textures, setting",
    "length": "aim for 12 to 60 words",
    "conflicts": "remove one side of each contradiction",
}


def score(prompt: str, *, settings: Settings | None = None, llm: bool = False) -> Score:
    """Score ``prompt`` from 0 to 100 by the rubric, locally; add the LLM's judgement when ``llm=True``.

    Parameters
    ----------
    prompt : str
        The prompt to judge.
    settings : Settings, optional
        For the LLM judgement (``chat_deployment``); loaded from the config when needed and not given.
    llm : bool
        Ask the chat deployment too. When it is not configured or fails, ``Score.notes`` says so and
        the local score stands alone.

    Returns
    -------
    Score
        ``total`` (the local rubric), ``criteria`` (points per criterion, with the reason), ``hints``
        (what would raise the score most) and ``llm`` (the model's score and comments, or ``None``).

    Raises
    ------
    InvalidArgumentError
        For a prompt that is not a string.

    Examples
    --------
    >>> score("a cat").total < score("a tabby cat asleep on a sunlit windowsill, soft window light, "
    ...                               "close-up, 50mm lens, film photograph, warm tones").total
    True
    >>> score("").total
    0
    """
    if not isinstance(prompt, str):
        raise InvalidArgumentError(f"prompt must be a string, not {type(prompt).__name__}")
    parsed = parse_prompt(prompt)
    criteria = [_specificity(parsed), _subject(parsed), _style(parsed), _lighting(parsed), _composition(parsed),
                _length(parsed), _conflicts(parsed)]
    total = sum(c.points for c in criteria)
    gaps = sorted((c for c in criteria if c.points < c.max_points), key=lambda c: c.points - c.max_points)
    hints = [_HINTS[c.name] for c in gaps]
    language = detect_language(prompt) if prompt.strip() else None
    result = Score(prompt, total, criteria, hints, language.code if language else "en")
    if language is not None and not language.is_english:
        result.notes.append(f"the prompt seems to be in {language.name}; the rubric reads English terms only, "
                            "so it may score low: translate it with engine='llm'")
    if llm and prompt.strip():
        from .azure_chat import ChatEngine

        try:
            if settings is None:
                from ..config import load_config

                settings = load_config()
            with ChatEngine(settings) as engine:
                judgement, usage = engine.judge(prompt)
            result.llm = {**judgement.model_dump(), "deployment": usage.get("deployment")}
        except ImageStudioError as exc:
            result.notes.append(f"no LLM judgement: {exc}")
    return result
