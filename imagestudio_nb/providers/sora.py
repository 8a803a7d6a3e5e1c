"""Sora 2 video jobs on Azure OpenAI's v1 API, through the openai SDK: create, poll with progress, download.

``POST /openai/v1/videos`` (multipart: model = deployment, prompt, size, seconds, optional input_reference),
``GET /openai/v1/videos/{id}`` until ``completed`` or ``failed``, ``GET .../content?variant=video|thumbnail``.
Sora 2 exists only on the v1 API, so this always uses the v1 client form, whatever the endpoint's
api-version. It never stores anything; ``imagestudio_nb.video`` does.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import Deployment, Endpoint, Settings
from ..errors import ContentFilterError, InvalidArgumentError, ProviderError, UnsupportedParameterError
from ..imaging.codec import MIME_TYPES, image_info
from .clients import TokenProvider, WireLog, resolve_auth, v1_client
from .errors_map import ErrorContext
from .limiter import limiter_for
from .retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

SORA_MODEL = "sora-2"
SORA_SIZES = ("1280x720", "720x1280")
SORA_SECONDS = (4, 8, 12)
_MODERATION_CODES = {"moderation_blocked", "content_filter", "content_policy_violation"}


@dataclass
class VideoJob:
    """One video job as the service last reported it."""

    id: str
    status: str
    progress: int = 0
    size: str | None = None
    seconds: str | None = None
    error: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def check_video_request(prompt: str, *, size: str, seconds: int, input_reference: bytes | None = None) -> None:
    """Refuse, before anything is sent, what Sora 2 does not take.

    Raises
    ------
    UnsupportedParameterError
        For a size or duration Sora 2 does not make, naming the allowed values.
    InvalidArgumentError
        For an empty prompt, or a reference image whose size is not the video's.

    Examples
    --------
    >>> check_video_request("a fox", size="1920x1080", seconds=4)
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.UnsupportedParameterError: size='1920x1080' is not supported for model 'sora-2'; allowed: 1280x720, 720x1280
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidArgumentError("prompt must be a non-empty string")
    if size not in SORA_SIZES:
        raise UnsupportedParameterError("size", size, SORA_SIZES, model=SORA_MODEL)
    if seconds not in SORA_SECONDS or isinstance(seconds, bool):
        raise UnsupportedParameterError("seconds", seconds, SORA_SECONDS, model=SORA_MODEL)
    if input_reference is not None:
        _, width, height = image_info(input_reference)
        if f"{width}x{height}" != size:
            raise InvalidArgumentError(
                f"input_reference is {width}x{height} but the video is {size}; the reference image must match the "
                "video's size: pass fit=True (or imagestudio_nb.video.fit_reference) to crop and scale it")


class SoraVideoProvider:
    """Video jobs on one Sora 2 deployment."""

    name = "azure_sora"

    def __init__(self, settings: Settings, endpoint: Endpoint, deployment: Deployment, *,
                 token_provider: TokenProvider | None = None, policy: RetryPolicy = DEFAULT_POLICY):
        self.settings, self.endpoint, self.deployment = settings, endpoint, deployment
        self.policy = policy
        self.limiter = limiter_for(endpoint.base_url, deployment.name)
        self.wire = WireLog()
        self._token_provider = token_provider
        self._auth = None
        self._client = None
        self._lock = threading.Lock()

    def client(self):
        """The v1 SDK client (made on first use)."""
        with self._lock:
            if self._client is None:
                self._auth = resolve_auth(self.settings, self.endpoint, token_provider=self._token_provider)
                self._client = v1_client(self.endpoint, self._auth, timeout=self.policy.timeout,
                                         hooks=[lambda request: self.limiter.acquire(), self.wire.hook])
            return self._client

    def error_context(self) -> ErrorContext:
        auth = self._auth
        return ErrorContext(model=SORA_MODEL, deployment=self.deployment.name, endpoint_name=self.endpoint.name,
                            endpoint_url=self.endpoint.base_url, auth=auth.kind if auth else self.endpoint.auth,
                            key_variable=auth.key_variable if auth else (self.endpoint.api_key_env
                                                                         or "AZURE_OPENAI_API_KEY"),
                            configured=self.settings.deployments(), secrets=auth.secrets() if auth else ())

    def _call(self, send: Callable[[], Any]) -> Any:
        client = self.client()
        with warnings.catch_warnings():  # the SDK marks its Sora methods deprecated for OpenAI's own service
            warnings.simplefilter("ignore", DeprecationWarning)
            return call_with_retries(lambda: send(client), limiter=self.limiter, policy=self.policy,
                                     context=self.error_context(), gate=False)

    def create(self, prompt: str, *, size: str, seconds: int, input_reference: bytes | None = None) -> VideoJob:
        """Start a job; raises before sending anything Sora 2 would refuse."""
        check_video_request(prompt, size=size, seconds=seconds, input_reference=input_reference)
        params: dict[str, Any] = {"model": self.deployment.name, "prompt": prompt, "size": size,
                                  "seconds": str(seconds)}
        if input_reference is not None:
            fmt = image_info(input_reference)[0]
            params["input_reference"] = (f"reference.{fmt.lower()}", input_reference, MIME_TYPES[fmt])
        return _job(self._call(lambda client: client.videos.create(**params)))

    def status(self, job_id: str) -> VideoJob:
        """The job as the service reports it now."""
        return _job(self._call(lambda client: client.videos.retrieve(job_id)))

    def wait(self, job_id: str, *, on_progress: Callable[[VideoJob], None] | None = None,
             poll_interval: float = 5.0, timeout: float = 1800.0, sleep: Callable[[float], None] = time.sleep
             ) -> VideoJob:
        """Poll until the job completes; report every poll to ``on_progress``.

        Raises
        ------
        ContentFilterError
            When the service blocked the video on content grounds.
        ProviderError
            When the job failed (with the service's code and message) or is not done within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.status(job_id)
            if on_progress is not None:
                on_progress(job)
            if job.status == "completed":
                return job
            if job.status == "failed":
                error = job.error or {}
                code, message = error.get("code", "unknown"), error.get("message", "no reason given")
                if str(code).lower() in _MODERATION_CODES:
                    raise ContentFilterError(f"video job {job_id} was blocked by the content filter ({code}: "
                                             f"{message}); rephrase the prompt or change the reference image",
                                             {"code": code})
                raise ProviderError(f"video job {job_id} failed ({code}: {message}); nothing was stored. Try "
                                    "again, or change the prompt if it keeps failing")
            if time.monotonic() > deadline:
                raise ProviderError(f"video job {job_id} is still {job.status} ({job.progress}%) after {timeout:g} s; "
                                    f"wait for it later with imagestudio_nb.video.resume_video({job_id!r}, ...)")
            sleep(poll_interval)

    def download(self, job_id: str, *, variant: str = "video") -> bytes:
        """The finished video (``variant="video"``, MP4) or its thumbnail image (``"thumbnail"``)."""
        if variant not in ("video", "thumbnail"):
            raise UnsupportedParameterError("variant", variant, ("video", "thumbnail"), model=SORA_MODEL)
        answer = self._call(lambda client: client.videos.download_content(job_id, variant=variant))
        return answer.read() if hasattr(answer, "read") else answer.content


def _job(video) -> VideoJob:
    raw = video.model_dump(exclude_none=True) if hasattr(video, "model_dump") else dict(video)
    error = raw.get("error")
    return VideoJob(id=raw["id"], status=raw.get("status", "queued"), progress=int(raw.get("progress") or 0),
                    size=raw.get("size"), seconds=str(raw["seconds"]) if raw.get("seconds") else None,
                    error=error if isinstance(error, dict) else None, raw=raw)


def create_provider(settings: Settings, endpoint: Endpoint, deployment: Deployment, *,
                    token_provider: TokenProvider | None = None,
                    policy: RetryPolicy = DEFAULT_POLICY) -> SoraVideoProvider:
    """The Sora 2 provider for one deployment."""
    return SoraVideoProvider(settings, endpoint, deployment, token_provider=token_provider, policy=policy)
