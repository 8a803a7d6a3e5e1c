"""Streamed image answers of the stand-in: ``stream: true`` with ``partial_images`` 0-3, as server-sent events.

Azure (like OpenAI) sends, per output image, ``partial_images`` events of type
``image_generation.partial_image`` (or ``image_edit.partial_image`` for edits), each a coarser rendering of
the final picture, then one ``image_generation.completed`` (``image_edit.completed``) event with the final
image and the usage. ``standin.state["stream_delay"]`` (seconds, default 0) is slept before every event,
so a benchmark can compare the time to the first partial image with the time to the final one.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time

from aiohttp import web
from PIL import Image


def _coarse(final: bytes, step: int, steps: int, fmt: str) -> bytes:
    """The final picture seen through a coarser grid: partial ``step`` of ``steps`` (0 = the coarsest)."""
    picture = Image.open(io.BytesIO(final))
    picture.load()
    factor = 2 ** (steps - step + 1)
    small = picture.resize((max(1, picture.width // factor), max(1, picture.height // factor)), Image.NEAREST)
    coarse = small.resize(picture.size, Image.NEAREST)
    buffer = io.BytesIO()
    if fmt in ("jpeg", "jpg"):
        coarse.convert("RGB").save(buffer, "JPEG", quality=85)
    elif fmt == "webp":
        coarse.save(buffer, "WEBP", quality=80)
    else:
        coarse.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


async def stream_answer(request: web.Request, standin, body: dict, finals: list[bytes], usage: dict, *,
                        edit: bool) -> web.StreamResponse:
    """Send ``finals`` as partial-image events followed by a completed event each.

    Follows the streaming (``partial_images``) section of:
    How to use image generation models (Azure OpenAI how-to),
    https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/dall-e
    The event names: not confirmed there.
    """
    prefix = "image_edit" if edit else "image_generation"
    partials = int(body.get("partial_images", 0) or 0)
    delay = float(standin.state.get("stream_delay", 0.0))
    fmt = body.get("output_format", "png")
    common = {"background": "transparent" if body.get("background") == "transparent" else "opaque",
              "output_format": fmt, "quality": body.get("quality", "auto"), "size": body.get("size", "1024x1024")}
    response = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream",
                                                        "Cache-Control": "no-cache"})
    await response.prepare(request)

    async def send(kind: str, payload: dict) -> None:
        if delay:
            await asyncio.sleep(delay)
        event = {"type": f"{prefix}.{kind}", "created_at": int(time.time()), **common, **payload}
        await response.write(f"event: {prefix}.{kind}\ndata: {json.dumps(event)}\n\n".encode())

    standin.state.setdefault("streams", []).append({"partial_images": partials, "images": len(finals)})
    for final in finals:
        for index in range(partials):
            await send("partial_image", {"partial_image_index": index,
                                         "b64_json": base64.b64encode(_coarse(final, index, partials, fmt)).decode()})
        await send("completed", {"b64_json": base64.b64encode(final).decode(), "usage": usage})
    await response.write_eof()
    return response
