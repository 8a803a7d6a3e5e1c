"""Image routes of the stand-in (generations, edits; Azure OpenAI and Foundry/BFL). Owned by issue 4.

Routes, answered like Azure answers them:

- ``POST /openai/deployments/{deployment}/images/generations`` (JSON) and ``.../images/edits``
  (multipart: ``image`` or ``image[]``, optional ``mask``), with ``?api-version=``;
- ``POST /openai/v1/images/generations|edits``: the v1 form, deployment named by ``model`` in the body;
- ``POST /providers/blackforestlabs/v1/{model}?api-version=preview``: the Black Forest Labs route on
  Azure AI Foundry (``width``, ``height``, ``seed``, ``input_image`` as base64 for Kontext and FLUX.2),
  answering synchronously ``{"created", "data": [{"b64_json"}]}``;
- ``GET /files/{name}``: dall-e-3 ``url`` results, like a SAS blob URL (no api key needed).

State (``standin.state``, cleared by ``reset()``):

- ``deployments``: deployment name -> model family (default :data:`DEFAULT_DEPLOYMENTS`); others get
  404 ``DeploymentNotFound``;
- ``blocked_terms``: prompts containing one are refused with a content-filter error (``inner_error``
  shape for dall-e-3, ``innererror`` shape otherwise);
- ``drop_images``: answer with this many images fewer than asked (a partial result);
- ``image_side``: longest side of the served pictures (default 64: small, so tests stay fast).

Unknown body parameters are refused with 400 like Azure does, so a test sees exactly what reached the wire.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import io
import json
import time

from aiohttp import web
from PIL import Image

from .server import error_response, json_body

DEFAULT_DEPLOYMENTS = {
    "gpt-image-1": "gpt-image-1",
    "gpt-image-1-mini": "gpt-image-1-mini",
    "gpt-image-1.5": "gpt-image-1.5",
    "gpt-image-2": "gpt-image-2",
    "dall-e-3": "dall-e-3",
    "flux-1.1-pro": "flux-1.1-pro",
    "flux-kontext-pro": "flux.1-kontext-pro",
    "flux-2-pro": "flux.2-pro",
    "flux-2-flex": "flux.2-flex",
    "mai-image-2": "mai-image-2",
    "mai-image-2-5-flash": "mai-image-2.5-flash",
    "sora-2": "sora-2",
}

#: Model path on the BFL route -> model family.
BFL_MODELS = {"flux-pro-1.1": "flux-1.1-pro", "flux-kontext-pro": "flux.1-kontext-pro",
              "flux-2-pro": "flux.2-pro", "flux-2-flex": "flux.2-flex"}

_GPT = {"sizes": ("1024x1024", "1536x1024", "1024x1536", "auto"), "qualities": ("low", "medium", "high", "auto"),
        "backgrounds": ("transparent", "opaque", "auto"), "formats": ("png", "jpeg", "webp"), "max_n": 10}

#: What each family accepts on the OpenAI-style routes: body keys with allowed values (None = any).
RULES: dict[str, dict[str, dict[str, tuple | None]]] = {
    "gpt-image": {
        "generations": {"prompt": None, "model": None, "n": None, "size": _GPT["sizes"],
                        "quality": _GPT["qualities"], "background": _GPT["backgrounds"],
                        "output_format": _GPT["formats"], "output_compression": None,
                        "moderation": ("low", "auto"), "user": None, "stream": (True, False),
                        "partial_images": (0, 1, 2, 3)},
        "edits": {"prompt": None, "model": None, "n": None, "size": _GPT["sizes"], "quality": _GPT["qualities"],
                  "background": _GPT["backgrounds"], "output_format": _GPT["formats"],
                  "output_compression": None, "input_fidelity": ("low", "high"), "user": None,
                  "stream": (True, False), "partial_images": (0, 1, 2, 3)},
    },
    "dall-e-3": {
        "generations": {"prompt": None, "model": None, "n": (1, "1"), "size": ("1024x1024", "1792x1024", "1024x1792"),
                        "quality": ("standard", "hd"), "style": ("vivid", "natural"),
                        "response_format": ("url", "b64_json"), "user": None},
    },
    "flux-openai": {
        "generations": {"prompt": None, "model": None, "n": (1, "1"), "size": None, "output_format": ("png", "jpeg")},
        "edits": {"prompt": None, "model": None, "n": (1, "1"), "size": None, "output_format": ("png", "jpeg")},
    },
}

BFL_KEYS = {"prompt", "model", "n", "width", "height", "output_format", "seed", "safety_tolerance",
            "prompt_upsampling", "input_image", "steps", "guidance",
            *(f"input_image_{i}" for i in range(2, 11))}


def deployments(standin) -> dict[str, str]:
    """The deployments the stand-in knows (name -> model family); tests may edit this dict."""
    return standin.state.setdefault("deployments", dict(DEFAULT_DEPLOYMENTS))


def content_filter_body(shape: str = "innererror", filtered: dict[str, str] | None = None) -> dict:
    """An Azure content-filter refusal body in the ``inner_error`` (images) or ``innererror`` (chat) shape.

    Follows: Content filtering (Azure OpenAI concepts),
    https://learn.microsoft.com/en-us/azure/ai-services/openai/concepts/content-filter
    The ``ResponsibleAIPolicyViolation`` inner code is in the error schema of
    Azure OpenAI in Microsoft Foundry Models REST API reference, https://learn.microsoft.com/azure/ai-foundry/openai/reference
    That images (dall-e-3) spell it ``inner_error`` with ``content_policy_violation``: not confirmed.
    """
    filtered = filtered or {"violence": "medium"}
    results = {c: {"filtered": c in filtered, "severity": filtered.get(c, "safe")}
               for c in ("hate", "self_harm", "sexual", "violence", *filtered)}
    if shape == "inner_error":
        return {"error": {"code": "content_policy_violation", "type": "invalid_request_error",
                          "message": "Your request was rejected as a result of our safety system.",
                          "inner_error": {"code": "ResponsibleAIPolicyViolation",
                                          "content_filter_results": results}}}
    return {"error": {"code": "content_filter", "param": "prompt", "status": 400,
                      "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                                 "management policy.",
                      "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": results}}}


#: gpt-image-2 takes any size within these limits (checked by :func:`gpt_image_2_size_problem`) or "auto".
RULES["gpt-image-2"] = {operation: {**rules, "size": None} for operation, rules in RULES["gpt-image"].items()}


def gpt_image_2_size_problem(size) -> str | None:
    """Azure's gpt-image-2 size rule, written out here on its own so the client's copy is really tested."""
    if size == "auto":
        return None
    try:
        width, height = (int(v) for v in str(size).split("x"))
    except ValueError:
        return f"Invalid size {size!r}: expected WIDTHxHEIGHT"
    if width % 16 or height % 16:
        return "both edges must be multiples of 16"
    if max(width, height) > 3840 or max(width, height) > 3 * min(width, height):
        return "the long edge must be at most 3840 and at most 3 times the short edge"
    if not 655_360 <= width * height <= 8_294_400:
        return "the image must have between 655,360 and 8,294,400 pixels"
    return None


def family(model: str) -> str:
    if model == "gpt-image-2":
        return "gpt-image-2"
    if model.startswith("gpt-image"):
        return "gpt-image"
    if model == "dall-e-3":
        return "dall-e-3"
    return "flux-openai"


# Pictures live in pictures.py; imported here because other route modules and tests use them from here.
from .pictures import _edited_picture, _encode, _served_size, render_picture  # noqa: E402,F401


# --- request checks --------------------------------------------------------------------------------
# 400 ``invalid_request_error`` with ``param``, following the error schema of:
# Azure OpenAI in Microsoft Foundry Models REST API reference,
#   https://learn.microsoft.com/azure/ai-foundry/openai/reference
def _bad_request(message: str, param: str | None = None) -> web.Response:
    return error_response(400, "invalid_request_error", message, param=param, type="invalid_request_error")


# 404 ``DeploymentNotFound`` for an unknown deployment (code as the service sends it; page not confirmed).
def _not_found(deployment: str) -> web.Response:
    return error_response(404, "DeploymentNotFound",
                          f"The API deployment {deployment!r} for this resource does not exist. If you created the "
                          "deployment within the last 5 minutes, please wait a moment and try again.")


def _check_body(model: str, operation: str, body: dict) -> web.Response | None:
    rules = RULES[family(model)].get(operation)
    if rules is None:
        return _bad_request(f"The {operation} operation is not supported by model {model!r}.")
    for key, value in body.items():
        if key not in rules:
            return _bad_request(f"Unrecognized request argument supplied: {key}", key)
        allowed = rules[key]
        if allowed is not None and value not in allowed:
            return _bad_request(f"Invalid value for {key}: {value!r}; supported values are {list(allowed)}", key)
    if not body.get("prompt"):
        return _bad_request("'prompt' is a required property", "prompt")
    if family(model) == "gpt-image-2" and (problem := gpt_image_2_size_problem(body.get("size", "auto"))):
        return _bad_request(f"Invalid value for size: {body.get('size')!r}; {problem}", "size")
    if body.get("partial_images") and not body.get("stream"):
        return _bad_request("partial_images requires stream=true", "partial_images")
    n = int(body.get("n", 1))
    if not 1 <= n <= (_GPT["max_n"] if family(model).startswith("gpt-image") else 1):
        return _bad_request(f"Invalid value for n: {n}", "n")
    compression = body.get("output_compression")
    if compression is not None and not 0 <= int(compression) <= 100:
        return _bad_request("output_compression must be between 0 and 100", "output_compression")
    return None


def _blocked(standin, model: str, prompt: str) -> web.Response | None:
    for term in standin.state.get("blocked_terms", ()):
        if term.lower() in prompt.lower():
            shape = "inner_error" if model == "dall-e-3" else "innererror"
            return web.json_response(content_filter_body(shape, {"violence": "high"}), status=400)
    return None


def _count(standin, n: int) -> int:
    return max(0, n - int(standin.state.get("drop_images", 0)))


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return [(part.get_param("name", header="content-disposition"), part.get_payload(decode=True))
            for part in message.iter_parts()]


# --- handlers --------------------------------------------------------------------------------------
def register(app, standin) -> None:
    """Add the image routes to ``app``."""

    async def generations(request: web.Request) -> web.Response:
        """Images generations. Follows: How to use image generation models (Azure OpenAI how-to),
        https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/dall-e
        and Azure OpenAI in Microsoft Foundry Models REST API reference, https://learn.microsoft.com/azure/ai-foundry/openai/reference"""
        error = await standin.check(request)
        if error is not None:
            return error
        try:
            body = json_body(await request.read())
        except (ValueError, UnicodeDecodeError):
            return _bad_request("the body is not valid JSON")
        deployment = request.match_info.get("deployment") or str(body.get("model", ""))
        model = deployments(standin).get(deployment)
        if model is None:
            return _not_found(deployment)
        if family(model) == "flux-openai" and model.startswith("flux.2"):
            return _bad_request(f"model {model!r} is only served on the Black Forest Labs route")
        problem = _check_body(model, "generations", body) or _blocked(standin, model, body["prompt"])
        if problem is not None:
            return problem
        if body.get("stream"):
            return await _stream(request, standin, model, body, pictures=None)
        return _answer(standin, model, body, pictures=None)

    async def edits(request: web.Request) -> web.Response:
        """Images edits (multipart, ``image``/``image[]``, ``mask`` with alpha).

        Follows: How to use image generation models (Azure OpenAI how-to),
        https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/dall-e
        and Azure OpenAI in Microsoft Foundry Models REST API reference, https://learn.microsoft.com/azure/ai-foundry/openai/reference"""
        error = await standin.check(request)
        if error is not None:
            return error
        if not request.content_type.startswith("multipart/"):
            return _bad_request("images/edits expects multipart/form-data")
        fields: dict = {}
        images: list[bytes] = []
        mask = None
        # The log middleware has read the body already, so parse the cached bytes.
        for name, payload in _multipart_parts(request.headers["Content-Type"], await request.read()):
            if name in ("image", "image[]"):
                images.append(payload)
            elif name == "mask":
                mask = payload
            else:
                fields[name] = payload.decode()
        for key in ("n", "output_compression", "partial_images"):
            if key in fields:
                fields[key] = int(fields[key])
        if "stream" in fields:
            fields["stream"] = fields["stream"].lower() == "true"
        deployment = request.match_info.get("deployment") or str(fields.get("model", ""))
        model = deployments(standin).get(deployment)
        if model is None:
            return _not_found(deployment)
        if not images:
            return _bad_request("'image' is a required property", "image")
        if model in ("dall-e-3", "flux-1.1-pro") or model.startswith("flux.2"):
            return _bad_request(f"The edits operation is not supported by model {model!r}.")
        limit = 16 if family(model).startswith("gpt-image") else 1
        if len(images) > limit:
            return _bad_request(f"at most {limit} image(s) may be given", "image")
        if mask is not None and Image.open(io.BytesIO(mask)).mode not in ("RGBA", "LA", "PA"):
            return _bad_request("Invalid mask: the mask must be a PNG with an alpha channel", "mask")
        problem = _check_body(model, "edits", fields) or _blocked(standin, model, fields["prompt"])
        if problem is not None:
            return problem
        standin.state.setdefault("edit_uploads", []).append({"images": images, "mask": mask, "fields": fields})
        if fields.get("stream"):
            return await _stream(request, standin, model, fields, pictures=(images[0], mask), edit=True)
        return _answer(standin, model, fields, pictures=(images[0], mask))

    async def bfl(request: web.Request) -> web.Response:
        """Black Forest Labs FLUX route on Foundry.

        Source: not confirmed on Microsoft Learn; the Tech Community announcement 'Black Forest Labs FLUX.1
        Kontext [pro] and FLUX1.1 [pro] now available in Azure AI Foundry' was seen only as a link:
        https://techcommunity.microsoft.com/blog/azure-ai-foundry-blog/black-forest-labs-flux-1-kontext-pro-and-flux1-1-pro-now-available-in-azure-ai-f/4434659.

        The 422 ``ValidationError`` shape (extra inputs, sizes in multiples of 32) is not confirmed either.
        """
        error = await standin.check(request)
        if error is not None:
            return error
        path_model = request.match_info["model"]
        model = BFL_MODELS.get(path_model)
        if model is None:
            return error_response(404, "404", f"Resource not found: no model {path_model!r} on this route")
        body = json_body(await request.read())
        deployment = str(body.get("model", ""))
        if deployments(standin).get(deployment) != model:
            return _not_found(deployment)
        unknown = sorted(set(body) - BFL_KEYS)
        if unknown:
            return error_response(422, "ValidationError", f"extra inputs are not permitted: {unknown}")
        if not body.get("prompt") or int(body.get("n", 1)) != 1:
            return error_response(422, "ValidationError", "prompt is required and n must be 1")
        width, height = int(body.get("width", 1024)), int(body.get("height", 1024))
        if not (256 <= width <= 1440 and 256 <= height <= 1440 and width % 32 == 0 and height % 32 == 0):
            return error_response(422, "ValidationError", "width and height must be multiples of 32 in 256..1440")
        references = [k for k in body if k.startswith("input_image")]
        if references and model == "flux-1.1-pro":
            return error_response(422, "ValidationError", f"{model} takes no input image")
        problem = _blocked(standin, model, body["prompt"])
        if problem is not None:
            return problem
        side = int(standin.state.get("image_side", 64))
        served = _served_size(f"{width}x{height}", side)
        fmt = body.get("output_format", "jpeg")
        if "input_image" in body:
            data = _edited_picture(base64.b64decode(body["input_image"]), None, body["prompt"], served, fmt)
        else:
            data = render_picture(json.dumps([model, body["prompt"], body.get("seed")]), *served, fmt)
        items = [{"b64_json": base64.b64encode(data).decode("ascii")}][: _count(standin, 1)]
        return web.json_response({"created": int(time.time()), "id": hashlib.sha1(data).hexdigest(), "data": items})

    async def files(request: web.Request) -> web.Response:
        """dall-e-3 ``url`` results (``response_format=url``), following
        Azure OpenAI in Microsoft Foundry Models REST API reference, https://learn.microsoft.com/azure/ai-foundry/openai/reference
        The SAS-like 403 text: not confirmed."""
        data = standin.state.get("files", {}).get(request.match_info["name"])
        if data is None or request.query.get("sig") != "standin":
            return web.Response(status=403, text="AuthenticationFailed: signature did not match")
        return web.Response(body=data, content_type="image/png")

    app.router.add_post("/openai/deployments/{deployment}/images/generations", generations)
    app.router.add_post("/openai/deployments/{deployment}/images/edits", edits)
    app.router.add_post("/openai/v1/images/generations", generations)
    app.router.add_post("/openai/v1/images/edits", edits)
    app.router.add_post("/providers/blackforestlabs/v1/{model}", bfl)
    app.router.add_get("/files/{name}", files)


def _pictures(standin, model: str, body: dict, pictures: tuple[bytes, bytes | None] | None) -> list[bytes]:
    n = int(body.get("n", 1))
    side = int(standin.state.get("image_side", 64))
    served = _served_size(body.get("size"), side)
    fmt = body.get("output_format", "png")
    transparent = body.get("background") == "transparent"
    finals = []
    for index in range(_count(standin, n)):
        if pictures is not None:
            finals.append(_edited_picture(pictures[0], pictures[1], f"{body['prompt']}#{index}", served, fmt))
        else:
            key = json.dumps([model, body["prompt"], body.get("size"), body.get("quality"), body.get("style"), index])
            finals.append(render_picture(key, *served, fmt, transparent))
    return finals


def _usage(body: dict) -> dict:
    text_tokens = len(body["prompt"].split())
    n = int(body.get("n", 1))
    output = {"low": 272, "medium": 1056, "high": 4160}.get(body.get("quality", "auto"), 1056) * n
    return {"input_tokens": text_tokens, "output_tokens": output, "total_tokens": text_tokens + output,
            "input_tokens_details": {"image_tokens": 0, "text_tokens": text_tokens}}


async def _stream(request, standin, model: str, body: dict, *, pictures, edit: bool = False):
    from .streaming import stream_answer

    return await stream_answer(request, standin, body, _pictures(standin, model, body, pictures), _usage(body),
                               edit=edit)


def _answer(standin, model: str, body: dict, *, pictures: tuple[bytes, bytes | None] | None) -> web.Response:
    transparent = body.get("background") == "transparent"
    fmt = body.get("output_format", "png")
    items = []
    for data in _pictures(standin, model, body, pictures):
        item: dict = {}
        if model == "dall-e-3":
            item["revised_prompt"] = f"A detailed rendering of {body['prompt']}"
            item["content_filter_results"] = {c: {"filtered": False, "severity": "safe"}
                                              for c in ("hate", "self_harm", "sexual", "violence")}
            if body.get("response_format", "url") == "url":
                name = hashlib.sha256(data).hexdigest()[:32] + ".png"
                standin.state.setdefault("files", {})[name] = data
                item["url"] = f"{standin.url}/files/{name}?sv=2024-08-04&se=2099-01-01&sig=standin"
            else:
                item["b64_json"] = base64.b64encode(data).decode("ascii")
        else:
            item["b64_json"] = base64.b64encode(data).decode("ascii")
        items.append(item)
    answer: dict = {"created": int(time.time()), "data": items}
    if family(model).startswith("gpt-image"):
        answer.update(background="transparent" if transparent else "opaque", output_format=fmt,
                      quality=body.get("quality", "medium"), size=body.get("size", "1024x1024"), usage=_usage(body))
    if model == "dall-e-3":
        answer["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": {}}]
    return web.json_response(answer)
