"""The ``foundry_mai`` provider: Microsoft AI's MAI-Image-2.x models on Microsoft Foundry.

They answer on ``POST <resource>/mai/v1/images/generations`` with a JSON body of ``model`` (the deployment),
``prompt``, ``width`` and ``height``, and return ``{"data": [{"b64_json"}]}`` (always PNG, one image).
The route and the body are taken from Microsoft's "Deploy and use MAI image models" page and client code
that calls it; what could not be confirmed is marked in ``docs/models.md``. MAI image-to-image edits are
not wired: their wire shape could not be confirmed.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from ..config import Deployment, Endpoint, Settings
from ..errors import ConfigError
from .azure_openai import OpenAIImagesProvider, finish
from .base import GeneratedImage, ImageRequest, ModelCapabilities, ProgressCallback, ProviderResult
from .capabilities import MAI_MODELS, canonical_model, capabilities_for, check_request, size_pixels
from .clients import TokenProvider, resolve_auth, v1_client
from .retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

MAI_PATH = "/images/generations"


class MAIImagesProvider(OpenAIImagesProvider):
    """MAI-Image-2, -2e, -2.5 and -2.5-Flash on Foundry's ``/mai/v1`` route (one PNG per request)."""

    name = "foundry_mai"

    def __init__(self, settings: Settings, endpoint: Endpoint, deployment: Deployment, *,
                 token_provider: TokenProvider | None = None, policy: RetryPolicy = DEFAULT_POLICY):
        super().__init__(settings, endpoint, deployment, token_provider=token_provider, policy=policy)
        self.route = "mai"
        self.api_version = None
        self.caps: ModelCapabilities = capabilities_for(self.model)

    def client(self):
        """An ``OpenAI`` client rooted at ``<resource>/mai/v1/`` (key or Entra token as a bearer, like v1)."""
        with self._lock:
            if self._client is None:
                self._auth = resolve_auth(self.settings, self.endpoint, token_provider=self._token_provider)
                self._client = v1_client(self.endpoint, self._auth, timeout=self.policy.timeout, hooks=self.hooks(),
                                         route="mai/v1")
            return self._client

    def generate(self, request: ImageRequest, *, progress: ProgressCallback | None = None,
                 on_partial=None) -> ProviderResult:
        check_request(request, self.caps, edit=False)
        return self._send(self.wire_body(request), request, progress)

    def edit(self, request: ImageRequest, *, progress: ProgressCallback | None = None,
             on_partial=None) -> ProviderResult:
        check_request(request, self.caps, edit=True)  # raises: no MAI model here declares edits
        raise ConfigError(f"{self.model} edits are not wired in this toolkit")

    def wire_body(self, request: ImageRequest) -> dict[str, Any]:
        """The JSON body: ``size`` becomes ``width`` and ``height``; PNG is the only format, so none is sent."""
        width, height = size_pixels(request.size)
        return {"model": self.deployment.name, "prompt": request.prompt, "width": width, "height": height}

    def _send(self, body: dict[str, Any], request: ImageRequest, progress: ProgressCallback | None) -> ProviderResult:
        client = self.client()
        attempts: list = []
        started = time.perf_counter()
        answer = call_with_retries(lambda: client.post(MAI_PATH, body=body, cast_to=object),
                                   limiter=self.limiter, policy=self.policy, context=self.error_context(),
                                   attempts=attempts, gate=False)
        images = [GeneratedImage(base64.b64decode(item["b64_json"]))
                  for item in (answer or {}).get("data") or [] if item.get("b64_json")]
        if progress and images:
            progress(len(images))
        metadata = {"created": answer.get("created"), "route": "mai", "wire": self.wire.take(),
                    "attempts": [list(a) for a in attempts],
                    "service_ms": round((time.perf_counter() - started) * 1000, 1)}
        usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {"images": len(images)}
        return finish(images, request, provider=self.name, model=self.model, deployment=self.deployment.name,
                      endpoint=self.endpoint.name, usage=usage,
                      metadata={k: v for k, v in metadata.items() if v is not None})


def create_provider(settings: Settings, endpoint: Endpoint, deployment: Deployment, *,
                    token_provider: TokenProvider | None = None,
                    policy: RetryPolicy = DEFAULT_POLICY) -> MAIImagesProvider:
    """Entry point for the registry: the MAI provider for one deployment."""
    model = canonical_model(deployment.model)
    if model not in MAI_MODELS:
        raise ConfigError(f"deployment {deployment.name!r} has model {deployment.model!r}, not a MAI image model; "
                          f"known: {', '.join(sorted(MAI_MODELS))}")
    return MAIImagesProvider(settings, endpoint, deployment, token_provider=token_provider, policy=policy)
