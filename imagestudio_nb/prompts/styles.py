"""Style presets shipped as data (``data/styles.toml``): slot phrases that change a prompt, terms that
clash with the style, and a suggested filter chain. This module only reads data; it never writes.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import UnsupportedParameterError

#: The slots of a prompt, in the order the local engine writes them.
SLOTS = ("subject", "medium", "style", "lighting", "composition", "lens", "colour", "detail")
#: The slots a style preset can fill (the subject is always the user's).
STYLE_SLOTS = SLOTS[1:]


@dataclass(frozen=True)
class StylePreset:
    """A named look: options per slot (first = default), clashing terms and a suggested filter chain."""

    name: str
    title: str
    description: str
    options: dict[str, tuple[str, ...]]
    avoid: tuple[str, ...] = ()
    filters: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def option(self, slot: str, index: int = 0) -> str | None:
        """Return option ``index`` (cycling) for ``slot``, or ``None`` when the style leaves it alone."""
        values = self.options.get(slot, ())
        return values[index % len(values)] if values else None

    def filter_chain(self) -> list[dict[str, Any]]:
        """The suggested filter chain as ``[{"filter": name, "params": {...}}]`` (a fresh copy)."""
        return copy.deepcopy([dict(step) for step in self.filters])

    def as_dict(self) -> dict[str, Any]:
        """Plain data for panels, the CLI and JSON output."""
        return {"name": self.name, "title": self.title, "description": self.description,
                "options": {k: list(v) for k, v in self.options.items()}, "avoid": list(self.avoid),
                "filters": self.filter_chain()}


def _read_data(name: str) -> dict[str, Any]:
    text = resources.files("imagestudio_nb.prompts").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


@lru_cache(maxsize=1)
def _presets() -> dict[str, StylePreset]:
    presets = {}
    for name, raw in _read_data("styles.toml").items():
        options = {slot: tuple(raw.get(slot, ())) for slot in STYLE_SLOTS}
        filters = tuple({"filter": step["filter"], "params": dict(step.get("params", {}))}
                        for step in raw.get("filters", ()))
        presets[name] = StylePreset(name, raw.get("title", name), raw.get("description", ""), options,
                                    tuple(raw.get("avoid", ())), filters)
    return presets


def list_styles() -> list[StylePreset]:
    """Return every style preset, in the order of the data file.

    Examples
    --------
    >>> [s.name for s in list_styles()][:3]
    ['general', 'photographic', 'cinematic']
    """
    return list(_presets().values())


def normalize_style_name(name: str) -> str:
    """Map user spellings (``"Pixel art"``, ``"pixel-art"``, ``"3d render"``) to a preset name."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"3d_render": "render_3d", "3d": "render_3d", "watercolour": "watercolor", "photo": "photographic",
               "photography": "photographic", "product": "product_studio", "vector": "flat_vector",
               "film": "vintage_film", "oil": "oil_painting", "fantasy": "fantasy_art", "none": "general"}
    return aliases.get(key, key)


def get_style(name: str) -> StylePreset:
    """Return the preset called ``name``.

    Raises
    ------
    UnsupportedParameterError
        When no preset has that name; the message lists the presets.

    Examples
    --------
    >>> get_style("Pixel art").filter_chain()[0]["filter"]
    'posterize'
    >>> get_style("sepia-ish")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.UnsupportedParameterError: style='sepia-ish' is not supported; allowed: general, photographic, cinematic, watercolor, anime, isometric, pixel_art, oil_painting, line_art, render_3d, vintage_film, noir, minimalist, fantasy_art, product_studio, cyberpunk, comic, flat_vector
    """
    presets = _presets()
    preset = presets.get(normalize_style_name(name))
    if preset is None:
        raise UnsupportedParameterError("style", name, list(presets))
    return preset


def style_filters(name: str) -> list[dict[str, Any]]:
    """Return the filter chain a style suggests (``[{"filter", "params"}]``), for ``apply_filters``."""
    return get_style(name).filter_chain()
