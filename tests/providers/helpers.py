"""Helpers for the Azure provider tests: settings for the stand-in, fast retry policies, log readers."""

from __future__ import annotations

import json

from imagestudio_nb.config import Deployment, Endpoint, Settings
import importlib

from imagestudio_nb.providers.registry import PROVIDER_MODULES, provider_kind
from imagestudio_nb.providers.retry import RetryPolicy
from tests.standin.images import DEFAULT_DEPLOYMENTS

#: Small backoffs and timeouts so that retry tests take tenths of a second.
FAST = RetryPolicy(max_retries=3, max_rate_limit_retries=4, backoff_base=0.02, backoff_cap=0.1, timeout=5.0)


def endpoint_for(url: str, *, name: str = "standin", kind: str = "azure_openai", api_version="2025-04-01-preview",
                 **fields) -> Endpoint:
    deployments = [Deployment(name=name_, model=model) for name_, model in DEFAULT_DEPLOYMENTS.items()]
    return Endpoint(name=name, base_url=url, kind=kind, api_version=api_version, deployments=deployments, **fields)


def provider(settings: Settings, deployment: str, *, policy: RetryPolicy = FAST, token_provider=None, endpoint=0):
    """The provider of ``deployment`` on the settings' endpoint, with a fast retry policy."""
    ep = settings.endpoints[endpoint]
    dep = next(d for d in ep.deployments if d.name == deployment)
    module = importlib.import_module(PROVIDER_MODULES[provider_kind(dep.model)])
    return module.create_provider(settings, ep, dep, token_provider=token_provider, policy=policy)


def image_requests(standin) -> list:
    """Logged requests to image routes (not file downloads)."""
    return [e for e in standin.log if "/images/" in e.path or "/providers/" in e.path or "/mai/" in e.path]


def last_json(standin) -> dict:
    return json.loads(image_requests(standin)[-1].body)
