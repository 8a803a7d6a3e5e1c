"""``enhance()``: choose the engine (local rules or the Azure OpenAI chat deployment), and fall back to
the local engine, saying so, whenever the LLM engine is unavailable in ``auto`` mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import Settings
from ..errors import ConfigError, ImageStudioError, InvalidArgumentError, UnsupportedParameterError
from .enhancement import Enhancement
from .rules import enhance_local

ENGINES = ("auto", "local", "llm")


def _settings(settings: Settings | None, notes: list[str]) -> Settings | None:
    if settings is not None:
        return settings
    from ..config import load_config

    try:
        return load_config()
    except ConfigError as exc:
        notes.append(f"the configuration could not be read ({exc}); used defaults")
        return None


def enhance(prompt: str, *, style: str | None = None, context: str | Mapping[str, Any] | None = None,
            language: str | None = None, engine: str = "auto", settings: Settings | None = None) -> Enhancement:
    """Enhance an image prompt: an improved prompt, an explanation per change, and alternatives.

    Parameters
    ----------
    prompt : str
        The user's prompt.
    style : str, optional
        A style preset (``list_styles()``): its phrases fill the empty slots and its filter chain is
        suggested in ``Enhancement.filters``. Without one, the project's or the settings'
        ``default_style`` applies, else a preset inferred from the prompt, else ``"general"``.
    context : str or mapping, optional
        The project's context, so that new images stay consistent: a description, or a mapping of
        slot names (``subject``, ``medium``, ``style``, ``lighting``, ``composition``, ``lens``,
        ``colour``, ``detail``) plus ``size`` (``"1536x1024"``). A mapping's ``style`` names a preset.
    language : str, optional
        The language to write the result in (default English). Only the LLM engine translates; the
        local engine flags a prompt that is not in English.
    engine : {"auto", "local", "llm"}
        ``local``: offline rules, deterministic. ``llm``: the chat deployment named by
        ``settings.chat_deployment``; its errors are raised. ``auto``: the LLM when one is configured,
        the local engine otherwise or when the LLM fails (then ``fell_back`` is true and a note says why).
    settings : Settings, optional
        Loaded from the config file and environment when not given.

    Returns
    -------
    Enhancement

    Raises
    ------
    InvalidArgumentError
        For an empty prompt.
    UnsupportedParameterError
        For an unknown engine or style, naming the allowed values.
    ConfigError, CredentialsError, ContentFilterError, RateLimitError, ProviderError
        With ``engine="llm"`` only, when the chat deployment is missing or fails.

    Examples
    --------
    >>> from imagestudio_nb.config import Settings
    >>> e = enhance("a lighthouse on a cliff", style="cinematic", engine="local", settings=Settings())
    >>> e.engine, e.style, e.filters[0]["filter"]
    ('local', 'cinematic', 'contrast')
    >>> e.prompt.startswith("a lighthouse on a cliff, cinematic film still")
    True
    """
    if engine not in ENGINES:
        raise UnsupportedParameterError("engine", engine, ENGINES)
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidArgumentError("prompt must be a non-empty string")
    notes: list[str] = []
    settings = _settings(settings, notes)
    default_style = settings.default_style if settings is not None else None
    local = enhance_local(prompt, style=style, context=context, language=language, default_style=default_style)
    local.notes[:0] = notes
    if engine == "local":
        return local

    from .azure_chat import ChatEngine, chat_configured

    if engine == "auto" and (settings is None or not chat_configured(settings)):
        local.notes.insert(0, "the local engine answered: no chat deployment is configured "
                              "(set chat_deployment to use the LLM engine)")
        return local
    try:
        if settings is None:
            raise ConfigError("the configuration could not be read, so no chat deployment is known")
        with ChatEngine(settings) as chat:
            result = chat.enhance(prompt, style=style, context=context, language=language, hints=local)
    except (InvalidArgumentError, UnsupportedParameterError):
        raise
    except ImageStudioError as exc:
        if engine == "llm":
            raise
        local.notes.insert(0, f"the LLM engine was unavailable ({type(exc).__name__}: {exc}); "
                              "the local engine enhanced the prompt instead")
        local.fell_back = True
        return local
    result.notes[:0] = notes
    return result
