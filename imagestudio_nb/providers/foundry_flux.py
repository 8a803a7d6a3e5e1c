"""The ``foundry_flux`` provider: Black Forest Labs FLUX models on Azure AI Foundry.

Two routes:

- the OpenAI-compatible deployment route (``/openai/deployments/<name>/images/generations|edits``),
  through the openai SDK exactly like gpt-image-1: FLUX1.1 [pro] and FLUX.1 Kontext [pro];
- the Black Forest Labs route (``/providers/blackforestlabs/v1/<model>?api-version=preview``) with
  ``width``, ``height``, ``seed`` and ``input_image`` (base64, as that API requires) for Kontext and
  FLUX.2, which only this route serves.

An endpoint of ``kind = "foundry"`` uses the BFL route; an ``azure_openai`` endpoint uses the
deployment route, except for FLUX.2. Both share the deployment's limiter and the retry loop.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from ..config import Deployment, Endpoint, Settings
from ..errors import ConfigError
from .azure_openai import OpenAIImagesProvider, download, finish
from .base import GeneratedImage, ImageRequest, ModelCapabilities, ProgressCallback, ProviderResult
from .capabilities import BFL_ONLY, BFL_PATHS, canonical_model, capabilities_for, check_request, size_pixels
from .clients import TokenProvider, root_client
from .retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

BFL_API_VERSION = "preview"


class FluxDeploymentProvider(OpenAIImagesProvider):
    """FLUX1.1 [pro] and FLUX.1 Kontext [pro] on the OpenAI-compatible deployment route."""

    name = "foundry_flux"


class FluxBFLProvider(OpenAIImagesProvider):
    """FLUX on the Black Forest Labs route of Azure AI Foundry (one image per request)."""

    name = "foundry_flux"

    def __init__(self, settings: Settings, endpoint: Endpoint, deployment: Deployment, *,
                 token_provider: TokenProvider | None = None, policy: RetryPolicy = DEFAULT_POLICY):
        super().__init__(settings, endpoint, deployment, token_provider=token_provider, policy=policy)
        self.route = "bfl"
        self.api_version = deployment.api_version or BFL_API_VERSION
        self.caps: ModelCapabilities = capabilities_for(self.model, route="bfl")
        self.path = f"/providers/blackforestlabs/v1/{BFL_PATHS[self.model]}"

    def client(self):
        with self._lock:
            if self._client is None:
                from .clients import resolve_auth

                self._auth = resolve_auth(self.settings, self.endpoint, token_provider=self._token_provider)
                self._client = root_client(self.endpoint, self._auth, api_version=self.api_version,
                                           timeout=self.policy.timeout, hooks=self.hooks())
            return self._client

    def generate(self, request: ImageRequest, *, progress: ProgressCallback | None = None) -> ProviderResult:
        check_request(request, self.caps, edit=False)
        return self._send(self.wire_body(request), request, progress)

    def edit(self, request: ImageRequest, *, progress: ProgressCallback | None = None) -> ProviderResult:
        check_request(request, self.caps, edit=True)
        return self._send(self.wire_body(request), request, progress)

    def wire_body(self, request: ImageRequest) -> dict[str, Any]:
        """The JSON body: every parameter the user set, under BFL's names (``size`` -> width, height)."""
        width, height = size_pixels(request.size)
        body: dict[str, Any] = {"model": self.deployment.name, "prompt": request.prompt, "n": request.n,
                                "width": width, "height": height}
        if request.output_format is not None:
            body["output_format"] = request.output_format
        if request.seed is not None:
            body["seed"] = request.seed
        body.update(request.options)
        for index, data in enumerate(request.images):
            # The BFL API takes reference images inline as base64; there is no binary alternative.
            body["input_image" if index == 0 else f"input_image_{index + 1}"] = base64.b64encode(data).decode("ascii")
        return body

    def _send(self, body: dict[str, Any], request: ImageRequest, progress: ProgressCallback | None) -> ProviderResult:
        client = self.client()
        attempts: list = []
        started = time.perf_counter()
        answer = call_with_retries(lambda: client.post(self.path, body=body, cast_to=object),
                                   limiter=self.limiter, policy=self.policy, context=self.error_context(),
                                   attempts=attempts, gate=False)
        images: list[GeneratedImage] = []
        for item in (answer or {}).get("data") or []:
            if item.get("b64_json"):
                data = base64.b64decode(item["b64_json"])
            elif item.get("url"):
                data = download(item["url"], timeout=self.policy.timeout)
            else:
                continue
            images.append(GeneratedImage(data, revised_prompt=item.get("revised_prompt"), seed=request.seed))
            if progress:
                progress(1)
        metadata = {"created": answer.get("created"), "id": answer.get("id"), "route": "bfl",
                    "api_version": self.api_version, "wire": self.wire.take(),
                    "attempts": [list(a) for a in attempts],
                    "service_ms": round((time.perf_counter() - started) * 1000, 1)}
        return finish(images, request, provider=self.name, model=self.model, deployment=self.deployment.name,
                      endpoint=self.endpoint.name, usage={"images": len(images)},
                      metadata={k: v for k, v in metadata.items() if v is not None})


def create_provider(settings: Settings, endpoint: Endpoint, deployment: Deployment, *,
                    token_provider: TokenProvider | None = None,
                    policy: RetryPolicy = DEFAULT_POLICY) -> OpenAIImagesProvider:
    """Entry point for the registry: the FLUX provider for one deployment, on the route its endpoint serves."""
    model = canonical_model(deployment.model)
    if model not in BFL_PATHS:
        raise ConfigError(f"deployment {deployment.name!r} has model {deployment.model!r}, not a FLUX model; known: "
                          f"{', '.join(BFL_PATHS)}")
    if model in BFL_ONLY or endpoint.kind == "foundry":
        return FluxBFLProvider(settings, endpoint, deployment, token_provider=token_provider, policy=policy)
    return FluxDeploymentProvider(settings, endpoint, deployment, token_provider=token_provider, policy=policy)
