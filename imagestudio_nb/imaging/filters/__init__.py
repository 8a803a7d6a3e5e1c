"""Filters and effects on uint8 RGB/RGBA arrays, with a registry of typed parameter schemas.

Every filter is a function ``name(image, **params) -> new array`` and an entry in the registry
(``list_filters()``, ``get_filter(name)``) from which panels and the CLI are generated. Chains of
filters are applied (and fused) by ``imagestudio_nb.imaging.chains.apply_chain``.
"""

from __future__ import annotations

from .artistic import cartoon, oil_painting, pencil_sketch, posterize, watercolor
from .blur import gaussian_blur, motion_blur, sharpen, unsharp_mask, zoom_blur
from .colour import (
    brightness,
    contrast,
    curves,
    exposure,
    hue,
    levels,
    saturation,
    shadows_highlights,
    temperature,
    vibrance,
)
from .distortion import perspective, ripple, swirl, wave
from .lighting import ambient_light, drop_shadow, vignette
from .registry import CATEGORIES, FilterSpec, Param, filter_names, get_filter, list_filters
from .texture import texture_overlay
from .vintage import black_white, faded, film_grain, sepia

# Every registered filter is exported under its name; the registry is the one list of them.
__all__ = ["CATEGORIES", "FilterSpec", "Param", "filter_names", "get_filter", "list_filters", *filter_names()]
