"""The filter registry: every filter's name, category and typed parameter schema, and its function.

Panels and the command line are generated from these schemas (``list_filters()`` gives them as
JSON-able dicts); chains are validated against them. Filters register themselves with ``@register``
when their category module is imported. This module must never hold pixel code.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import UnsupportedParameterError
from ..codec import check_image_array
from .channels import join_alpha, split_alpha

#: Categories, in the order panels show them.
CATEGORIES = ("colour", "blur", "distortion", "artistic", "lighting", "texture", "vintage")
#: Parameter types a schema may use.
PARAM_TYPES = ("float", "int", "bool", "choice", "color", "curve", "quad", "asset")
#: How a filter treats alpha: untouched, moved with the pixels (geometric), or extended (a shadow).
ALPHA_BEHAVIOURS = ("kept", "moved", "extended")


@dataclass(frozen=True)
class Param:
    """One typed parameter of a filter.

    ``unit="px"`` marks lengths in pixels: previews rendered at a smaller size scale them.
    """

    name: str
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    unit: str = ""
    description: str = ""
    choices: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "unit": self.unit,
            "description": self.description,
        }
        if self.choices:
            data["choices"] = list(self.choices)
        return data

    def allowed(self) -> str:
        """Human text of the allowed values, used in error messages."""
        if self.type in ("float", "int"):
            unit = f" {self.unit}" if self.unit else ""
            kind = "an integer" if self.type == "int" else "a number"
            return f"{kind} in {_num(self.min)}..{_num(self.max)}{unit}"
        return {
            "bool": "true or false",
            "choice": ", ".join(self.choices),
            "color": "a colour '#rrggbb'",
            "curve": "a list of 2 to 16 [x, y] points with x increasing, 0..255",
            "quad": f"four [x, y] corner points (top-left, top-right, bottom-right, bottom-left) "
            f"in {_num(self.min)}..{_num(self.max)}",
            "asset": "an asset hash (hex), or '' for none",
        }[self.type]

    def validate(self, value: Any, where: str) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise naming the allowed values."""
        bad = UnsupportedParameterError(f"{where}.{self.name}", value, self.allowed())
        if self.type in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise bad
            value = float(value)
            if not math.isfinite(value) or not self.min <= value <= self.max:
                raise bad
            if self.type == "int":
                if value != int(value):
                    raise bad
                return int(value)
            return value
        if self.type == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise bad
            return bool(value)
        if self.type == "choice":
            if value not in self.choices:
                raise bad
            return value
        if self.type == "color":
            from ..strokes import parse_color

            try:
                r, g, b = parse_color(value)
            except Exception:
                raise bad from None
            return f"#{r:02x}{g:02x}{b:02x}"
        if self.type == "curve":
            return _validate_points(value, bad, lo=0.0, hi=255.0, count=None)
        if self.type == "quad":
            return _validate_points(value, bad, lo=self.min, hi=self.max, count=4)
        if self.type == "asset":
            if not isinstance(value, str) or (
                value and not all(c in "0123456789abcdef" for c in value.lower())
            ):
                raise bad
            return value.lower()
        raise AssertionError(self.type)  # pragma: no cover - schemas are checked at registration


def _num(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else f"{x:g}")


def _validate_points(value: Any, bad: Exception, *, lo: float, hi: float, count: int | None) -> list:
    try:
        points = [[float(x), float(y)] for x, y in value]
    except (TypeError, ValueError):
        raise bad from None
    if count is not None and len(points) != count or count is None and not 2 <= len(points) <= 16:
        raise bad
    for x, y in points:
        if not (lo <= x <= hi and lo <= y <= hi):
            raise bad
    if count is None and any(b[0] <= a[0] for a, b in zip(points, points[1:], strict=False)):
        raise bad
    return points


@dataclass(frozen=True)
class FilterSpec:
    """A registered filter: schema, behaviour flags and the function that does the work.

    ``impl(image, **params)`` is the unchecked function; ``colour_op(**params)``, when present,
    returns the filter as a fusable colour operation; ``identity`` holds parameter values that give
    the input back.
    """

    name: str
    category: str
    description: str
    params: tuple[Param, ...]
    impl: Callable[..., np.ndarray]
    identity: Mapping[str, Any]
    colour_op: Callable[..., Any] | None = None
    alpha: str = "kept"
    rgb_only: bool = False
    uses_assets: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The schema as a JSON-able dict (what panels and the CLI are built from)."""
        return {
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "params": [p.to_dict() for p in self.params],
            "identity": dict(self.identity),
            "alpha": self.alpha,
            "fusable": self.colour_op is not None,
        }

    def validate(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return the full parameter dict (defaults filled in), or raise naming what is allowed."""
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise UnsupportedParameterError(f"{self.name} params", params, "an object of parameter values")
        known = {p.name: p for p in self.params}
        for key in params:
            if key not in known:
                raise UnsupportedParameterError(f"{self.name} parameter", key, list(known) or "none")
        # Defaults are copied so that a caller editing the result cannot change the schema.
        return {
            p.name: p.validate(params[p.name], self.name) if p.name in params else copy.deepcopy(p.default)
            for p in self.params
        }

    def is_identity(self, params: Mapping[str, Any]) -> bool:
        """True when validated ``params`` are known to give the input back."""
        return bool(self.identity) and all(params.get(k) == v for k, v in self.identity.items())

    def scaled(self, params: dict[str, Any], scale: float) -> dict[str, Any]:
        """Scale pixel-length parameters by ``scale`` (for previews rendered at a smaller size)."""
        if scale == 1:
            return params
        out = dict(params)
        for p in self.params:
            if p.unit == "px":
                value = params[p.name] * scale
                out[p.name] = max(int(round(value)), 1 if params[p.name] else 0) if p.type == "int" else value
        return out

    def run(
        self,
        image: np.ndarray,
        params: Mapping[str, Any],
        *,
        scale: float = 1.0,
        load_asset: Callable[[str], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Apply to an already checked image with already validated ``params``."""
        params = self.scaled(dict(params), scale)
        if self.uses_assets:
            params["load_asset"] = load_asset
        if self.rgb_only and image.shape[2] == 4:
            rgb, alpha = split_alpha(image)
            return join_alpha(self.impl(rgb, **params), alpha)
        return self.impl(np.ascontiguousarray(image), **params)


_REGISTRY: dict[str, FilterSpec] = {}


def register(
    name: str,
    *,
    category: str,
    params: list[Param],
    identity: Mapping[str, Any],
    colour_op: Callable[..., Any] | None = None,
    alpha: str = "kept",
    rgb_only: bool = False,
    uses_assets: bool = False,
) -> Callable[[Callable], Callable]:
    """Register the decorated function as filter ``name`` and return a checked public version.

    The public version checks the image and the parameters against the schema, and its docstring
    gains a Parameters section written from the schema.
    """
    if category not in CATEGORIES or alpha not in ALPHA_BEHAVIOURS:
        raise ValueError(f"bad category {category!r} or alpha {alpha!r} for filter {name!r}")
    for p in params:
        if p.type not in PARAM_TYPES:
            raise ValueError(f"bad parameter type {p.type!r} in filter {name!r}")

    def decorate(impl: Callable) -> Callable:
        doc = (impl.__doc__ or "").strip().splitlines()
        spec = FilterSpec(
            name=name,
            category=category,
            description=doc[0] if doc else name,
            params=tuple(params),
            impl=impl,
            identity=dict(identity),
            colour_op=colour_op,
            alpha=alpha,
            rgb_only=rgb_only,
            uses_assets=uses_assets,
            defaults={p.name: p.default for p in params},
        )
        previous = _REGISTRY.get(name)
        # The same function loaded twice (a module imported under two names, as doctest collection
        # may do) replaces itself; two different functions under one name are a mistake.
        if previous is not None and previous.impl.__code__.co_filename != impl.__code__.co_filename:
            raise ValueError(f"filter {name!r} is registered twice")
        _REGISTRY[name] = spec

        @functools.wraps(impl)
        def public(image: np.ndarray, **kwargs: Any) -> np.ndarray:
            check_image_array(image)
            load_asset = kwargs.pop("load_asset", None) if uses_assets else None
            return spec.run(image, spec.validate(kwargs), load_asset=load_asset)

        public.__doc__ = _with_parameters(impl.__doc__ or "", spec)
        public.spec = spec  # type: ignore[attr-defined]
        return public

    return decorate


def _with_parameters(doc: str, spec: FilterSpec) -> str:
    lines = [
        "",
        "    Parameters",
        "    ----------",
        "    image : numpy.ndarray",
        "        RGB or RGBA uint8 image (not modified).",
    ]
    for p in spec.params:
        rng = f", {p.allowed()}" if p.type in ("float", "int") else ""
        lines.append(f"    {p.name} : {p.type}, default {p.default!r}{rng}")
        lines.append(f"        {p.description}")
    lines += [
        "",
        "    Returns",
        "    -------",
        "    numpy.ndarray",
        f"        A new uint8 array of the same shape; alpha is {spec.alpha}.",
        "",
        "    Raises",
        "    ------",
        "    UnsupportedParameterError",
        "        When a parameter is unknown, of the wrong type or out of range (the message names it).",
        "",
    ]
    head, sep, tail = doc.partition("    Examples")
    return head.rstrip() + "\n" + "\n".join(lines) + ("\n" + sep + tail if sep else "")


def get_filter(name: str) -> FilterSpec:
    """Return the registered filter ``name``.

    Raises
    ------
    UnsupportedParameterError
        When no filter has that name; the message lists the known filters.

    Examples
    --------
    >>> get_filter("brightness").category
    'colour'
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnsupportedParameterError("filter", name, sorted(_REGISTRY)) from None


def filter_names(category: str | None = None) -> list[str]:
    """Names of the registered filters (optionally of one category), sorted."""
    return sorted(n for n, s in _REGISTRY.items() if category is None or s.category == category)


def list_filters(category: str | None = None) -> list[dict[str, Any]]:
    """Every filter's schema as a JSON-able dict, by category then name.

    Raises
    ------
    UnsupportedParameterError
        When ``category`` is not one of ``CATEGORIES``.

    Examples
    --------
    >>> [p["name"] for p in list_filters("colour") if p["name"] == "brightness"][0]
    'brightness'
    >>> list_filters("colour")[0]["params"][0]["type"]
    'float'
    """
    if category is not None and category not in CATEGORIES:
        raise UnsupportedParameterError("category", category, CATEGORIES)
    specs = sorted(_REGISTRY.values(), key=lambda s: (CATEGORIES.index(s.category), s.name))
    return [s.to_dict() for s in specs if category is None or s.category == category]
