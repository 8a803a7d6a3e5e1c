"""What an enhancement returns: the new prompt, one explanation per change, alternatives, the engine
used and any note (a fallback, a language flag, a clash). Plain data; no engine logic lives here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["add", "cleanup", "translate", "rewrite", "note"]


@dataclass(frozen=True)
class Change:
    """One change to a prompt, and why.

    ``slot`` is one of ``SLOTS`` (or ``"prompt"`` for changes to the whole text); ``source`` says where
    the text came from: ``"style:<name>"``, ``"context"``, ``"cleanup"`` or ``"llm"``.
    """

    slot: str
    text: str
    reason: str
    source: str
    action: Action = "add"


@dataclass
class Enhancement:
    """The result of :func:`imagestudio_nb.prompts.enhance`."""

    original: str
    prompt: str
    engine: Literal["local", "llm"]
    changes: list[Change] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)
    style: str | None = None
    #: The filter chain the style suggests, ``[{"filter": name, "params": {...}}]``.
    filters: list[dict[str, Any]] = field(default_factory=list)
    #: The language the original prompt seems to be in (ISO 639-1).
    language: str = "en"
    translated: bool = False
    #: Notes for the user: a fallback to the local engine, a language flag, clashing terms.
    notes: list[str] = field(default_factory=list)
    #: The slots of the enhanced prompt: slot -> phrases.
    slots: dict[str, list[str]] = field(default_factory=dict)
    #: True when the LLM engine was wanted but the local engine produced this result.
    fell_back: bool = False
    #: Token usage and the deployment, when the LLM engine answered.
    usage: dict[str, Any] = field(default_factory=dict)

    @property
    def note(self) -> str | None:
        """All notes in one line, or ``None``."""
        return "; ".join(self.notes) if self.notes else None

    @property
    def added(self) -> list[Change]:
        """The changes that added a phrase."""
        return [c for c in self.changes if c.action == "add"]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for the CLI and widgets)."""
        data = asdict(self)
        data["note"] = self.note
        return data

    def explain(self) -> str:
        """A short human-readable account: the prompt, each change with its reason, the notes."""
        lines = [f"[{self.engine}] {self.prompt}"]
        lines += [f"  + {c.slot}: {c.text!r} ({c.reason})" if c.action == "add"
                  else f"  ~ {c.slot}: {c.text!r} ({c.reason})" for c in self.changes]
        lines += [f"  alternative: {a}" for a in self.alternatives]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.prompt
