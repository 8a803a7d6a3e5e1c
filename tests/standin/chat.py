"""Chat completion routes of the stand-in (Azure OpenAI deployment and v1 forms). Owned by issue 9."""

from __future__ import annotations


def register(app, standin) -> None:
    """Add the chat routes to ``app``."""
