"""Prompt enhancement: a local rules engine and an Azure OpenAI chat engine, templates, style presets,
quality scoring, offline language flags, prompt history and live suggestions.

Everything here works offline except the LLM engine, which is used only when a chat deployment is
configured (``chat_deployment``) and falls back to the local engine, saying so, in ``auto`` mode.
"""

from .enhancement import Change, Enhancement
from .enhancer import ENGINES, enhance
from .history import HistoryEntry, PromptHistory, default_history_path, record_generation
from .language import LanguageGuess, detect_language, language_note
from .rules import enhance_local, infer_style
from .scoring import RUBRIC, Criterion, Score, score
from .slots import ParsedPrompt, parse_prompt
from .styles import SLOTS, StylePreset, get_style, list_styles, style_filters
from .suggestions import Suggestion, suggest
from .templates import (Template, Variable, delete_template, get_template, list_templates, render_template,
                        save_template, user_templates_dir)

__all__ = [
    "ENGINES", "RUBRIC", "SLOTS", "Change", "ChatEngine", "Criterion", "Enhancement", "HistoryEntry",
    "LanguageGuess", "LlmJudgement", "ParsedPrompt", "PromptHistory", "Score", "StylePreset", "Suggestion",
    "Template", "Variable", "chat_configured", "default_history_path", "delete_template", "detect_language",
    "enhance", "enhance_local", "get_style", "get_template", "infer_style", "language_note", "list_styles",
    "list_templates", "parse_prompt", "record_generation", "render_template", "save_template", "score",
    "style_filters", "suggest", "user_templates_dir",
]


def __getattr__(name: str):
    # The LLM engine pulls in the openai SDK (about 0.3 s); load it only when it is asked for.
    if name in ("ChatEngine", "LlmJudgement", "chat_configured"):
        from . import azure_chat

        return getattr(azure_chat, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
