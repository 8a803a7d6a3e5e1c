"""The reference renderer of a layer stack (DESIGN.md D3): layer dicts in, one RGBA image out.

Layers come bottom first, as stored in the project document; each is drawn (image asset, painted
strokes or text), filtered by its chain, cropped and transformed, masked, faded by its opacity, and
blended onto the canvas. It knows nothing of projects: assets arrive through ``load_asset(hash)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, UnsupportedParameterError
from .compositing import (
    BLEND_MODES,
    LAYER_KINDS,
    _blend_premultiplied,
    _place,
    _premultiplied,
    _to_uint8,
    normalise_transform,
)
from .strokes import mask_from_strokes, parse_color, render_strokes

AssetLoader = Callable[[str], np.ndarray]


def _rgba(array: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in (3, 4):
        raise InvalidArgumentError(
            f"{what} must be a uint8 RGB or RGBA array; got {array.dtype} {array.shape}"
        )
    if array.shape[2] == 3:
        return np.dstack([array, np.full(array.shape[:2], 255, np.uint8)])
    return array


def render_text(text: Mapping[str, Any]) -> np.ndarray:
    """Draw a text layer's ``content`` with Pillow's default font at ``font_size`` px: a tight RGBA image.

    Examples
    --------
    >>> img = render_text({"content": "Hi", "font_size": 20, "color": "#ff0000"})
    >>> img.shape[2], int(img[..., 3].max()), img[..., 0].max().tolist()
    (4, 255, 255)
    """
    from PIL import Image, ImageDraw, ImageFont

    content = str(text.get("content", ""))
    size = text.get("font_size", 32)
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not 1 <= size <= 2000:
        raise InvalidArgumentError(f"text font_size={size!r} must be a number of pixels in 1..2000")
    colour = parse_color(text.get("color", "#000000"))
    font = ImageFont.load_default(size=float(size))
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.multiline_textbbox((0, 0), content, font=font)
    coverage = Image.new("L", (max(1, int(right)), max(1, int(bottom))), 0)
    ImageDraw.Draw(coverage).multiline_text((0, 0), content, fill=255, font=font)
    alpha = np.asarray(coverage, np.uint8)
    out = np.empty(alpha.shape + (4,), np.uint8)
    out[..., :3] = colour
    out[..., 3] = alpha
    return out


def _source_pixels(
    layer: Mapping[str, Any],
    load_asset: AssetLoader,
    canvas_size: tuple[int, int],
    cache: MutableMapping | None,
) -> np.ndarray | None:
    """The layer's own pixels (RGBA uint8) after its filter chain, before transform; None if empty."""
    from .chains import apply_chain, chain_hash

    kind = layer.get("kind", "image")
    asset = layer.get("asset")
    chain = layer.get("filters") or []
    width, height = canvas_size
    if kind in ("image", "generated"):
        if not asset:
            return None
        key = (asset, chain_hash(chain)) if chain and cache is not None else None
        if key is not None:
            cached = cache.get(key)
            if cached is not None:
                return _rgba(cached, f"cached filtered layer {asset[:12]}")
        pixels = _rgba(load_asset(asset), f"asset {asset[:12]}")
        if chain:
            pixels = apply_chain(pixels, chain, load_asset=load_asset)
            if key is not None:
                cache[key] = pixels
        return pixels
    if kind == "paint":
        base = _rgba(load_asset(asset), f"asset {asset[:12]}") if asset else None
        h, w = base.shape[:2] if base is not None else (height, width)
        pixels = render_strokes(layer.get("strokes") or [], h, w, base)
    elif kind == "text":
        text = layer.get("text") or {}
        if not str(text.get("content", "")):
            return None
        pixels = render_text(text)
    else:
        raise UnsupportedParameterError("layer kind", kind, LAYER_KINDS)
    return apply_chain(pixels, chain, load_asset=load_asset) if chain else pixels


def _mask_matte(
    mask_layer: Mapping[str, Any], load_asset: AssetLoader, canvas_size: tuple[int, int]
) -> np.ndarray:
    """A mask layer's matte on the canvas (float32 H x W in [0, 1])."""
    width, height = canvas_size
    base = None
    if mask_layer.get("asset"):
        pixels = _rgba(load_asset(mask_layer["asset"]), f"mask asset {mask_layer['asset'][:12]}")
        placed, (x0, y0) = _place(pixels, normalise_transform(mask_layer.get("transform")), canvas_size)
        base = np.zeros((height, width), np.float32)
        if placed is not None:
            base[y0 : y0 + placed.shape[0], x0 : x0 + placed.shape[1]] = placed[..., 3]
    return mask_from_strokes(mask_layer.get("strokes") or [], height, width, base)


def _background(background: Any, width: int, height: int) -> np.ndarray:
    if background is None:
        return np.zeros((height, width, 4), np.float32)
    if isinstance(background, np.ndarray) and background.ndim == 3:
        if background.shape[:2] != (height, width):
            raise InvalidArgumentError(
                f"background is {background.shape[1]}x{background.shape[0]}, "
                f"the canvas {width}x{height}; they must match"
            )
        return _premultiplied(_rgba(background, "background"))
    if isinstance(background, str):
        rgba = (*parse_color(background), 255)
    elif isinstance(background, (tuple, list)) and len(background) in (3, 4):
        rgba = tuple(background) + ((255,) if len(background) == 3 else ())
    else:
        raise InvalidArgumentError(
            f"background={background!r} must be None, '#rrggbb', (r, g, b[, a]) or an array"
        )
    pixel = np.array(rgba, np.uint8).reshape(1, 1, 4)
    return np.repeat(np.repeat(_premultiplied(pixel), height, axis=0), width, axis=1)


def render_layers(
    layers: Sequence[Mapping[str, Any]],
    load_asset: AssetLoader,
    canvas_size: tuple[int, int],
    *,
    background: Any = None,
    cache: MutableMapping | None = None,
) -> np.ndarray:
    """Render a layer stack (bottom first) to the final RGBA uint8 image of ``canvas_size`` = (width, height).

    Parameters
    ----------
    layers : list of dict
        Layer dicts as in the project document: ``kind`` (image, generated, paint, text, mask),
        ``asset``, ``visible``, ``opacity``, ``blend_mode``, ``transform``, ``filters`` (a chain),
        ``strokes``, ``text``, ``mask`` (id of a mask layer). Missing keys take their defaults.
        Mask layers are not drawn; a hidden mask layer masks nothing. A layer marked ``deleted`` (soft
        delete: kept in the document so that it can be restored) is not drawn, and as a mask masks nothing.
    load_asset : callable
        ``load_asset(sha256_hex) -> uint8 RGB or RGBA array``.
    canvas_size : (int, int)
        Width and height of the result.
    background : None, str, tuple or numpy.ndarray
        Transparent (None), a colour ``"#rrggbb"``, an ``(r, g, b[, a])`` tuple, or a canvas-sized image.
    cache : mutable mapping, optional
        Filtered image-layer pixels keyed by ``(asset hash, chain_hash(chain))`` (derived assets, D3):
        read with ``cache.get(key)`` and filled with ``cache[key] = pixels``.

    Returns
    -------
    numpy.ndarray
        RGBA uint8 of shape (height, width, 4).

    Raises
    ------
    InvalidArgumentError, UnsupportedParameterError
        For a bad canvas size, layer kind, blend mode, opacity, transform, chain, or a missing mask layer.

    Examples
    --------
    >>> red = np.zeros((2, 2, 3), np.uint8); red[..., 0] = 255
    >>> layers = [{"id": "a", "kind": "image", "asset": "ab12", "opacity": 0.5, "transform": {"x": 1}}]
    >>> out = render_layers(layers, {"ab12": red}.__getitem__, (3, 2), background="#000000")
    >>> out[0].tolist()
    [[0, 0, 0, 255], [128, 0, 0, 255], [128, 0, 0, 255]]
    """
    try:
        width, height = (int(v) for v in canvas_size)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"canvas_size={canvas_size!r} must be (width, height)") from None
    if width < 1 or height < 1:
        raise InvalidArgumentError(f"canvas_size={canvas_size!r} must be positive")
    size = (width, height)
    canvas = _background(background, width, height)
    by_id = {layer.get("id"): layer for layer in layers}
    mattes: dict[Any, np.ndarray | None] = {}
    for layer in layers:
        kind = layer.get("kind", "image")
        if kind not in LAYER_KINDS:
            raise UnsupportedParameterError("layer kind", kind, LAYER_KINDS)
        if kind == "mask" or not layer.get("visible", True) or layer.get("deleted"):
            continue
        opacity = layer.get("opacity", 1.0)
        if isinstance(opacity, bool) or not isinstance(opacity, (int, float)) or not 0 <= opacity <= 1:
            raise UnsupportedParameterError(f"layer {layer.get('id')!r} opacity", opacity, "0..1")
        mode = layer.get("blend_mode") or "normal"
        if mode not in BLEND_MODES:
            raise UnsupportedParameterError(f"layer {layer.get('id')!r} blend_mode", mode, BLEND_MODES)
        if opacity == 0:
            continue
        pixels = _source_pixels(layer, load_asset, size, cache)
        if pixels is None:
            continue
        transform = normalise_transform(layer.get("transform"))
        if kind == "text":
            text = layer.get("text") or {}
            transform["x"] += text.get("x", 0)
            transform["y"] += text.get("y", 0)
        placed, (x0, y0) = _place(pixels, transform, size)
        if placed is None:
            continue
        region = (slice(y0, y0 + placed.shape[0]), slice(x0, x0 + placed.shape[1]))
        mask_id = layer.get("mask")
        if mask_id is not None:
            if mask_id not in mattes:
                mask_layer = by_id.get(mask_id)
                if mask_layer is None or mask_layer.get("kind") != "mask":
                    masks = [lay.get("id") for lay in layers if lay.get("kind") == "mask"]
                    raise InvalidArgumentError(
                        f"layer {layer.get('id')!r} names mask {mask_id!r}, which is not a "
                        f"mask layer of this stack; mask layers: {masks}"
                    )
                shown = mask_layer.get("visible", True) and not mask_layer.get("deleted")
                mattes[mask_id] = _mask_matte(mask_layer, load_asset, size) if shown else None
            if mattes[mask_id] is not None:
                placed *= mattes[mask_id][region][..., None]
        if opacity < 1:
            placed *= float(opacity)
        canvas[region] = _blend_premultiplied(canvas[region], placed, mode)
    return _to_uint8(canvas)


__all__ = ["render_layers", "render_text"]
