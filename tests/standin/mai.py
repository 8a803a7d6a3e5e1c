"""MAI image routes of the stand-in: ``POST /mai/v1/images/generations`` as Microsoft Foundry answers it.

Body: ``model`` (the deployment), ``prompt``, ``width``, ``height``; any other key is refused with 400 like the
service does (``response_format``, ``seed``, ``size`` ...). Each edge must be at least 768 px and the pixel count
at most 1,048,576 (MAI-Image-2, -2e) or 2,359,296 (MAI-Image-2.5, -2.5-Flash). The answer is one PNG as base64.
"""

from __future__ import annotations

import base64
import json
import time

from aiohttp import web

from .images import _blocked, _not_found, _served_size, deployments, render_picture
from .server import error_response, json_body

MAX_PIXELS = {"mai-image-2": 1_048_576, "mai-image-2e": 1_048_576, "mai-image-2.5": 2_359_296,
              "mai-image-2.5-flash": 2_359_296}
KEYS = {"model", "prompt", "width", "height"}


def register(app, standin) -> None:
    """Add the MAI route to ``app``."""

    async def generations(request: web.Request) -> web.Response:
        """MAI image generations.

        Follows: Deploy and use MAI image models in Microsoft Foundry (preview),
        https://learn.microsoft.com/en-us/azure/foundry/foundry-models/how-to/use-foundry-models-mai
        The 400 texts for unknown keys and sizes: not confirmed.
        """
        error = await standin.check(request, require_api_version=False)
        if error is not None:
            return error
        body = json_body(await request.read())
        deployment = str(body.get("model", ""))
        model = deployments(standin).get(deployment)
        if model not in MAX_PIXELS:
            return _not_found(deployment)
        unknown = sorted(set(body) - KEYS)
        if unknown:
            return error_response(400, "invalid_request_error", f"Invalid parameters: {', '.join(unknown)}")
        width, height = body.get("width", 1024), body.get("height", 1024)
        if not (isinstance(width, int) and isinstance(height, int)) or min(width, height) < 768 \
                or width * height > MAX_PIXELS[model]:
            return error_response(400, "invalid_request_error",
                                  f"width and height must each be at least 768 and width*height at most "
                                  f"{MAX_PIXELS[model]}")
        if not body.get("prompt"):
            return error_response(400, "invalid_request_error", "prompt is required")
        problem = _blocked(standin, model, body["prompt"])
        if problem is not None:
            return problem
        served = _served_size(f"{width}x{height}", int(standin.state.get("image_side", 64)))
        data = render_picture(json.dumps([model, body["prompt"], width, height]), *served, "png")
        return web.json_response({"created": int(time.time()),
                                  "data": [{"b64_json": base64.b64encode(data).decode("ascii")}]})

    app.router.add_post("/mai/v1/images/generations", generations)
