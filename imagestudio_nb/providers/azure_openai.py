"""The ``azure_openai`` provider: gpt-image-1 family and dall-e-3 on Azure OpenAI through the openai SDK.

Both client forms are supported: ``AzureOpenAI`` with an api-version (``/openai/deployments/<name>/...``)
and the v1 form ``OpenAI(base_url=<endpoint>/openai/v1/)`` (chosen by ``api_version = "v1"``). Every
parameter the user set reaches the wire under its API name, or fails validation first with an error
naming the allowed values. Calls go through the deployment's shared limiter and ``retry.py``.
This module never stores anything and never puts a key in a message, a log or a record.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

import openai

from ..config import Deployment, Endpoint, Settings
from ..errors import ConfigError, InvalidArgumentError, ProviderError, UnknownDeploymentError
from ..imaging.codec import EXTENSIONS, MIME_TYPES, image_info, sniff_format
from .base import (GeneratedImage, ImageRequest, ModelCapabilities, PartialCallback, PartialImage, ProgressCallback,
                   ProviderResult)
from .capabilities import BFL_ONLY, MAI_MODELS, canonical_model, capabilities_for, check_request, retirement_notice
from .clients import (DEFAULT_API_VERSION, Auth, TokenProvider, WireLog, deployment_client, is_v1, resolve_auth,
                      v1_client)
from .errors_map import ErrorContext, map_error
from .limiter import DeploymentLimiter, limiter_for
from .retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

log = logging.getLogger(__name__)

#: Request fields that are sent under their own name when set.
_REQUEST_FIELDS = ("quality", "background", "output_format", "style")
#: Largest image accepted from a ``url`` result.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


class OpenAIImagesProvider:
    """Images through the openai SDK's ``images.generate`` / ``images.edit`` on one Azure deployment.

    Parameters
    ----------
    settings, endpoint, deployment
        From the configuration (``Settings.find_deployment``).
    token_provider : callable, optional
        Returns an Entra ID bearer token; overrides the endpoint's ``auth`` (tests pass a plain function).
    policy : RetryPolicy
        Retry budget, backoff and timeout.
    """

    name = "azure_openai"

    def __init__(self, settings: Settings, endpoint: Endpoint, deployment: Deployment, *,
                 token_provider: TokenProvider | None = None, policy: RetryPolicy = DEFAULT_POLICY):
        model = canonical_model(deployment.model)
        if model is None:
            raise ConfigError(f"deployment {deployment.name!r} has model {deployment.model!r}, which is not an image "
                              f"model this provider serves; use gpt-image-1, gpt-image-1-mini, gpt-image-1.5, gpt-image-2 "
                              "or dall-e-3 (legacy)")
        self.settings, self.endpoint, self.deployment = settings, endpoint, deployment
        self.model = model
        self.api_version = deployment.api_version or endpoint.api_version or DEFAULT_API_VERSION
        self.route = "v1" if is_v1(endpoint, self.api_version) else "deployment"
        self.caps: ModelCapabilities = capabilities_for(model, route=self.route)
        self.policy = policy
        # A configured steady rate (``Deployment.requests_per_minute``) keeps batches clear of 429s.
        per_minute = getattr(deployment, "requests_per_minute", None)
        self.limiter: DeploymentLimiter = limiter_for(
            endpoint.base_url, deployment.name, requests_per_second=per_minute / 60 if per_minute else None)
        self.wire = WireLog()
        self._token_provider = token_provider
        self._auth: Auth | None = None
        self._client = None
        self._lock = threading.Lock()

    # --- protocol --------------------------------------------------------------------------------
    def capabilities(self) -> dict[str, ModelCapabilities]:
        return {self.deployment.model: self.caps}

    def generate(self, request: ImageRequest, *, progress: ProgressCallback | None = None,
                 on_partial: PartialCallback | None = None) -> ProviderResult:
        check_request(request, self.caps, edit=False)
        params = self.wire_params(request, edit=False)
        client = self.client()
        return self._run(lambda: client.images.generate(**params), request, progress, on_partial)

    def edit(self, request: ImageRequest, *, progress: ProgressCallback | None = None,
             on_partial: PartialCallback | None = None) -> ProviderResult:
        check_request(request, self.caps, edit=True)
        params = self.wire_params(request, edit=True)
        client = self.client()
        return self._run(lambda: client.images.edit(**params), request, progress, on_partial)

    # --- the wire --------------------------------------------------------------------------------
    def wire_params(self, request: ImageRequest, *, edit: bool) -> dict[str, Any]:
        """The keyword arguments for the SDK call: exactly what the user set, under the API's names."""
        params: dict[str, Any] = {"model": self.deployment.name, "prompt": request.prompt, "n": request.n,
                                  "size": request.size}
        for name in _REQUEST_FIELDS:
            value = getattr(request, name)
            if value is not None:
                params[name] = value
        if self.model == "dall-e-3":
            # dall-e-3 only ever answers PNG and has no output_format field; "png" is allowed and honoured.
            params.pop("output_format", None)
        params.update(request.options)
        if "partial_images" in params:
            # Partial images only exist in a streamed answer (server-sent events).
            params["stream"] = True
        if edit:
            files = [(f"image-{i}.{EXTENSIONS[sniff_format(data)]}", data, MIME_TYPES[sniff_format(data)])
                     for i, data in enumerate(request.images)]
            params["image"] = files[0] if len(files) == 1 else files
            if request.mask is not None:
                check_mask(request.mask, request.images[0])
                params["mask"] = ("mask.png", request.mask, "image/png")
        return params

    def client(self):
        """The SDK client (created on first use, so listing capabilities needs no credentials)."""
        with self._lock:
            if self._client is None:
                self._auth = resolve_auth(self.settings, self.endpoint, token_provider=self._token_provider)
                if self.route == "v1":
                    self._client = v1_client(self.endpoint, self._auth, timeout=self.policy.timeout,
                                             hooks=self.hooks())
                else:
                    self._client = deployment_client(self.endpoint, self._auth, api_version=self.api_version,
                                                     timeout=self.policy.timeout, hooks=self.hooks())
            return self._client

    def hooks(self) -> list:
        """Request hooks: wait for the deployment's limiter, then note what is sent."""
        return [lambda request: self.limiter.acquire(), self.wire.hook]

    def error_context(self) -> ErrorContext:
        auth = self._auth
        return ErrorContext(model=self.model, deployment=self.deployment.name, endpoint_name=self.endpoint.name,
                            endpoint_url=self.endpoint.base_url, auth=auth.kind if auth else self.endpoint.auth,
                            key_variable=auth.key_variable if auth else (self.endpoint.api_key_env
                                                                         or "AZURE_OPENAI_API_KEY"),
                            configured=self.settings.deployments(), secrets=auth.secrets() if auth else ())

    def _run(self, send, request: ImageRequest, progress: ProgressCallback | None,
             on_partial: PartialCallback | None = None) -> ProviderResult:
        attempts: list = []
        started = time.perf_counter()
        notice = retirement_notice(self.caps)
        if notice:
            log.warning("%s", notice)
        try:
            response = call_with_retries(send, limiter=self.limiter, policy=self.policy,
                                         context=self.error_context(), attempts=attempts, gate=False)
        except UnknownDeploymentError as exc:
            if notice:  # a retired model's deployment answers 404: say why rather than only "not found"
                raise UnknownDeploymentError(f"{exc}. {notice}") from None
            raise
        wire = self.wire.take()
        if request.options.get("stream") or "partial_images" in request.options:
            images, metadata, usage = self.collect_stream(response, progress, on_partial, started)
        else:
            images, metadata = self.collect(response, progress)
            usage = response.usage.model_dump(exclude_none=True) if getattr(response, "usage", None) else {}
        if notice:
            metadata["retired"] = self.caps.retired
        metadata.update(route=self.route, api_version=None if self.route == "v1" else self.api_version, wire=wire,
                        attempts=[list(a) for a in attempts],
                        service_ms=round((time.perf_counter() - started) * 1000, 1))
        return finish(images, request, provider=self.name, model=self.model, deployment=self.deployment.name,
                      endpoint=self.endpoint.name, usage=usage, metadata=metadata)

    def collect_stream(self, stream, progress: ProgressCallback | None, on_partial: PartialCallback | None,
                       started: float) -> tuple[list[GeneratedImage], dict[str, Any], dict[str, Any]]:
        """Read a streamed answer: hand every partial image to ``on_partial``, keep the completed images."""
        images: list[GeneratedImage] = []
        usage: dict[str, Any] = {}
        partial_ms: list[float] = []
        metadata: dict[str, Any] = {"streamed": True}
        try:
            for event in stream:
                kind = getattr(event, "type", "")
                elapsed = time.perf_counter() - started
                if kind.endswith(".partial_image"):
                    partial_ms.append(round(elapsed * 1000, 1))
                    if on_partial is not None:
                        on_partial(PartialImage(index=event.partial_image_index, data=base64.b64decode(event.b64_json),
                                                output=len(images), elapsed=elapsed))
                elif kind.endswith(".completed"):
                    images.append(GeneratedImage(base64.b64decode(event.b64_json)))
                    for key in ("background", "output_format", "quality", "size"):
                        if getattr(event, key, None) is not None:
                            metadata[key] = getattr(event, key)
                    if getattr(event, "usage", None) is not None:
                        usage = event.usage.model_dump(exclude_none=True)
                    if progress:
                        progress(1)
        except openai.APIError as exc:  # an error event mid-stream: the same clear errors as a refused request
            raise map_error(exc, self.error_context()) from None
        finally:
            stream.close()
        metadata["partial_images_ms"] = partial_ms
        return images, metadata, usage

    def collect(self, response, progress: ProgressCallback | None) -> tuple[list[GeneratedImage], dict[str, Any]]:
        """Decode the base64 or download the url of every returned image."""
        images: list[GeneratedImage] = []
        metadata: dict[str, Any] = {"created": getattr(response, "created", None)}
        for key in ("background", "output_format", "quality", "size"):
            value = getattr(response, key, None)
            if value is not None:
                metadata[key] = value
        filters, sources = [], []
        for item in response.data or []:
            extra = item.model_extra or {}
            if extra.get("content_filter_results"):
                filters.append(extra["content_filter_results"])
            if item.b64_json:
                data = base64.b64decode(item.b64_json)
            elif item.url:
                data = download(item.url, timeout=self.policy.timeout)
                sources.append(item.url.split("?", 1)[0])  # the query is a SAS token: never recorded
            else:
                continue
            images.append(GeneratedImage(data, revised_prompt=item.revised_prompt))
            if progress:
                progress(1)
        if filters:
            metadata["content_filter_results"] = filters
        if sources:
            metadata["source_urls"] = sources
        return images, metadata


def finish(images: list[GeneratedImage], request: ImageRequest, **fields: Any) -> ProviderResult:
    """Build the result; a short answer is flagged in ``metadata["partial"]`` (``generate()`` raises on it)."""
    result = ProviderResult(images=images, **fields)
    if len(images) < request.n:
        log.warning("%s returned %d of %d images", fields.get("model"), len(images), request.n)
        result.metadata["partial"] = {"asked": request.n, "returned": len(images)}
    return result


def check_mask(mask: bytes, image: bytes) -> None:
    """Refuse a mask the service would refuse: not a PNG with alpha, or not the first image's size.

    Raises
    ------
    InvalidArgumentError
        Saying what the mask must be.
    """
    from PIL import Image
    import io

    fmt, width, height = image_info(mask)
    _, image_width, image_height = image_info(image)
    if fmt != "PNG":
        raise InvalidArgumentError(f"mask must be a PNG with an alpha channel; got {fmt}")
    with Image.open(io.BytesIO(mask)) as picture:
        has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    if not has_alpha:
        raise InvalidArgumentError("mask must be a PNG with an alpha channel (transparent = area to edit); "
                                   "convert it with imagestudio_nb.generation.mask_to_png")
    if (width, height) != (image_width, image_height):
        raise InvalidArgumentError(f"mask is {width}x{height} but the image is {image_width}x{image_height}; "
                                   "they must be the same size")


_download_client = None
_download_lock = threading.Lock()


def download(url: str, *, timeout: float, attempts: int = 3) -> bytes:
    """Fetch a result ``url`` (a SAS blob link) without any credential of ours; retry transient failures.

    Raises
    ------
    ProviderError
        When the image cannot be fetched or is larger than ``MAX_DOWNLOAD_BYTES``.
    """
    import httpx2

    global _download_client
    with _download_lock:
        if _download_client is None:
            _download_client = httpx2.Client(follow_redirects=True)
    where = url.split("?", 1)[0]
    for attempt in range(attempts):
        try:
            response = _download_client.get(url, timeout=timeout)
        except httpx2.TransportError as exc:
            problem = f"{type(exc).__name__}"
        else:
            if response.status_code == 200:
                if len(response.content) > MAX_DOWNLOAD_BYTES:
                    raise ProviderError(f"the image at {where} is larger than {MAX_DOWNLOAD_BYTES} bytes")
                return response.content
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500:
                break
        time.sleep(DEFAULT_POLICY.backoff(attempt) / 4)
    raise ProviderError(f"could not download the generated image from {where} ({problem}); the link may have "
                        "expired (Azure keeps result links for 24 hours)")


def create_provider(settings: Settings, endpoint: Endpoint, deployment: Deployment, *,
                    token_provider: TokenProvider | None = None,
                    policy: RetryPolicy = DEFAULT_POLICY) -> OpenAIImagesProvider:
    """Entry point for the registry: the provider for one Azure OpenAI image deployment."""
    model = canonical_model(deployment.model)
    if model in BFL_ONLY:
        raise ConfigError(f"{deployment.model} is served by the foundry_flux provider")
    if model in MAI_MODELS:
        raise ConfigError(f"{deployment.model} is served by the foundry_mai provider")
    return OpenAIImagesProvider(settings, endpoint, deployment, token_provider=token_provider, policy=policy)
