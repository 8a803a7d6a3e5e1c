"""Live suggestions while a prompt is typed: word completions from the slot vocabulary, the missing
slots filled from a style, and earlier prompts from the history. Local and instant (well under a
millisecond without history); the PromptPanel debounces keystrokes and calls :func:`suggest`.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .rules import infer_style
from .slots import parse_prompt, slot_phrases
from .styles import STYLE_SLOTS, get_style

# Most valuable first (the rubric's weights): a medium and style matter more than a lens.
_SLOT_ORDER = ("medium", "style", "lighting", "composition", "colour", "detail", "lens")


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: ``text`` is the whole prompt if accepted, ``insert`` the part it adds."""

    text: str
    insert: str
    kind: Literal["complete", "history", "slot"]
    label: str
    slot: str | None = None


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[list[str], dict[str, tuple[str, str]]]:
    index: dict[str, tuple[str, str]] = {}
    for slot in STYLE_SLOTS:
        for phrase in slot_phrases(slot):
            index.setdefault(phrase.lower(), (phrase, slot))
    return sorted(index), index


def _completions(partial: str, limit: int) -> list[Suggestion]:
    if not partial or not re.search(r"\w$", partial):
        return []  # the last word is finished (space or comma typed)
    keys, index = _vocabulary()
    segment = re.split(r"[,;.]", partial)[-1]
    words = re.findall(r"\S+", segment)
    found: list[Suggestion] = []
    seen: set[str] = set()
    # Try the longest tail first ("golden h" before "h"), so multi-word phrases complete as a whole.
    for size in range(min(3, len(words)), 0, -1):
        tail = " ".join(words[-size:]).lower()
        if len(tail) < 2:
            continue
        start = bisect.bisect_left(keys, tail)
        for key in keys[start:start + 50]:
            if not key.startswith(tail):
                break
            if key == tail or key in seen:
                continue
            phrase, slot = index[key]
            seen.add(key)
            head = partial[: partial.lower().rfind(tail)]
            found.append(Suggestion(head + phrase, phrase[len(tail):], "complete", f"{phrase} ({slot})", slot))
            if len(found) >= limit:
                return found
    return found


def _from_history(partial: str, history, limit: int) -> list[Suggestion]:
    if history is None or limit <= 0:
        return []
    if hasattr(history, "complete"):
        entries = history.top_rated(limit=limit) if not partial.strip() else history.complete(partial, limit=limit)
        items = [(e.prompt, f"history · rated {e.rating:.1f} ({e.ratings})" if e.rating else
                  f"history · used {e.uses}×") for e in entries]
    else:
        words = [w.lower() for w in re.findall(r"\w+", partial)]
        counts = Counter(" ".join(str(p).split()) for p in history if isinstance(p, str) and p.strip())
        matches = []
        for text, uses in counts.most_common():
            lowered = text.lower()
            tokens = re.findall(r"\w+", lowered)
            if words and not (all(w in tokens for w in words[:-1]) and any(t.startswith(words[-1]) for t in tokens)):
                continue
            matches.append((text, f"project history · used {uses}×"))
            if len(matches) >= limit:
                break
        items = matches
    typed = " ".join(partial.split()).lower()
    return [Suggestion(text, text, "history", label) for text, label in items if text.lower() != typed]


def _slots(partial: str, style: str | None, limit: int) -> list[Suggestion]:
    if not partial.strip() or limit <= 0:
        return []
    parsed = parse_prompt(partial)
    if style:
        preset = get_style(style)
    else:
        inferred = infer_style(partial)
        preset = get_style(inferred[0] if inferred else "general")
    base = partial.rstrip(" ,;")
    found = []
    for slot in _SLOT_ORDER:
        if parsed.slots[slot]:
            continue
        phrase = preset.option(slot)
        if phrase is None:
            continue
        found.append(Suggestion(f"{base}, {phrase}", f", {phrase}", "slot", f"add {slot}: {phrase}", slot))
        if len(found) >= limit:
            break
    return found


def suggest(partial_prompt: str, *, history=None, limit: int = 5, style: str | None = None) -> list[Suggestion]:
    """Suggestions for a prompt being typed, best first; local and instant.

    Parameters
    ----------
    partial_prompt : str
        What the user has typed so far.
    history : PromptHistory or iterable of str, optional
        Earlier prompts: a :class:`~imagestudio_nb.prompts.history.PromptHistory` (matched with FTS5,
        best rated first) or a project's own prompts as strings (most used first). With an empty
        prompt, the best-rated prompts are suggested.
    limit : int
        At most this many suggestions.
    style : str, optional
        The style preset the missing slots are filled from (inferred from the prompt otherwise).

    Returns
    -------
    list of Suggestion
        Word completions first (``kind="complete"``), then earlier prompts (``"history"``), then
        the slots the prompt still misses (``"slot"``), in the rubric's order of value.

    Examples
    --------
    >>> [s.text for s in suggest("a fox at golden h", limit=1)]
    ['a fox at golden hour']
    >>> suggest("a fox at golden hour, ", limit=2, style="watercolor")[0].label
    'add medium: watercolor painting'
    """
    if not isinstance(partial_prompt, str) or limit <= 0:
        return []
    results: list[Suggestion] = []
    results += _completions(partial_prompt, min(2, limit))
    results += _from_history(partial_prompt, history, min(2, limit - len(results)))
    # Mid-word, the slots are suggested on top of the best completion, not the half-typed word.
    base = results[0].text if results and results[0].kind == "complete" else partial_prompt
    results += _slots(base, style, limit - len(results))
    unique, seen = [], set()
    for item in results:
        if item.text not in seen:
            seen.add(item.text)
            unique.append(item)
    return unique[:limit]
