"""Turn the openai SDK's exceptions into the toolkit's (DESIGN.md D8), and say which ones are worth a retry.

Messages name what to do (the variable to set, the deployments that exist) and never carry a key:
every text taken from a response passes through :func:`scrub` first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import openai

from ..errors import (ContentFilterError, CredentialsError, ImageStudioError, ProviderError, RateLimitError,
                      UnknownDeploymentError)
from .limiter import retry_after_seconds

_FILTER_CODES = {"content_policy_violation", "contentfilter", "content_filter", "moderation_blocked",
                 "responsibleaipolicyviolation"}


@dataclass
class ErrorContext:
    """What an error message needs to know about the call (never the key itself)."""

    model: str
    deployment: str
    endpoint_name: str
    endpoint_url: str
    auth: str = "key"
    key_variable: str = "AZURE_OPENAI_API_KEY"
    configured: list[str] = field(default_factory=list)
    #: Secrets that must never appear in a message (the key, the current token).
    secrets: tuple[str, ...] = ()


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove secrets (and anything after ``api-key=``/``sig=``) from ``text``.

    Examples
    --------
    >>> scrub("bad key abc123 given", ("abc123",))
    'bad key **** given'
    """
    from ..config import mask_secret_text

    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "****")
    return mask_secret_text(text)


def content_filter_categories(body: Any) -> dict[str, Any] | None:
    """Return the content-filter categories of an error body, or ``None`` when it is no filter refusal.

    Handles the images shape (``inner_error.content_filter_results``) and the chat shape
    (``innererror.content_filter_result``), with or without the outer ``{"error": ...}``.

    Examples
    --------
    >>> content_filter_categories({"code": "content_filter", "innererror": {"content_filter_result":
    ...     {"violence": {"filtered": True, "severity": "high"}}}})
    {'violence': {'filtered': True, 'severity': 'high'}}
    >>> content_filter_categories({"code": "BadRequest", "message": "size"}) is None
    True
    """
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("error"), dict):
        body = body["error"]
    inner = body.get("inner_error") or body.get("innererror") or {}
    if not isinstance(inner, dict):
        inner = {}
    codes = {str(body.get("code", "")).lower(), str(inner.get("code", "")).lower()}
    results = inner.get("content_filter_results") or inner.get("content_filter_result") \
        or body.get("content_filter_results") or body.get("content_filter_result")
    if not (codes & _FILTER_CODES) and not results:
        return None
    return dict(results) if isinstance(results, dict) else {}


def filtered_names(categories: dict[str, Any]) -> list[str]:
    """Names of the categories that were filtered (with their severity when known)."""
    names = []
    for name, value in categories.items():
        if isinstance(value, dict) and (value.get("filtered") or value.get("detected")):
            severity = value.get("severity")
            names.append(f"{name} ({severity})" if severity and severity != "safe" else name)
    return names


def classify(exc: BaseException) -> tuple[str, float | None]:
    """``("rate_limit" | "transient" | "fatal", retry_after_seconds)`` for an SDK exception."""
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return "transient", None
    if isinstance(exc, openai.APIStatusError):
        after = retry_after_seconds(exc.response.headers)
        if exc.status_code == 429:
            return "rate_limit", after
        if exc.status_code >= 500 or exc.status_code == 408:
            return "transient", after
    return "fatal", None


def _service_message(exc: openai.APIStatusError, ctx: ErrorContext) -> str:
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    code = body.get("code") if isinstance(body, dict) else None
    text = str(message or body or exc.message or "")[:500]
    return scrub(f"{exc.status_code}{f' {code}' if code else ''}: {text}", ctx.secrets)


def map_error(exc: BaseException, ctx: ErrorContext) -> ImageStudioError:
    """The toolkit error for a final (not retried, or retried to the end) SDK exception."""
    where = f"{ctx.endpoint_name} ({ctx.endpoint_url}), deployment {ctx.deployment!r}"
    if isinstance(exc, ImageStudioError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError(f"{where} did not answer in time, even after retries; try again later or "
                             "raise the timeout")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError(f"cannot reach {where}: {scrub(str(exc), ctx.secrets)}; check the endpoint URL and "
                             "your network")
    if not isinstance(exc, openai.APIStatusError):
        return ProviderError(f"{where} failed: {scrub(str(exc), ctx.secrets)}")
    status = exc.status_code
    categories = content_filter_categories(exc.body) if status in (400, 403, 422) else None
    if categories is not None:
        names = filtered_names(categories)
        reason = f" ({', '.join(names)})" if names else ""
        return ContentFilterError(
            f"the request to {ctx.model} was refused by the Azure content filter{reason}; rephrase the prompt "
            "or change the input images", categories)
    if status in (401, 403):
        verb = "refused the credentials" if status == 401 else "denied access"
        if ctx.auth == "entra":
            fix = ("sign in with `az login` (or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET) and give "
                   "your identity the 'Cognitive Services OpenAI User' role on the resource")
        else:
            fix = f"set {ctx.key_variable} to a valid key of this resource"
        if status == 403:
            fix += " (a 403 can also mean the resource's network rules block this machine)"
        return CredentialsError(f"{where} {verb} ({status}); {fix}")
    if status == 404:
        configured = ", ".join(ctx.configured) or "none"
        return UnknownDeploymentError(
            f"{where} was not found (404: {_service_message(exc, ctx)}); configured deployments: {configured}. "
            "Check the deployment name in the Azure portal and in your configuration")
    if status == 429:
        return RateLimitError(f"{where} is still rate limited (429) after the retry budget; wait and try again, "
                              "or lower the batch concurrency", retry_after=retry_after_seconds(exc.response.headers))
    if status >= 500:
        return ProviderError(f"{where} failed with a server error even after retries ({_service_message(exc, ctx)})")
    return ProviderError(f"{where} refused the request ({_service_message(exc, ctx)})")
