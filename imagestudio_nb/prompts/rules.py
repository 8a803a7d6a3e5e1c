"""The local, deterministic enhancer: it reads a prompt into slots and fills the empty ones from the
chosen style preset and the project's context, explaining each addition.

It never removes the user's words (it only tidies whitespace and repeated phrases), never calls the
network, and returns the same result for the same input on every machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..errors import InvalidArgumentError
from .enhancement import Change, Enhancement
from .language import detect_language, language_note
from .slots import conflict_groups, parse_prompt
from .styles import STYLE_SLOTS, StylePreset, _read_data, get_style

#: The preset used when neither the call, the context nor the settings name a style.
DEFAULT_STYLE = "general"

# Media that are drawn or painted: a camera lens means nothing for them.
_DRAWN = re.compile(r"paint|watercolou?r|gouache|drawing|sketch|illustration|pixel|vector|line art|comic|manga|"
                    r"anime|cartoon|ink|woodcut|linocut|engraving|etching|mosaic|collage|embroidery|crayon|"
                    r"pastel drawing|sticker|logo|icon|voxel|low poly|stained glass|mural|fresco|tapestry",
                    re.IGNORECASE)

_REASONS = {
    "medium": "names the medium, so the model knows what kind of image to make",
    "style": "sets the visual style",
    "lighting": "says how the scene is lit, which sets mood and depth",
    "composition": "says how the subject is framed",
    "lens": "gives photographic optics: focal length, aperture, depth of field",
    "colour": "sets the colour palette",
    "detail": "asks for finish and detail",
}


@lru_cache(maxsize=1)
def _inference() -> tuple[tuple[str, re.Pattern], ...]:
    table = _read_data("lexicon.toml")["inference"]
    return tuple((name, re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in sorted(words, key=len,
                                                                                           reverse=True))
                                   + r")(?![\w-])", re.IGNORECASE)) for name, words in table.items())


def infer_style(prompt: str) -> tuple[str, str] | None:
    """Guess a style preset from the prompt's words: ``(preset, word)``, or ``None``.

    Examples
    --------
    >>> infer_style("a logo for a bakery")
    ('flat_vector', 'logo')
    >>> infer_style("an abstract shape") is None
    True
    """
    lowered = prompt.lower()
    for name, pattern in _inference():
        found = pattern.search(prompt)
        # A preset the prompt already contradicts ("a cartoon of a dog" is no photograph) is passed over.
        if found and not any(re.search(rf"(?<![\w-]){re.escape(term.lower())}(?![\w-])", lowered)
                             for term in get_style(name).avoid):
            return name, found.group(0)
    return None


def clean_prompt(prompt: str) -> tuple[str, list[Change]]:
    """Tidy whitespace, stray punctuation and repeated comma-separated phrases.

    Examples
    --------
    >>> clean_prompt("  a cat ,  a cat, sleeping ,, ")[0]
    'a cat, sleeping'
    """
    changes = []
    text = " ".join(prompt.split())
    parts = [p.strip() for p in re.split(r"\s*,\s*", text)]
    seen, kept = set(), []
    for part in parts:
        if not part:
            continue
        key = part.lower()
        if key in seen:
            changes.append(Change("prompt", part, "removed a repeated phrase", "cleanup", "cleanup"))
            continue
        seen.add(key)
        kept.append(part)
    cleaned = ", ".join(kept).strip(" ,;")
    return cleaned, changes


def _context_slots(context: str | Mapping[str, Any] | None) -> dict[str, str]:
    if not context:
        return {}
    if isinstance(context, str):
        parsed = parse_prompt(context)
        found = {slot: ", ".join(parsed.slots[slot]) for slot in STYLE_SLOTS if parsed.slots[slot]}
        if parsed.subject:
            found["subject"] = parsed.subject
        return found
    found = {}
    for key, value in context.items():
        slot = {"color": "colour", "palette": "colour", "camera": "lens"}.get(key, key)
        if slot in (*STYLE_SLOTS, "subject") and isinstance(value, str) and value.strip():
            found[slot] = " ".join(value.split())
    size = context.get("size")
    if "composition" not in found and isinstance(size, str) and re.fullmatch(r"\d+x\d+", size):
        width, height = (int(v) for v in size.split("x"))
        if width > 1.2 * height:
            found["composition"] = "wide horizontal composition"
        elif height > 1.2 * width:
            found["composition"] = "vertical composition"
    return found


def _fits(present: list[tuple[bool, bool]], phrase: str) -> bool:
    # A phrase must not add a contradiction to what the prompt already says (``present`` holds, per
    # conflict pair, whether the text so far has a term of each side).
    return not any((pa and b) or (pb and a) for (pa, pb), (a, b) in zip(present, conflict_groups(phrase)))


def _merge(present: list[tuple[bool, bool]], phrase: str) -> list[tuple[bool, bool]]:
    return [(pa or a, pb or b) for (pa, pb), (a, b) in zip(present, conflict_groups(phrase))]


def _fill(text: str, parsed, style: StylePreset | None, fallback: StylePreset, context: dict[str, str],
          index: int, record: bool) -> tuple[str, list[Change], list[str]]:
    changes: list[Change] = []
    notes: list[str] = []
    added: list[str] = []
    drawn = bool(parsed.slots["medium"]) and bool(_DRAWN.search(" ".join(parsed.slots["medium"])))
    present = list(conflict_groups(text))
    for slot in STYLE_SLOTS:
        if parsed.slots[slot]:
            if record and slot == "medium" and style is not None and style.options.get("medium"):
                notes.append(f"kept the prompt's medium {parsed.slots['medium'][0]!r} over the {style.name} "
                             "style's")
            continue
        if slot == "lens" and drawn:
            if record and (style or fallback).options.get("lens"):
                notes.append(f"no lens added: the medium {parsed.slots['medium'][0]!r} is not a photograph")
            continue
        sources: list[tuple[str | None, str]] = []
        preset = style or fallback
        values = preset.options.get(slot, ())
        ordered = [preset.option(slot, index + k) for k in range(len(values))] if values else []
        if style is not None:
            sources += [(v, f"style:{style.name}") for v in ordered]
        if slot in context:
            sources.append((context[slot], "context"))
        if style is None:
            sources += [(v, f"style:{fallback.name}") for v in ordered]
        for phrase, source in sources:
            if phrase and _fits(present, phrase):
                added.append(phrase)
                present = _merge(present, phrase)
                if slot == "medium":
                    drawn = bool(_DRAWN.search(phrase))
                where = "the project's context" if source == "context" else f"the {source[6:]} style"
                changes.append(Change(slot, phrase, f"{_REASONS[slot]} (from {where})", source))
                break
        else:
            if sources and record:
                notes.append(f"left {slot} empty: every option of the style contradicts the prompt")
    return ", ".join([text, *added]), changes, notes


def enhance_local(prompt: str, *, style: str | None = None, context: str | Mapping[str, Any] | None = None,
                  language: str | None = None, default_style: str | None = None) -> Enhancement:
    """Enhance ``prompt`` offline by filling its empty slots; see :func:`imagestudio_nb.prompts.enhance`.

    Parameters
    ----------
    prompt : str
        The user's prompt.
    style : str, optional
        A style preset name; its phrases win over the context's.
    context : str or mapping, optional
        The project's context: a description, or a mapping of slot names (``subject``, ``medium``,
        ``style``, ``lighting``, ``composition``, ``lens``, ``colour``, ``detail``) and ``size``.
        A mapping's ``style`` key names the project's preset, used when ``style`` is not given.
    language : str, optional
        The language wanted for the result; the local engine writes English only and says so.
    default_style : str, optional
        The preset to fall back on (``settings.default_style``); ``"general"`` otherwise.

    Returns
    -------
    Enhancement

    Raises
    ------
    InvalidArgumentError
        For an empty prompt.
    UnsupportedParameterError
        For an unknown style, listing the presets.

    Examples
    --------
    >>> e = enhance_local("a fox in the snow", style="watercolor")
    >>> e.prompt
    'a fox in the snow, watercolor painting, loose wet-on-wet washes, soft diffused daylight, airy composition with white negative space, soft pastel palette, visible paper texture, soft bleeding edges'
    >>> [c.slot for c in e.added]
    ['medium', 'style', 'lighting', 'composition', 'colour', 'detail']
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidArgumentError("prompt must be a non-empty string")
    text, changes = clean_prompt(prompt)
    notes: list[str] = []
    context_slots = _context_slots(context)
    context_style = None
    if isinstance(context, Mapping) and isinstance(context.get("style"), str):
        # The context's "style" names the project's preset, or else it is a style phrase ("art deco").
        try:
            context_style = get_style(context["style"]).name
            context_slots.pop("style", None)
        except InvalidArgumentError:
            pass
    chosen = get_style(style) if style else None
    fallback_name = context_style or default_style
    if fallback_name is None and chosen is None:
        inferred = infer_style(text)
        fallback_name = inferred[0] if inferred else DEFAULT_STYLE
        notes.append(f"no style chosen: used the {fallback_name!r} preset"
                     + (f" (the prompt mentions {inferred[1]!r})" if inferred else "") + "; pass style= to choose")
    fallback_name = fallback_name or DEFAULT_STYLE
    try:
        fallback = get_style(fallback_name)
    except InvalidArgumentError:
        notes.append(f"the project's style {fallback_name!r} is unknown; used {DEFAULT_STYLE!r}")
        fallback = get_style(DEFAULT_STYLE)
    preset = chosen or fallback

    parsed = parse_prompt(text)
    if not parsed.has("subject"):
        if "subject" in context_slots:
            text = f"{context_slots['subject']}, {text}"
            changes.append(Change("subject", context_slots["subject"],
                                  "the prompt names no clear subject; took the project's", "context"))
            parsed = parse_prompt(text)
        else:
            notes.append("no clear subject: say what the image shows (who or what, doing what, where)")
    guess = detect_language(text)
    flag = language_note(text)
    if flag:
        notes.append(flag)
    if language and language.lower() not in ("en", "english"):
        notes.append(f"the local engine writes English only; language={language!r} needs engine='llm'")

    enhanced, added, fill_notes = _fill(text, parsed, chosen, fallback, context_slots, 0, True)
    changes += added
    notes += fill_notes
    alternatives = []
    for index in (1, 2):
        alternative, _, _ = _fill(text, parsed, chosen, fallback, context_slots, index, False)
        if alternative not in (enhanced, *alternatives):
            alternatives.append(alternative)

    lowered = text.lower()
    clashes = [term for term in preset.avoid
               if re.search(rf"(?<![\w-]){re.escape(term.lower())}(?![\w-])", lowered)]
    if clashes and (chosen is not None):
        verb = "clashes" if len(clashes) == 1 else "clash"
        notes.append(f"{', '.join(repr(t) for t in clashes)} {verb} with the {preset.name} style; consider removing")
    for conflict in parsed.conflicts:
        notes.append(f"{conflict.first!r} and {conflict.second!r} contradict: {conflict.reason}")
    if parsed.vague_words:
        words = ", ".join(repr(w) for w in dict.fromkeys(parsed.vague_words))
        notes.append(f"{words} tell the model little; describe what makes it so")
    final = parse_prompt(enhanced)
    return Enhancement(original=prompt, prompt=enhanced, engine="local", changes=changes,
                       alternatives=alternatives, style=preset.name, filters=preset.filter_chain(),
                       language=guess.code, translated=False, notes=notes,
                       slots={k: v for k, v in {"subject": [final.subject], **final.slots}.items() if v and v[0]})
