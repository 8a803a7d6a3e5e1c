"""Which provider serves which model, resolved from the settings; provider instances are cached.

``local`` always resolves offline. A configured deployment resolves to the provider module for its
model family; each such module exposes ``create_provider(settings, endpoint, deployment)``.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass

from ..config import Deployment, Endpoint, Settings
from ..errors import ConfigError, UnknownModelError
from .base import ImageProvider, ModelCapabilities
from .local import CAPABILITIES as LOCAL_CAPABILITIES
from .local import LOCAL_MODEL, LocalProvider

#: Provider module for each provider kind; each exposes ``create_provider(settings, endpoint, deployment)``.
PROVIDER_MODULES = {
    "azure_openai": "imagestudio_nb.providers.azure_openai",
    "foundry_flux": "imagestudio_nb.providers.foundry_flux",
    "foundry_mai": "imagestudio_nb.providers.foundry_mai",
}

_cache: dict[tuple, ImageProvider] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ResolvedModel:
    """A model bound to the provider (and deployment) that serves it."""

    provider: ImageProvider
    capabilities: ModelCapabilities
    endpoint: str | None = None
    deployment: str | None = None


def provider_kind(model: str) -> str:
    """Return the provider kind for a model family name.

    Examples
    --------
    >>> provider_kind("flux-1.1-pro"), provider_kind("gpt-image-1"), provider_kind("MAI-Image-2.5-Flash")
    ('foundry_flux', 'azure_openai', 'foundry_mai')
    """
    name = model.lower()
    if "flux" in name:
        return "foundry_flux"
    return "foundry_mai" if name.startswith("mai-image") else "azure_openai"


def _create(settings: Settings, endpoint: Endpoint, deployment: Deployment) -> ImageProvider:
    kind = provider_kind(deployment.model)
    key = (kind, endpoint.model_dump_json(), deployment.model_dump_json())
    with _lock:
        provider = _cache.get(key)
        if provider is None:
            try:
                module = importlib.import_module(PROVIDER_MODULES[kind])
            except ImportError as exc:
                raise ConfigError(f"the {kind} provider is not available: {exc}") from None
            provider = module.create_provider(settings, endpoint, deployment)
            _cache[key] = provider
    return provider


def clear_cache() -> None:
    """Forget cached provider instances (after the settings changed)."""
    with _lock:
        _cache.clear()


def _find_by_alias(name: str, settings: Settings) -> tuple[Endpoint, Deployment] | None:
    """The first deployment whose model is ``name`` under another spelling (``FLUX-1.1-pro`` = ``flux-1.1-pro``)."""
    from .capabilities import canonical_model

    wanted = canonical_model(name)
    if wanted is None:
        return None
    for endpoint in settings.endpoints:
        for deployment in endpoint.deployments:
            if canonical_model(deployment.model) == wanted:
                return endpoint, deployment
    return None


def resolve_model(model: str | None, settings: Settings) -> ResolvedModel:
    """Resolve ``model`` (or the default) to its provider and capabilities.

    Raises
    ------
    UnknownModelError
        When neither ``local`` nor a configured deployment serves the model; lists what is available.
    """
    name = model or settings.default_model or LOCAL_MODEL
    if name == LOCAL_MODEL:
        return ResolvedModel(LocalProvider(), LOCAL_CAPABILITIES)
    found = settings.find_deployment(name) or _find_by_alias(name, settings)
    if found is None:
        available = [LOCAL_MODEL, *settings.deployments()]
        raise UnknownModelError(
            f"model {name!r} is not configured; available: {', '.join(available)}. "
            "Add a deployment with `imagestudio config init` or AZURE_OPENAI_DEPLOYMENTS"
        )
    endpoint, deployment = found
    provider = _create(settings, endpoint, deployment)
    caps = provider.capabilities()
    capabilities = caps.get(deployment.model) or next(iter(caps.values()))
    return ResolvedModel(provider, capabilities, endpoint.name, deployment.name)


def available_models(settings: Settings) -> list[ModelCapabilities]:
    """Capabilities of ``local`` and of every configured deployment whose provider loads."""
    models = [LOCAL_CAPABILITIES]
    for endpoint in settings.endpoints:
        for deployment in endpoint.deployments:
            try:
                models.append(resolve_model(deployment.name, settings).capabilities)
            except (ConfigError, UnknownModelError):
                continue
    return models
