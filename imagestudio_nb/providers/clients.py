"""openai SDK clients for an endpoint: the ``AzureOpenAI`` deployment form, the v1 ``OpenAI`` form and a
root client for Foundry's provider routes; API-key or Entra ID authentication.

The SDK's own retries are always off (``max_retries=0``): ``retry.py`` holds the only retry loop. Request
hooks (the deployment's rate limiter, the wire digest) run after the SDK built a request, just before it
is sent, so the limiter spaces what reaches the wire, not the calls.
Keys live only inside the SDK client; this module never logs or returns them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..config import Endpoint, Settings
from ..errors import ConfigError, CredentialsError

DEFAULT_API_VERSION = "2025-04-01-preview"
ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"

TokenProvider = Callable[[], str]


def entra_token_provider() -> TokenProvider:
    """A bearer-token provider from azure-identity's ``DefaultAzureCredential`` (the ``entra`` extra).

    Raises
    ------
    ConfigError
        When azure-identity is not installed, naming the install command.
    """
    try:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    except ImportError:
        raise ConfigError("Entra ID authentication needs azure-identity: pip install imagestudio-nb[entra]") from None
    return get_bearer_token_provider(DefaultAzureCredential(), ENTRA_SCOPE)


def _guarded(provider: TokenProvider) -> TokenProvider:
    def token() -> str:
        try:
            value = provider()
        except Exception as exc:  # azure-identity raises its own family; say what to do instead
            raise CredentialsError(
                f"no Entra ID token could be obtained ({type(exc).__name__}); sign in with `az login` or set "
                "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET") from None
        if not value:
            raise CredentialsError("the Entra ID token provider returned an empty token; sign in with `az login`")
        return value

    return token


@dataclass
class Auth:
    """How to authenticate to one endpoint: a key, or a token provider (never both)."""

    kind: str  # "key" | "entra"
    key: str | None = None
    token_provider: TokenProvider | None = None
    key_variable: str = "AZURE_OPENAI_API_KEY"

    def secrets(self) -> tuple[str, ...]:
        return (self.key,) if self.key else ()


def resolve_auth(settings: Settings, endpoint: Endpoint, *, token_provider: TokenProvider | None = None) -> Auth:
    """The endpoint's credentials: its key (config, ``api_key_env`` or ``AZURE_OPENAI_API_KEY``) or Entra ID.

    Raises
    ------
    CredentialsError
        When key authentication is configured and no key is set; names the variable to set.
    """
    variable = endpoint.api_key_env or "AZURE_OPENAI_API_KEY"
    if token_provider is not None or endpoint.auth == "entra":
        return Auth("entra", token_provider=_guarded(token_provider or entra_token_provider()), key_variable=variable)
    key = settings.endpoint_key(endpoint)
    if not key:
        raise CredentialsError(
            f"no API key for endpoint {endpoint.name!r} ({endpoint.base_url}); set {variable}, or put api_key in the "
            "config file, or use auth = \"entra\"")
    return Auth("key", key=key, key_variable=variable)


def is_v1(endpoint: Endpoint, api_version: str | None) -> bool:
    """Whether to use the v1 ``OpenAI(base_url=<endpoint>/openai/v1/)`` form."""
    return api_version == "v1" or endpoint.base_url.rstrip("/").endswith("/openai/v1")


def resource_root(endpoint: Endpoint) -> str:
    """The endpoint URL without a trailing ``/openai`` or ``/openai/v1``."""
    url = endpoint.base_url.rstrip("/")
    for suffix in ("/openai/v1", "/openai"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


class WireLog:
    """Remembers, per thread, the last request a client sent: method, path, query and a body hash.

    The provenance record keeps this so that a re-run can prove it sent the same bytes again.
    """

    def __init__(self):
        self._local = threading.local()

    def hook(self, request) -> None:
        try:
            content = request.content
        except Exception:  # a streamed (multipart) body is not readable here
            content = None
        kind = request.headers.get("content-type", "").split(";")[0]
        self._local.last = {
            "method": request.method, "path": request.url.path,
            "query": dict(request.url.params), "content_type": kind,
            "body_sha256": hashlib.sha256(content).hexdigest() if content is not None and kind == "application/json"
            else None,
        }

    def take(self) -> dict | None:
        last = getattr(self._local, "last", None)
        self._local.last = None
        return last


def _attach(client, hooks):
    # The SDK's own httpx2 client; AzureOpenAI registers its own request hook on it the same way.
    http = getattr(client, "_client", None)
    if http is not None:
        http.event_hooks["request"].extend(hooks)
    return client


def deployment_client(endpoint: Endpoint, auth: Auth, *, api_version: str, timeout: float, hooks=()):
    """``AzureOpenAI(azure_endpoint=..., api_version=...)``: ``/openai/deployments/<name>/images/...``."""
    from openai import AzureOpenAI

    credentials = {"api_key": auth.key} if auth.kind == "key" else {"azure_ad_token_provider": auth.token_provider}
    return _attach(AzureOpenAI(azure_endpoint=resource_root(endpoint), api_version=api_version, max_retries=0,
                               timeout=timeout, **credentials), hooks)


def v1_client(endpoint: Endpoint, auth: Auth, *, timeout: float, hooks=(), route: str = "openai/v1"):
    """``OpenAI(base_url=<endpoint>/<route>/)``: the deployment is named by ``model`` in the body.

    ``route`` is ``openai/v1`` for Azure OpenAI, ``mai/v1`` for Foundry's MAI image models.
    """
    from openai import OpenAI

    api_key = auth.key if auth.kind == "key" else auth.token_provider
    return _attach(OpenAI(base_url=f"{resource_root(endpoint)}/{route}/", api_key=api_key, max_retries=0,
                          timeout=timeout), hooks)


def root_client(endpoint: Endpoint, auth: Auth, *, api_version: str, timeout: float, hooks=()):
    """An ``AzureOpenAI`` client rooted at the resource, for Foundry routes such as ``/providers/...``."""
    from openai import AzureOpenAI

    credentials = {"api_key": auth.key} if auth.kind == "key" else {"azure_ad_token_provider": auth.token_provider}
    return _attach(AzureOpenAI(base_url=resource_root(endpoint), api_version=api_version, max_retries=0,
                               timeout=timeout, **credentials), hooks)
