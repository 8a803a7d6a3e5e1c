"""Chat completion routes of the stand-in (Azure OpenAI deployment and v1 forms). Owned by issue 9.

Routes, answered like Azure answers them:

- ``POST /openai/deployments/{deployment}/chat/completions?api-version=...``;
- ``POST /openai/v1/chat/completions``: the v1 form, the deployment named by ``model`` in the body.

State (``standin.state``, cleared by ``reset()``):

- ``chat_replies``: a list of scripted answers, taken one per request. An item is a string (the
  message content, ``finish_reason="stop"``) or a dict made by :func:`reply` or
  :func:`content_filter_refusal`. With no scripted answer the reply is built from the request: for
  ``response_format`` ``json_schema`` an object that satisfies the schema (strings that name a prompt
  echo the user's message), for ``json_object`` ``{"reply": <user message>}``, else plain text;
- ``chat_deployments``: deployment names served (default :data:`DEFAULT_CHAT_DEPLOYMENTS`); others
  get 404 ``DeploymentNotFound``;
- ``chat_requests``: the parsed JSON body of every chat request, in order (with ``deployment`` added).

429s come from ``standin.inject(429, headers={"retry-after-ms": ...})`` or the server-side rate limit.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from aiohttp import web

from .server import error_response, json_body

DEFAULT_CHAT_DEPLOYMENTS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "chat")
CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def _filter_results(filtered: str | None = None, severity: str = "high") -> dict[str, Any]:
    results: dict[str, Any] = {name: {"filtered": False, "severity": "safe"} for name in CATEGORIES}
    if filtered:
        results[filtered] = {"filtered": True, "severity": severity}
    return results


def reply(content: str | None, *, finish_reason: str = "stop", filtered: str | None = None,
          refusal: str | None = None) -> dict[str, Any]:
    """A scripted answer: ``content`` with ``finish_reason``; ``filtered`` marks an output category filtered.

    ``reply(None, finish_reason="content_filter", filtered="violence")`` is how Azure answers when
    the model's *output* was filtered: HTTP 200, no content.
    """
    return {"content": content, "finish_reason": finish_reason, "filtered": filtered, "refusal": refusal}


def content_filter_refusal(category: str = "violence", *, severity: str = "high",
                           inner_key: str | None = None) -> dict[str, Any]:
    """A scripted HTTP 400 ``content_filter`` refusal of the *prompt*, as Azure sends it.

    ``inner_key`` is ``"innererror"`` (the deployment form's spelling, default there) or
    ``"inner_error"`` (the v1 form's, default there).
    """
    return {"http_content_filter": category, "severity": severity, "inner_key": inner_key}


def _user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # content parts
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def sample_for_schema(schema: dict[str, Any], *, name: str = "", user: str = "",
                      defs: dict[str, Any] | None = None) -> Any:
    """A value that satisfies ``schema`` (the subset structured outputs allow), built deterministically."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return sample_for_schema(defs[schema["$ref"].split("/")[-1]], name=name, user=user, defs=defs)
    if "anyOf" in schema:
        return sample_for_schema(schema["anyOf"][0], name=name, user=user, defs=defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: sample_for_schema(sub, name=key, user=user, defs=defs) for key, sub in props.items()}
    if kind == "array":
        count = max(1, schema.get("minItems", 1))
        return [sample_for_schema(schema.get("items", {}), name=name, user=user, defs=defs) for _ in range(count)]
    if kind == "integer":
        low, high = schema.get("minimum", 0), schema.get("maximum", 100)
        return (low + high) // 2
    if kind == "number":
        return (schema.get("minimum", 0.0) + schema.get("maximum", 1.0)) / 2
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if "prompt" in name or "translation" in name:
        return f"{user}, enhanced by the stand-in" if "prompt" in name else user
    if "language" in name:
        return "en"
    return f"stand-in {name or 'text'}"


def _schema_in_messages(body: dict[str, Any]) -> dict[str, Any] | None:
    for message in body.get("messages") or []:
        content = message.get("content")
        if message.get("role") != "system" or not isinstance(content, str) or "{" not in content:
            continue
        try:
            candidate = json.loads(content[content.index("{"):])
        except json.JSONDecodeError:
            continue
        if isinstance(candidate, dict) and "properties" in candidate:
            return candidate
    return None


def _default_content(body: dict[str, Any]) -> str:
    user = _user_text(body)
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema", {})
        return json.dumps(sample_for_schema(schema, user=user))
    if response_format.get("type") == "json_object":
        # Like a model that follows a schema written into the system message (older api-versions).
        schema = _schema_in_messages(body)
        return json.dumps(sample_for_schema(schema, user=user) if schema else {"reply": user})
    return f"Stand-in reply to: {user}"


def _completion(body: dict[str, Any], deployment: str, content: str | None, finish_reason: str,
                filtered: str | None, refusal: str | None) -> dict[str, Any]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages") or [])
    completion_tokens = len((content or "").split())
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or deployment,
        "system_fingerprint": "fp_standin",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _filter_results()}],
        "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": None, "message": message,
                     "content_filter_results": _filter_results(filtered)}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


# The HTTP 400 ``content_filter`` error shape, following: Content filtering (Azure OpenAI concepts),
#   https://learn.microsoft.com/en-us/azure/ai-services/openai/concepts/content-filter
def _refusal_response(spec: dict[str, Any], v1: bool) -> web.Response:
    inner_key = spec.get("inner_key") or ("inner_error" if v1 else "innererror")
    error = {"message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                        "management policy. Please modify your prompt and retry.",
             "type": None, "param": "prompt", "code": "content_filter", "status": 400,
             inner_key: {"code": "ResponsibleAIPolicyViolation",
                         "content_filter_result": _filter_results(spec["http_content_filter"],
                                                                  spec.get("severity", "high"))}}
    return web.json_response({"error": error}, status=400)


def register(app, standin) -> None:
    """Add the chat routes to ``app``."""

    async def answer(request: web.Request, deployment: str | None, v1: bool) -> web.Response:
        """Chat completions, both forms.

        Follows: Azure OpenAI in Microsoft Foundry Models REST API reference, https://learn.microsoft.com/azure/ai-foundry/openai/reference
        A filtered output (HTTP 200, ``finish_reason`` ``content_filter``) follows
        Content filtering (Azure OpenAI concepts), https://learn.microsoft.com/en-us/azure/ai-services/openai/concepts/content-filter
        """
        refused = await standin.check(request)
        if refused is not None:
            return refused
        try:
            body = json_body(await request.read())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return error_response(400, "BadRequest", "The request body is not valid JSON.")
        deployment = deployment or body.get("model")
        if not deployment:
            return error_response(400, "BadRequest", "you must provide a model parameter")
        served = standin.state.get("chat_deployments", DEFAULT_CHAT_DEPLOYMENTS)
        if deployment not in served:
            return error_response(404, "DeploymentNotFound",
                                  "The API deployment for this resource does not exist. If you created the "
                                  "deployment within the last 5 minutes, please wait a moment and try again.")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error_response(400, "BadRequest", "'messages' is a required property")
        response_format = body.get("response_format")
        if response_format is not None and response_format.get("type") not in ("text", "json_object",
                                                                                 "json_schema"):
            return error_response(400, "BadRequest", f"Invalid value: {response_format.get('type')!r}",
                                  param="response_format.type")
        standin.state.setdefault("chat_requests", []).append({**body, "deployment": deployment})
        scripted = standin.state.get("chat_replies") or []
        spec: Any = scripted.pop(0) if scripted else None
        if isinstance(spec, dict) and spec.get("http_content_filter"):
            return _refusal_response(spec, v1)
        if spec is None:
            spec = reply(_default_content(body))
        elif isinstance(spec, str):
            spec = reply(spec)
        return web.json_response(_completion(body, deployment, spec.get("content"), spec.get("finish_reason", "stop"),
                                             spec.get("filtered"), spec.get("refusal")))

    async def deployment_route(request: web.Request) -> web.Response:
        return await answer(request, request.match_info["deployment"], v1=False)

    async def v1_route(request: web.Request) -> web.Response:
        return await answer(request, None, v1=True)

    app.router.add_post("/openai/deployments/{deployment}/chat/completions", deployment_route)
    app.router.add_post("/openai/v1/chat/completions", v1_route)
