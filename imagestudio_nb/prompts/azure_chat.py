"""The LLM prompt engine: an Azure OpenAI chat deployment (``settings.chat_deployment``) answering in
structured JSON, validated with pydantic, for enhancement, translation and a quality judgement.

Both client forms work: ``AzureOpenAI`` with an api-version and the v1 ``OpenAI(base_url=.../openai/v1/)``
form (``api_version = "v1"``). Calls go through the providers layer's shared per-deployment limiter
and retry loop (429s wait for Retry-After). Every failure becomes a toolkit error; deciding whether to
fall back to the local engine is the caller's business. Keys never reach a message or a log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config import Settings
from ..errors import ConfigError, ContentFilterError, ProviderError
from ..providers.clients import DEFAULT_API_VERSION, deployment_client, is_v1, resolve_auth, v1_client
from ..providers.errors_map import ErrorContext, filtered_names
from ..providers.limiter import limiter_for
from ..providers.retry import RetryPolicy, call_with_retries
from .enhancement import Change, Enhancement
from .language import language_name
from .slots import parse_prompt
from .styles import SLOTS, get_style

#: A chat call sits behind a text box: fail over to the local engine quickly rather than wait minutes.
CHAT_POLICY = RetryPolicy(max_retries=2, max_rate_limit_retries=2, backoff_base=0.25, backoff_cap=2.0, timeout=30.0)


class LlmChange(BaseModel):
    model_config = ConfigDict(extra="ignore")

    slot: str
    text: str = Field(min_length=1, max_length=600)
    reason: str = Field(default="", max_length=600)

    @field_validator("slot")
    @classmethod
    def _known_slot(cls, value: str) -> str:
        value = value.strip().lower().replace("color", "colour")
        return value if value in (*SLOTS, "prompt") else "prompt"


class LlmEnhancementAnswer(BaseModel):
    """The JSON the model must answer an enhancement request with."""

    model_config = ConfigDict(extra="ignore")

    enhanced_prompt: str = Field(min_length=1, max_length=4000)
    detected_language: str = "en"
    translation: str | None = None
    changes: list[LlmChange] = Field(default_factory=list, max_length=24)
    alternatives: list[str] = Field(default_factory=list, max_length=6)

    @field_validator("detected_language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        value = value.strip().lower()
        return value if re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]+)?", value) else "und"


class LlmJudgement(BaseModel):
    """The model's judgement of a prompt's quality."""

    model_config = ConfigDict(extra="ignore")

    score: int = Field(ge=0, le=100)
    strengths: list[str] = Field(default_factory=list, max_length=10)
    weaknesses: list[str] = Field(default_factory=list, max_length=10)
    suggestion: str = ""


def _strict(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": list(properties), "properties": properties}


ENHANCE_SCHEMA = _strict({
    "enhanced_prompt": {"type": "string", "description": "the improved prompt, in the target language"},
    "detected_language": {"type": "string", "description": "ISO 639-1 code of the user's prompt"},
    "translation": {"type": ["string", "null"],
                    "description": "the user's prompt translated to the target language, or null if it was in it"},
    "changes": {"type": "array", "items": _strict({
        "slot": {"type": "string", "enum": [*SLOTS, "prompt"]},
        "text": {"type": "string", "description": "the phrase added or changed"},
        "reason": {"type": "string", "description": "why, in one short sentence"}})},
    "alternatives": {"type": "array", "items": {"type": "string"}, "description": "two or three other takes"},
})

JUDGE_SCHEMA = _strict({
    "score": {"type": "integer", "minimum": 0, "maximum": 100},
    "strengths": {"type": "array", "items": {"type": "string"}},
    "weaknesses": {"type": "array", "items": {"type": "string"}},
    "suggestion": {"type": "string", "description": "one concrete improvement"},
})

_ENHANCE_SYSTEM = """You improve prompts for text-to-image models.
Work by slots: subject, medium, style, lighting, composition, lens (photographs only), colour, detail.
Keep the user's intent and every concrete detail they gave; fill the slots they left empty; remove
contradictions; do not add text, logos or people they did not ask for. Write one prompt of comma-separated
phrases, under 120 words, in {language}. If the user's prompt is not in {language}, translate it first and
put the translation in "translation". List each change with its slot and a one-sentence reason, and give
two or three alternative prompts. Answer with JSON only."""

_JUDGE_SYSTEM = """You judge prompts for text-to-image models on specificity, subject clarity, style,
lighting, composition, length and contradictions. Score 0 to 100. Answer with JSON only."""


def _supports_json_schema(api_version: str) -> bool:
    # Structured outputs arrived in api-version 2024-08-01-preview; v1 and "preview" have them.
    return not re.match(r"\d{4}-\d{2}-\d{2}", api_version) or api_version[:10] >= "2024-08-01"


def chat_configured(settings: Settings) -> bool:
    """Whether ``settings`` name a chat deployment that exists in the configuration."""
    return bool(settings.chat_deployment) and settings.find_deployment(settings.chat_deployment) is not None


class ChatEngine:
    """One chat deployment, ready to answer prompt requests in JSON.

    Raises
    ------
    ConfigError
        When no chat deployment is configured, or the named one is not in the configuration.
    CredentialsError
        When its endpoint has no key (names the variable to set).
    """

    def __init__(self, settings: Settings, *, policy: RetryPolicy = CHAT_POLICY):
        name = settings.chat_deployment
        if not name:
            raise ConfigError("no chat deployment is configured for the LLM prompt engine; set chat_deployment "
                              "in the config file to a deployment of a chat model (e.g. gpt-4o-mini)")
        found = settings.find_deployment(name)
        if found is None:
            configured = ", ".join(settings.deployments()) or "none"
            raise ConfigError(f"chat_deployment {name!r} is not among the configured deployments ({configured})")
        self.settings, (self.endpoint, self.deployment) = settings, found
        self.policy = policy
        self.api_version = self.deployment.api_version or self.endpoint.api_version or DEFAULT_API_VERSION
        self.route = "v1" if is_v1(self.endpoint, self.api_version) else "deployment"
        self.auth = resolve_auth(settings, self.endpoint)
        if self.route == "v1":
            self.client = v1_client(self.endpoint, self.auth, timeout=policy.timeout)
        else:
            self.client = deployment_client(self.endpoint, self.auth, api_version=self.api_version,
                                            timeout=policy.timeout)
        self.limiter = limiter_for(self.endpoint.base_url, self.deployment.name)
        self.context = ErrorContext(model=self.deployment.model, deployment=self.deployment.name,
                                    endpoint_name=self.endpoint.name, endpoint_url=self.endpoint.base_url,
                                    auth=self.auth.kind, key_variable=self.auth.key_variable,
                                    configured=settings.deployments(), secrets=self.auth.secrets())

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ChatEngine:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- the wire --------------------------------------------------------------------------------
    def complete_json(self, system: str, user: str, *, name: str, schema: dict[str, Any],
                      answer: type[BaseModel]) -> tuple[BaseModel, dict[str, Any]]:
        """Ask for JSON that matches ``schema`` and validate it as ``answer``; return it with usage data.

        Raises
        ------
        ContentFilterError
            The prompt (HTTP 400 ``content_filter``) or the answer (``finish_reason="content_filter"``)
            was filtered, or the model refused.
        RateLimitError
            Still 429 after the retry budget.
        ProviderError
            Malformed or off-schema JSON, a truncated answer, or another service failure.
        """
        if _supports_json_schema(self.api_version):
            response_format: dict[str, Any] = {"type": "json_schema",
                                               "json_schema": {"name": name, "strict": True, "schema": schema}}
        else:
            response_format = {"type": "json_object"}
            system += "\nThe JSON must follow this JSON schema:\n" + json.dumps(schema)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        where = f"chat deployment {self.deployment.name!r} on {self.endpoint.name}"
        try:
            completion = call_with_retries(
                lambda: self.client.chat.completions.create(model=self.deployment.name, messages=messages,
                                                            response_format=response_format, temperature=0.4),
                limiter=self.limiter, policy=self.policy, context=self.context)
        except ContentFilterError as exc:
            names = filtered_names(exc.categories)
            raise ContentFilterError(f"the Azure content filter of {where} refused the prompt"
                                     f"{' (' + ', '.join(names) + ')' if names else ''}; rephrase it",
                                     exc.categories) from None
        if not completion.choices:
            raise ProviderError(f"{where} answered with no choices; try again")
        choice = completion.choices[0]
        message = choice.message
        if choice.finish_reason == "content_filter":
            categories = (choice.model_extra or {}).get("content_filter_results") or {}
            names = filtered_names(categories)
            raise ContentFilterError(f"the answer of {where} was withheld by the Azure content filter"
                                     f"{' (' + ', '.join(names) + ')' if names else ''}; rephrase the prompt",
                                     categories)
        if getattr(message, "refusal", None):
            raise ContentFilterError(f"{where} refused: {message.refusal}")
        if choice.finish_reason == "length":
            raise ProviderError(f"the answer of {where} was cut off at its token limit; shorten the prompt")
        content = (message.content or "").strip()
        if not content:
            raise ProviderError(f"{where} answered with no content; try again")
        content = re.sub(r"^```(?:json)?\s*|\s*```$", "", content)
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise ProviderError(f"{where} answered with malformed JSON ({exc.msg}, character {exc.pos})") from None
        try:
            parsed = answer.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:3])
            raise ProviderError(f"{where} answered with JSON that does not match the schema ({problems})") from None
        usage = {"engine": "llm", "endpoint": self.endpoint.name, "deployment": self.deployment.name,
                 "route": self.route, "api_version": None if self.route == "v1" else self.api_version}
        if completion.usage is not None:
            usage.update(prompt_tokens=completion.usage.prompt_tokens,
                         completion_tokens=completion.usage.completion_tokens)
        return parsed, usage

    # --- prompt work -----------------------------------------------------------------------------
    def enhance(self, prompt: str, *, style: str | None = None, context: str | Mapping[str, Any] | None = None,
                language: str | None = None, hints: Enhancement | None = None) -> Enhancement:
        """Enhance ``prompt`` with the model; ``hints`` (the local engine's result) say which slots are empty."""
        target = language_name(language) if language else "English"
        system = _ENHANCE_SYSTEM.format(language=target)
        preset = get_style(style) if style else None
        if preset is not None:
            sample = "; ".join(f"{slot}: {preset.option(slot)}" for slot in SLOTS[1:] if preset.option(slot))
            system += f"\nApply the {preset.title} style ({preset.description}). Typical phrases: {sample}."
        if context:
            described = context if isinstance(context, str) else ", ".join(
                f"{k}: {v}" for k, v in context.items() if isinstance(v, str | int | float))
            system += f"\nThe project's context, to stay consistent with: {described}."
        if hints is not None:
            # The slots the local engine had to fill are the ones the user left empty.
            missing = [c.slot for c in hints.added]
            if missing:
                system += f"\nThe prompt leaves these slots empty: {', '.join(missing)}."
        answer, usage = self.complete_json(system, prompt, name="prompt_enhancement", schema=ENHANCE_SCHEMA,
                                           answer=LlmEnhancementAnswer)
        text = " ".join(answer.enhanced_prompt.split())
        changes = [Change(c.slot, c.text, c.reason or "suggested by the model", "llm",
                          "rewrite" if c.slot == "prompt" else "add") for c in answer.changes]
        wanted = (language or "en").lower()[:2]
        translated = bool(answer.translation) and answer.detected_language[:2] != wanted
        if translated:
            changes.insert(0, Change("prompt", answer.translation, f"translated from {answer.detected_language}",
                                     "llm", "translate"))
        parsed = parse_prompt(text)
        filters = preset.filter_chain() if preset is not None else (hints.filters if hints else [])
        return Enhancement(original=prompt, prompt=text, engine="llm", changes=changes,
                           alternatives=[" ".join(a.split()) for a in answer.alternatives if a.strip()][:3],
                           style=preset.name if preset else (hints.style if hints else None), filters=filters,
                           language=answer.detected_language, translated=translated, notes=[],
                           slots={k: v for k, v in {"subject": [parsed.subject], **parsed.slots}.items()
                                  if v and v[0]}, usage=usage)

    def judge(self, prompt: str) -> tuple[LlmJudgement, dict[str, Any]]:
        """The model's 0-100 judgement of ``prompt``, with strengths, weaknesses and one suggestion."""
        return self.complete_json(_JUDGE_SYSTEM, prompt, name="prompt_judgement", schema=JUDGE_SCHEMA,
                                  answer=LlmJudgement)
