"""Image routes of the stand-in (generations, edits; Azure OpenAI and Foundry/BFL). Owned by issue 4."""

from __future__ import annotations


def register(app, standin) -> None:
    """Add the image routes to ``app``."""
