"""Sora 2 video jobs on the stand-in: create, poll, download, as Azure's v1 API answers them.

- ``POST /openai/v1/videos`` (multipart: ``model`` = deployment, ``prompt``, ``size`` 1280x720|720x1280,
  ``seconds`` 4|8|12, optional ``input_reference`` image that must be exactly ``size``) -> a video job;
- ``GET /openai/v1/videos/{id}``: each poll moves the job on: queued -> in_progress (progress rises) ->
  completed, or failed with an ``error`` when the prompt holds a term of ``state["failing_video_terms"]``
  (``video_generation_failed``) or ``state["moderated_video_terms"]`` (``moderation_blocked``);
- ``GET /openai/v1/videos/{id}/content?variant=video|thumbnail``: a real H.264 MP4 made with PyAV (small:
  the longest side is ``state["video_side"]``, default 128, at 8 frames per second) or a WebP thumbnail.

Prompts holding a ``blocked_terms`` entry are refused at creation with the content-filter error.
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import hashlib
import io
import time

import numpy as np
from aiohttp import web
from PIL import Image

from .images import _not_found, _served_size, content_filter_body, deployments
from .server import error_response

SIZES = ("1280x720", "720x1280")
SECONDS = ("4", "8", "12")
FPS = 8


@functools.lru_cache(maxsize=32)
def make_mp4(key: str, width: int, height: int, seconds: int, fps: int = FPS) -> bytes:
    """A real H.264 MP4 of ``seconds * fps`` frames: a colour field that drifts, seeded by ``key``."""
    import av

    digest = hashlib.sha256(key.encode()).digest()
    base = np.frombuffer(digest[:3], np.uint8).astype(np.float32)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "threads": "1"}
        x = np.arange(width, dtype=np.float32)[None, :, None]
        for index in range(seconds * fps):
            frame = (base + 120 * np.sin((x + 4 * index) / max(8, width / 6))).clip(0, 255).astype(np.uint8)
            frame = np.broadcast_to(frame, (height, width, 3)).copy()
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _parts(content_type: str, body: bytes) -> dict:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()}


def _job_view(job: dict) -> dict:
    view = {k: v for k, v in job.items() if not k.startswith("_")}
    return view


def register(app, standin) -> None:
    """Add the video routes to ``app``."""

    def jobs() -> dict:
        return standin.state.setdefault("videos", {})

    async def create(request: web.Request) -> web.Response:
        """Create a Sora video job.

        Follows: Quickstart: Generate video with Sora (preview), https://learn.microsoft.com/en-us/azure/ai-services/openai/video-generation-quickstart
        The 400 texts are as the service words them: not confirmed.
        """
        error = await standin.check(request)
        if error is not None:
            return error
        if not request.content_type.startswith("multipart/"):
            return error_response(400, "invalid_request_error", "videos expects multipart/form-data")
        parts = _parts(request.headers["Content-Type"], await request.read())
        fields = {k: v.decode() for k, v in parts.items() if k != "input_reference"}
        deployment = fields.get("model", "")
        if deployments(standin).get(deployment) != "sora-2":
            return _not_found(deployment)
        unknown = sorted(set(parts) - {"model", "prompt", "size", "seconds", "input_reference"})
        if unknown:
            return error_response(400, "invalid_request_error", f"Unrecognized request argument: {unknown[0]}")
        size, seconds = fields.get("size", "720x1280"), fields.get("seconds", "4")
        if size not in SIZES:
            return error_response(400, "invalid_request_error", f"Invalid size {size!r}; supported: {list(SIZES)}",
                                  param="size")
        if seconds not in SECONDS:
            return error_response(400, "invalid_request_error",
                                  f"Invalid seconds {seconds!r}; supported: {list(SECONDS)}", param="seconds")
        prompt = fields.get("prompt", "")
        if not prompt:
            return error_response(400, "invalid_request_error", "prompt is required", param="prompt")
        if any(t.lower() in prompt.lower() for t in standin.state.get("blocked_terms", ())):
            return web.json_response(content_filter_body("innererror", {"violence": "high"}), status=400)
        reference = parts.get("input_reference")
        if reference is not None:
            picture = Image.open(io.BytesIO(reference))
            if f"{picture.width}x{picture.height}" != size:
                return error_response(400, "invalid_request_error",
                                      f"input_reference is {picture.width}x{picture.height} but the video is {size}; "
                                      "the reference image must match the requested size", param="input_reference")
            standin.state.setdefault("video_references", []).append(reference)
        job_id = "video_" + hashlib.sha256(f"{prompt}{time.time_ns()}".encode()).hexdigest()[:24]
        job = {"id": job_id, "object": "video", "model": "sora-2", "status": "queued", "progress": 0,
               "created_at": int(time.time()), "size": size, "seconds": seconds, "prompt": prompt,
               "_polls": 0, "_key": f"{prompt}|{size}|{seconds}"}
        jobs()[job_id] = job
        return web.json_response(_job_view(job))

    async def retrieve(request: web.Request) -> web.Response:
        """Poll a video job (queued, in_progress, completed or failed).

        Follows: Quickstart: Generate video with Sora (preview), https://learn.microsoft.com/en-us/azure/ai-services/openai/video-generation-quickstart
        The ``openai-poll-after-ms`` header and the ``moderation_blocked`` error code: not confirmed.
        """
        error = await standin.check(request)
        if error is not None:
            return error
        job = jobs().get(request.match_info["video_id"])
        if job is None:
            return error_response(404, "not_found", "Video not found")
        job["_polls"] += 1
        steps = int(standin.state.get("video_steps", 2))
        if job["status"] in ("queued", "in_progress"):
            if job["_polls"] <= steps:
                job["status"], job["progress"] = "in_progress", round(100 * job["_polls"] / (steps + 1))
            else:
                prompt = job["prompt"].lower()
                if any(t.lower() in prompt for t in standin.state.get("moderated_video_terms", ())):
                    job.update(status="failed", error={"code": "moderation_blocked",
                                                       "message": "The generated video was blocked by moderation."})
                elif any(t.lower() in prompt for t in standin.state.get("failing_video_terms", ())):
                    job.update(status="failed", error={"code": "video_generation_failed",
                                                       "message": "Video generation failed."})
                else:
                    job.update(status="completed", progress=100, completed_at=int(time.time()),
                               expires_at=int(time.time()) + 86400)
        return web.json_response(_job_view(job), headers={"openai-poll-after-ms": "10"})

    async def content(request: web.Request) -> web.Response:
        """Download a finished video or its thumbnail (``variant``).

        Follows: Quickstart: Generate video with Sora (preview), https://learn.microsoft.com/en-us/azure/ai-services/openai/video-generation-quickstart
        """
        error = await standin.check(request)
        if error is not None:
            return error
        job = jobs().get(request.match_info["video_id"])
        if job is None:
            return error_response(404, "not_found", "Video not found")
        if job["status"] != "completed":
            return error_response(400, "invalid_request_error", f"Video is not ready (status {job['status']})")
        width, height = _served_size(job["size"], int(standin.state.get("video_side", 128)))
        width, height = width - width % 2, height - height % 2  # yuv420p needs even sides
        variant = request.query.get("variant", "video")
        if variant == "video":
            return web.Response(body=make_mp4(job["_key"], width, height, int(job["seconds"])),
                                content_type="video/mp4")
        if variant == "thumbnail":
            buffer = io.BytesIO()
            frame = np.full((height, width, 3), np.frombuffer(hashlib.sha256(job["_key"].encode()).digest()[:3],
                                                              np.uint8), np.uint8)
            Image.fromarray(frame).save(buffer, "WEBP", quality=80)
            return web.Response(body=buffer.getvalue(), content_type="image/webp")
        return error_response(400, "invalid_request_error", f"Invalid variant {variant!r}", param="variant")

    app.router.add_post("/openai/v1/videos", create)
    app.router.add_get("/openai/v1/videos/{video_id}", retrieve)
    app.router.add_get("/openai/v1/videos/{video_id}/content", content)
