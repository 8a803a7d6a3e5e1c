"""Third-party image providers found through the ``imagestudio_nb.providers`` entry-point group (D4).

A plug-in is a module (or object) named by an entry point in that group; the entry point's name is its
provider kind. It exposes ``CAPABILITIES`` (model name -> ``ModelCapabilities``: its capability table) and
``create_provider(settings, endpoint, deployment)`` returning an object that implements the
``ImageProvider`` protocol. docs/providers.md shows how to write one. This module only finds and checks
plug-ins; it never imports one that is not installed, and a broken one is reported by name.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import ConfigError
from .providers.base import ModelCapabilities

GROUP = "imagestudio_nb.providers"

_found: dict[str, ProviderPlugin] | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class ProviderPlugin:
    """An installed provider plug-in: its kind, where it lives, its capability table and its factory."""

    kind: str
    target: str
    distribution: str | None
    capabilities: Mapping[str, ModelCapabilities]
    create_provider: Callable


def _check(entry: importlib.metadata.EntryPoint) -> ProviderPlugin:
    from .providers.registry import PROVIDER_MODULES

    where = f"provider plug-in {entry.name!r} ({entry.value}, from {getattr(entry.dist, 'name', '?')})"
    if entry.name in PROVIDER_MODULES or entry.name == "local":
        raise ConfigError(f"{where} takes the name of a built-in provider; rename its entry point")
    try:
        target = entry.load()
    except Exception as exc:  # any import failure of third-party code is reported, with its cause
        raise ConfigError(f"{where} cannot be imported: {type(exc).__name__}: {exc}") from None
    factory = getattr(target, "create_provider", None)
    table = getattr(target, "CAPABILITIES", None)
    if not callable(factory):
        raise ConfigError(f"{where} has no create_provider(settings, endpoint, deployment); see docs/providers.md")
    if not isinstance(table, Mapping) or not table or not all(
            isinstance(name, str) and isinstance(caps, ModelCapabilities) for name, caps in table.items()):
        raise ConfigError(f"{where} needs CAPABILITIES: a non-empty dict of model name -> ModelCapabilities")
    return ProviderPlugin(entry.name, entry.value, getattr(entry.dist, "name", None), dict(table), factory)


def provider_plugins(*, refresh: bool = False) -> dict[str, ProviderPlugin]:
    """Every installed provider plug-in by kind (found once per process unless ``refresh``).

    Raises
    ------
    ConfigError
        Naming the plug-in and its package when one cannot be imported or does not follow the protocol.

    Examples
    --------
    >>> isinstance(provider_plugins(), dict)
    True
    """
    global _found
    with _lock:
        if _found is None or refresh:
            _found = {entry.name: _check(entry) for entry in importlib.metadata.entry_points(group=GROUP)}
        return dict(_found)


def plugin_for_model(model: str) -> ProviderPlugin | None:
    """The plug-in whose capability table lists ``model``, if any."""
    for plugin in provider_plugins().values():
        if model in plugin.capabilities:
            return plugin
    return None


__all__ = ["GROUP", "ProviderPlugin", "plugin_for_model", "provider_plugins"]
