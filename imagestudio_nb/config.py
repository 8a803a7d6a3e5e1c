"""Settings from a TOML file, the environment and the project, with secrets kept out of files and outputs.

Precedence, lowest first (documented in README "Configuration"):

1. built-in defaults;
2. the user's TOML file (``IMAGESTUDIO_CONFIG`` or ``<platform config dir>/imagestudio/config.toml``);
3. environment variables (``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_KEY``, ``OPENAI_API_VERSION``,
   ``AZURE_STORAGE_CONNECTION_STRING``, ``IMAGESTUDIO_*`` ...);
4. the project's own overrides (non-secret keys only, stored in the project document);
5. arguments passed to a call.

Secrets are ``pydantic.SecretStr``: they never appear in ``repr``, logs, exceptions or ``show`` output,
and a project override may not hold one. This module must never write a secret anywhere but the user's
own config file (mode 0600).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .errors import ConfigError

APP_NAME = "imagestudio"

#: Environment variables read by :func:`load_config`, with what they set.
ENVIRONMENT_VARIABLES = {
    "IMAGESTUDIO_CONFIG": "path of the TOML config file",
    "IMAGESTUDIO_WORKSPACE": "folder that holds projects",
    "IMAGESTUDIO_DEFAULT_MODEL": "model used when none is given",
    "IMAGESTUDIO_USER": "user name recorded in provenance",
    "AZURE_OPENAI_ENDPOINT": "an Azure OpenAI endpoint (named 'env')",
    "AZURE_OPENAI_API_KEY": "API key for that endpoint, and for configured endpoints without a key",
    "OPENAI_API_VERSION": "api-version for the 'env' endpoint",
    "AZURE_OPENAI_DEPLOYMENTS": "deployments of the 'env' endpoint: 'model=deployment,model2=deployment2'",
    "AZURE_STORAGE_CONNECTION_STRING": "Azure Blob Storage connection string",
    "AZURE_STORAGE_ACCOUNT_URL": "Azure Blob Storage account URL (with a key, SAS or Entra ID)",
    "AZURE_STORAGE_ACCOUNT_KEY": "the account key for the account URL",
    "AZURE_STORAGE_SAS_TOKEN": "a SAS token for the account URL",
    "AZURE_STORAGE_CONTAINER": "container that holds the workspace",
}

#: Settings a project may override (never secrets).
PROJECT_OVERRIDABLE = {"default_model", "default_size", "default_quality", "default_style", "user"}


class Deployment(BaseModel):
    """One deployment of a model on an endpoint."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="the deployment name used on the wire")
    model: str = Field(description="the model family, e.g. gpt-image-1, dall-e-3, flux-1.1-pro, gpt-4o")
    api_version: str | None = Field(default=None, description="overrides the endpoint's api-version")
    requests_per_minute: float | None = Field(default=None, gt=0, description=(
        "the deployment's rate limit; the shared limiter keeps every call in the process under it"))


class Endpoint(BaseModel):
    """An Azure OpenAI or Azure AI Foundry resource with its deployments."""

    model_config = ConfigDict(extra="forbid")

    name: str
    base_url: str
    kind: Literal["azure_openai", "foundry"] = "azure_openai"
    api_version: str | None = None
    auth: Literal["key", "entra"] = "key"
    api_key: SecretStr | None = None
    api_key_env: str | None = Field(default=None, description="read the key from this variable")
    deployments: list[Deployment] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url must start with https:// (or http:// for a local test server)")
        return value.rstrip("/")


class StorageSettings(BaseModel):
    """Azure Blob Storage for backup and sync."""

    model_config = ConfigDict(extra="forbid")

    connection_string: SecretStr | None = None
    account_url: str | None = None
    account_key: SecretStr | None = None
    sas_token: SecretStr | None = None
    container: str = "imagestudio"
    prefix: str = "projects/"
    auto_backup: bool = False
    quota_bytes: int | None = None


class GallerySettings(BaseModel):
    """The public gallery (``imagestudio gallery publish``)."""

    model_config = ConfigDict(extra="forbid")

    cdn_base_url: str | None = Field(default=None, description="absolute URL every gallery link starts with")


class Settings(BaseModel):
    """The merged configuration."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(default_factory=lambda: os.environ.get("USER") or os.environ.get("USERNAME") or "user")
    workspace: Path = Field(default_factory=lambda: platformdirs.user_data_path(APP_NAME) / "projects")
    default_model: str | None = None
    default_size: str | None = None
    default_quality: str | None = None
    default_style: str | None = None
    chat_deployment: str | None = Field(default=None, description="deployment used by the LLM prompt enhancer")
    endpoints: list[Endpoint] = Field(default_factory=list)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    gallery: GallerySettings = Field(default_factory=GallerySettings)

    def endpoint_key(self, endpoint: Endpoint) -> str | None:
        """Return the API key for ``endpoint``: its own, its variable's, or ``AZURE_OPENAI_API_KEY``."""
        if endpoint.api_key is not None:
            return endpoint.api_key.get_secret_value()
        if endpoint.api_key_env:
            return os.environ.get(endpoint.api_key_env)
        return os.environ.get("AZURE_OPENAI_API_KEY")

    def find_deployment(self, model: str) -> tuple[Endpoint, Deployment] | None:
        """Return the first (endpoint, deployment) serving ``model`` (by model or deployment name)."""
        for endpoint in self.endpoints:
            for deployment in endpoint.deployments:
                if model in (deployment.model, deployment.name):
                    return endpoint, deployment
        return None

    def deployments(self) -> list[str]:
        """Return "endpoint/deployment (model)" for every configured deployment."""
        return [f"{e.name}/{d.name} ({d.model})" for e in self.endpoints for d in e.deployments]

    def masked(self) -> dict[str, Any]:
        """Return the settings as plain data with every secret masked, for display."""
        return _mask(json.loads(self.model_dump_json()))


def _mask(value: Any) -> Any:
    # pydantic dumps SecretStr as "**********" already; connection strings get the same treatment
    # here in case a secret slipped into a plain string field.
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str):
        return mask_secret_text(value)
    return value


def mask_secret_text(text: str) -> str:
    """Mask ``AccountKey=...``, ``SharedAccessSignature=...`` and ``sig=...`` parts of a string.

    Examples
    --------
    >>> mask_secret_text("AccountName=a;AccountKey=abc==;EndpointSuffix=x")
    'AccountName=a;AccountKey=****;EndpointSuffix=x'
    """
    import re

    return re.sub(r"(?i)(accountkey=|sharedaccesssignature=|sig=|api-key=)[^;&\s]+", r"\1****", text)


def config_path() -> Path:
    """Return the path of the user's TOML config file (it may not exist)."""
    explicit = os.environ.get("IMAGESTUDIO_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return _platform_config_path(os.environ.get("XDG_CONFIG_HOME"), os.environ.get("HOME"))


@functools.lru_cache(maxsize=8)
def _platform_config_path(xdg_config_home: str | None, home: str | None) -> Path:
    # platformdirs costs about half a millisecond a call, and settings are read on every generation.
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """Read the TOML config file into a dict; an absent file gives ``{}``.

    The parsed file is kept while its modification time and size stay the same.
    """
    path = path or config_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    return copy.deepcopy(_parse_config(str(path), info.st_mtime_ns, info.st_size))


@functools.lru_cache(maxsize=8)
def _parse_config(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _environment_layer(env: Mapping[str, str], base: dict[str, Any]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key, field in (("IMAGESTUDIO_WORKSPACE", "workspace"), ("IMAGESTUDIO_DEFAULT_MODEL", "default_model"),
                       ("IMAGESTUDIO_USER", "user")):
        if env.get(key):
            layer[field] = env[key]
    endpoint_url = env.get("AZURE_OPENAI_ENDPOINT")
    if endpoint_url:
        deployments = []
        for item in filter(None, (p.strip() for p in env.get("AZURE_OPENAI_DEPLOYMENTS", "").split(","))):
            model, _, name = item.partition("=")
            deployments.append({"model": model.strip(), "name": (name or model).strip()})
        endpoint = {"name": "env", "base_url": endpoint_url, "deployments": deployments}
        if env.get("OPENAI_API_VERSION"):
            endpoint["api_version"] = env["OPENAI_API_VERSION"]
        if env.get("AZURE_OPENAI_API_KEY"):
            endpoint["api_key"] = env["AZURE_OPENAI_API_KEY"]
        others = [e for e in base.get("endpoints", []) if e.get("name") != "env"]
        layer["endpoints"] = [endpoint, *others]
    storage = dict(base.get("storage", {}))
    for key, field in (("AZURE_STORAGE_CONNECTION_STRING", "connection_string"),
                       ("AZURE_STORAGE_ACCOUNT_URL", "account_url"),
                       ("AZURE_STORAGE_ACCOUNT_KEY", "account_key"),
                       ("AZURE_STORAGE_SAS_TOKEN", "sas_token"), ("AZURE_STORAGE_CONTAINER", "container")):
        if env.get(key):
            storage[field] = env[key]
    if storage != base.get("storage", {}):
        layer["storage"] = storage
    return layer


def load_config(path: Path | None = None, *, project_overrides: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None, **arguments: Any) -> Settings:
    """Load the merged settings: defaults < file < environment < project overrides < arguments.

    Parameters
    ----------
    path : Path, optional
        The TOML file; defaults to :func:`config_path`.
    project_overrides : mapping, optional
        A project's settings (see ``PROJECT_OVERRIDABLE``).
    env : mapping, optional
        The environment (``os.environ`` by default).
    **arguments
        Explicit settings, highest precedence.

    Raises
    ------
    ConfigError
        When the file or a value is invalid; the message names the field.

    Examples
    --------
    >>> s = load_config(path=Path("/nonexistent.toml"), env={"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com",
    ...                 "AZURE_OPENAI_API_KEY": "s3cr3t", "AZURE_OPENAI_DEPLOYMENTS": "gpt-image-1=img"})
    >>> s.find_deployment("gpt-image-1")[1].name
    'img'
    >>> "s3cr3t" in repr(s) or "s3cr3t" in str(s.masked())
    False
    """
    env = os.environ if env is None else env
    data = read_config_file(path)
    data.update(_environment_layer(env, data))
    if project_overrides:
        bad = set(project_overrides) - PROJECT_OVERRIDABLE
        if bad:
            raise ConfigError(f"a project may not override {sorted(bad)}; allowed: {sorted(PROJECT_OVERRIDABLE)}")
        data.update({k: v for k, v in project_overrides.items() if v is not None})
    data.update({k: v for k, v in arguments.items() if v is not None})
    return _validate(data, path or config_path())


_validated: dict[str, Settings] = {}


def _validate(data: Mapping[str, Any], source: Path) -> Settings:
    # Settings are loaded on every generation; validating the same data again costs more than the rest of
    # the toolkit's own work, so the last few results are kept (callers get their own copy).
    key = json.dumps(data, sort_keys=True, default=str)
    cached = _validated.get(key)
    if cached is not None:
        return cached.model_copy(deep=True)
    settings = _validate_fresh(data, source)
    if len(_validated) >= 16:
        _validated.pop(next(iter(_validated)))
    _validated[key] = settings
    return settings.model_copy(deep=True)


def _validate_fresh(data: Mapping[str, Any], source: Path) -> Settings:
    # The message lists locations and reasons only: pydantic's default text repeats input values,
    # which may be secrets.
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid configuration ({source}): {problems}") from None


def write_config_file(data: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write ``data`` as the TOML config file atomically, readable by the owner only."""
    import tomli_w

    path = path or config_path()
    _validate(data, path)  # refuse to write what could not be read back
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "wb") as handle:
        tomli_w.dump(dict(data), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def import_azure_image_studio(source: Path) -> dict[str, Any]:
    """Convert an Azure Image Studio ``azure-config.json`` into this toolkit's config data.

    Reads ``endpoints[].deployments[]`` with ``baseUrl``, ``apiVersion``, ``apiKey`` and
    ``deploymentName`` at the endpoint or the deployment level. A deployment with its own base URL
    or key becomes an endpoint of its own.
    """
    try:
        raw = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {source}: {exc}") from None
    endpoints: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
    for index, ep in enumerate(raw.get("endpoints") or []):
        for dep in ep.get("deployments") or []:
            base_url = dep.get("baseUrl") or ep.get("baseUrl")
            if not base_url:
                raise ConfigError(f"endpoint {ep.get('name', index)!r}: a deployment has no baseUrl")
            api_version = dep.get("apiVersion") or ep.get("apiVersion")
            api_key = dep.get("apiKey") or ep.get("apiKey")
            key = (base_url.rstrip("/"), api_version, api_key)
            name = ep.get("name") or ep.get("id") or f"endpoint{index + 1}"
            target = endpoints.setdefault(key, {"name": name, "base_url": base_url.rstrip("/"),
                                                "deployments": []})
            if "flux" in str(dep.get("id", "")).lower() or "models.ai.azure.com" in base_url:
                target["kind"] = "foundry"
            if api_version:
                target["api_version"] = api_version
            if api_key:
                target["api_key"] = api_key
            deployment_name = dep.get("deploymentName") or dep.get("name") or dep.get("id")
            model = (dep.get("model") or dep.get("id") or deployment_name or "").lower()
            target["deployments"].append({"name": deployment_name, "model": model})
    names: set[str] = set()
    result = []
    for endpoint in endpoints.values():
        base, n = endpoint["name"], 2
        while endpoint["name"] in names:
            endpoint["name"] = f"{base}-{n}"
            n += 1
        names.add(endpoint["name"])
        result.append(endpoint)
    if not result:
        raise ConfigError(f"{source} has no endpoints[].deployments[] to import")
    return {"endpoints": result}


CONFIG_TEMPLATE = """\
# Image Studio for Jupyter configuration (see README, "Configuration").
# Environment variables override this file; a project's own settings override both.

# default_model = "gpt-image-1"     # "local" works offline
# workspace = "~/imagestudio-projects"

# [[endpoints]]
# name = "eastus"
# base_url = "https://my-resource.openai.azure.com"
# api_version = "2025-04-01-preview"
# api_key_env = "AZURE_OPENAI_API_KEY"   # or api_key = "...", or auth = "entra"
#   [[endpoints.deployments]]
#   name = "my-gpt-image-1"
#   model = "gpt-image-1"

# [storage]
# container = "imagestudio"
# prefix = "projects/"
# auto_backup = false          # back up every saved project in the background
# quota_bytes = 10_000_000_000  # refuse a push that would exceed this
# connection_string is best given as AZURE_STORAGE_CONNECTION_STRING
# (or account_url + AZURE_STORAGE_ACCOUNT_KEY / AZURE_STORAGE_SAS_TOKEN, or Entra ID)
"""
