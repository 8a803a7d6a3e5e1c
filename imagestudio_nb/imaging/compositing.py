"""Compositing: W3C blend modes with source-over, opacity, masks, layer transforms, and the reference
renderer of a layer stack (DESIGN.md D3).

``render_layers`` turns the project document's layer dicts into the final RGBA image; the browser
only approximates it. It knows nothing of projects or files: assets come through ``load_asset``.
Internally layers are premultiplied float32, so transparent pixels never bleed colour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from ..errors import InvalidArgumentError, UnsupportedParameterError
from .codec import check_image_array
from .filters.channels import to_uint8
from .modes import BLEND_MODES, LAYER_KINDS  # re-exported: the renderer's names live in modes.py

_HALF_ON = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
_HALF_BACK = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
IDENTITY_TRANSFORM = {"x": 0, "y": 0, "scale_x": 1, "scale_y": 1, "rotation": 0, "crop": None}


def _hard_light(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.where(cs <= 0.5, cb * 2 * cs, cb + (2 * cs - 1) - cb * (2 * cs - 1))


def blend_colors(cb: np.ndarray, cs: np.ndarray, mode: str = "normal") -> np.ndarray:
    """The W3C separable blend function ``B(Cb, Cs)`` on float colours in [0, 1] (unpremultiplied).

    ``cb`` is the backdrop, ``cs`` the source; see the W3C Compositing and Blending Level 1 spec.

    Raises
    ------
    UnsupportedParameterError
        For an unknown mode; the message lists ``BLEND_MODES``.

    Examples
    --------
    >>> blend_colors(np.array([0.5]), np.array([0.5]), "multiply").tolist()
    [0.25]
    >>> blend_colors(np.array([0.2]), np.array([0.6]), "screen").round(2).tolist()
    [0.68]
    """
    if mode == "normal":
        return cs
    if mode == "multiply":
        return cb * cs
    if mode == "screen":
        return cb + cs - cb * cs
    if mode == "overlay":
        return _hard_light(cs, cb)
    if mode == "hard_light":
        return _hard_light(cb, cs)
    if mode == "darken":
        return np.minimum(cb, cs)
    if mode == "lighten":
        return np.maximum(cb, cs)
    if mode == "difference":
        return np.abs(cb - cs)
    if mode == "soft_light":
        d = np.where(cb <= 0.25, ((16 * cb - 12) * cb + 4) * cb, np.sqrt(cb))
        return np.where(cs <= 0.5, cb - (1 - 2 * cs) * cb * (1 - cb), cb + (2 * cs - 1) * (d - cb))
    if mode == "color_dodge":
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(cs >= 1, 1.0, np.minimum(1.0, cb / (1 - cs)))
        return np.where(cb <= 0, 0.0, out).astype(cb.dtype)
    if mode == "color_burn":
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(cs <= 0, 0.0, 1 - np.minimum(1.0, (1 - cb) / cs))
        return np.where(cb >= 1, 1.0, out).astype(cb.dtype)
    raise UnsupportedParameterError("blend_mode", mode, BLEND_MODES)


def _premultiplied(image: np.ndarray) -> np.ndarray:
    """uint8 RGB/RGBA -> premultiplied float32 RGBA in [0, 1]."""
    if image.shape[2] == 3:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2RGBA)
    f = np.multiply(image, np.float32(1 / 255), dtype=np.float32)
    f[..., :3] *= f[..., 3:]
    return f


def _to_uint8(premult: np.ndarray) -> np.ndarray:
    """Premultiplied float32 RGBA -> straight uint8 RGBA (colour 0 where fully transparent)."""
    alpha = np.ascontiguousarray(premult[..., 3])
    scale = np.divide(255, alpha, out=np.zeros_like(alpha), where=alpha > 1e-6)
    colour = premult[..., :3] * scale[..., None]
    out = cv2.cvtColor(to_uint8(colour), cv2.COLOR_RGB2RGBA)
    cv2.insertChannel(to_uint8(alpha * 255), out, 3)
    return out


def _blend_premultiplied(backdrop: np.ndarray, source: np.ndarray, mode: str) -> np.ndarray:
    """Source-over with blending, both premultiplied float32 RGBA: the W3C general formula.

    For ``normal`` the result is written into ``backdrop`` (which may be a view of the canvas).
    """
    a_s, a_b = source[..., 3:], backdrop[..., 3:]
    if mode == "normal":
        backdrop *= 1 - a_s
        backdrop += source
        return backdrop
    cs = np.where(a_s > 1e-6, source[..., :3] / np.maximum(a_s, 1e-6), 0)
    cb = np.where(a_b > 1e-6, backdrop[..., :3] / np.maximum(a_b, 1e-6), 0)
    mixed = blend_colors(cb, cs, mode)
    colour = source[..., :3] * (1 - a_b) + backdrop[..., :3] * (1 - a_s) + a_s * a_b * mixed
    return np.dstack([colour, a_s + a_b * (1 - a_s)]).astype(np.float32)


def _matte(mask: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape[:2] != shape:
        raise InvalidArgumentError(f"mask has shape {mask.shape[:2]}, the image {shape}; they must match")
    if mask.ndim == 3:
        mask = mask[..., -1]
    return (
        (mask.astype(np.float32) * (1 / 255))
        if mask.dtype == np.uint8
        else np.clip(mask.astype(np.float32), 0, 1)
    )


def composite(
    backdrop: np.ndarray,
    source: np.ndarray,
    *,
    mode: str = "normal",
    opacity: float = 1.0,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Composite ``source`` over ``backdrop`` with a W3C blend mode, opacity and an optional mask.

    Parameters
    ----------
    backdrop, source : numpy.ndarray
        uint8 RGB or RGBA images of the same height and width (RGB is opaque).
    mode : str
        One of ``BLEND_MODES``.
    opacity : float
        0..1, multiplies the source's alpha.
    mask : numpy.ndarray, optional
        H x W matte (uint8 0..255 or float 0..1) multiplying the source's alpha.

    Returns
    -------
    numpy.ndarray
        RGBA uint8: ``co = cs (1 - ab) + cb (1 - as) + as ab B(Cb, Cs)``, ``ao = as + ab (1 - as)``.

    Raises
    ------
    InvalidArgumentError, UnsupportedParameterError
        For mismatched sizes, an opacity outside 0..1, or an unknown mode.

    Examples
    --------
    >>> b = np.full((1, 1, 3), 200, np.uint8); s = np.full((1, 1, 3), 100, np.uint8)
    >>> composite(b, s, mode="multiply")[0, 0].tolist()
    [78, 78, 78, 255]
    >>> composite(b, s, opacity=0.5)[0, 0].tolist()
    [150, 150, 150, 255]
    """
    check_image_array(backdrop, name="backdrop")
    check_image_array(source, name="source")
    if backdrop.shape[:2] != source.shape[:2]:
        raise InvalidArgumentError(
            f"backdrop {backdrop.shape[:2]} and source {source.shape[:2]} differ in size"
        )
    if mode not in BLEND_MODES:
        raise UnsupportedParameterError("blend_mode", mode, BLEND_MODES)
    if not 0 <= float(opacity) <= 1:
        raise UnsupportedParameterError("opacity", opacity, "0..1")
    src = _premultiplied(source)
    scale = _matte(mask, source.shape[:2])
    if scale is not None:
        src *= (scale * float(opacity))[..., None]
    elif opacity < 1:
        src *= float(opacity)
    return _to_uint8(_blend_premultiplied(_premultiplied(backdrop), src, mode))


def apply_mask(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return RGBA ``image`` with its alpha multiplied by ``mask`` (uint8 0..255 or float 0..1).

    Examples
    --------
    >>> apply_mask(np.full((1, 2, 3), 9, np.uint8), np.array([[1.0, 0.5]]))[0, :, 3].tolist()
    [255, 128]
    """
    check_image_array(image)
    matte = _matte(mask, image.shape[:2])
    out = image if image.shape[2] == 4 else cv2.cvtColor(image, cv2.COLOR_RGB2RGBA)
    out = out.copy()
    out[..., 3] = np.clip(out[..., 3] * matte + 0.5, 0, 255).astype(np.uint8)
    return out


def set_opacity(image: np.ndarray, opacity: float) -> np.ndarray:
    """Return RGBA ``image`` with its alpha multiplied by ``opacity`` (0..1).

    Examples
    --------
    >>> set_opacity(np.full((1, 1, 3), 9, np.uint8), 0.5)[0, 0].tolist()
    [9, 9, 9, 128]
    """
    if not 0 <= float(opacity) <= 1:
        raise UnsupportedParameterError("opacity", opacity, "0..1")
    return apply_mask(image, np.full(image.shape[:2], float(opacity), np.float32))


def normalise_transform(transform: Mapping[str, Any] | None) -> dict[str, Any]:
    """Fill a layer transform's missing keys with the identity and check its values.

    Examples
    --------
    >>> normalise_transform({"x": 5})["scale_x"]
    1
    """
    out = dict(IDENTITY_TRANSFORM)
    out.update(transform or {})
    for key in ("x", "y", "scale_x", "scale_y", "rotation"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidArgumentError(f"transform {key}={value!r} must be a finite number")
    if out["scale_x"] == 0 or out["scale_y"] == 0:
        raise InvalidArgumentError("transform scale_x and scale_y must not be 0")
    crop = out["crop"]
    if crop is not None and (len(crop) != 4 or crop[2] <= 0 or crop[3] <= 0):
        raise InvalidArgumentError(
            f"transform crop={crop!r} must be [x, y, width, height] with a positive size"
        )
    return out


def crop_image(image: np.ndarray, box: Sequence[float] | None) -> np.ndarray:
    """Crop ``[x, y, width, height]`` (source pixels, clamped to the image); ``None`` keeps it whole.

    Examples
    --------
    >>> crop_image(np.zeros((10, 10, 4), np.uint8), [2, 3, 4, 100]).shape
    (7, 4, 4)
    """
    if box is None:
        return image
    x, y, w, h = (int(round(v)) for v in box)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(image.shape[1], x + w), min(image.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        raise InvalidArgumentError(
            f"crop {list(box)} lies outside the {image.shape[1]}x{image.shape[0]} image"
        )
    return image[y0:y1, x0:x1]


def transform_matrix(transform: Mapping[str, Any], width: int, height: int) -> np.ndarray:
    """The 2x3 matrix placing a (cropped) ``width`` x ``height`` layer on the canvas.

    The layer is scaled, rotated clockwise by ``rotation`` degrees about its centre, and put so that
    its unrotated top-left corner is at ``(x, y)``.

    Examples
    --------
    >>> transform_matrix({"x": 10, "y": 5}, 4, 4).tolist()
    [[1.0, 0.0, 10.0], [0.0, 1.0, 5.0]]
    """
    t = normalise_transform(transform)
    sx, sy = float(t["scale_x"]), float(t["scale_y"])
    theta = math.radians(float(t["rotation"]))
    c, s = math.cos(theta), math.sin(theta)
    linear = np.array([[c, -s], [s, c]]) @ np.diag([sx, sy])
    half = np.array([width / 2, height / 2])
    centre = np.array([t["x"] + width * sx / 2, t["y"] + height * sy / 2])
    return np.hstack([linear, (centre - linear @ half)[:, None]])


def transform_layer(
    image: np.ndarray, transform: Mapping[str, Any] | None, canvas_size: tuple[int, int]
) -> np.ndarray:
    """Crop, scale, rotate and place ``image`` on a transparent canvas of ``canvas_size`` = (width, height).

    Returns RGBA uint8. Interpolation is bilinear on premultiplied colour; an identity placement is exact.

    Examples
    --------
    >>> out = transform_layer(np.full((2, 2, 3), 7, np.uint8), {"x": 1, "y": 1}, (4, 3))
    >>> out[..., 3].tolist()
    [[0, 0, 0, 0], [0, 255, 255, 0], [0, 255, 255, 0]]
    """
    check_image_array(image)
    premult, (x0, y0) = _place(image, normalise_transform(transform), canvas_size)
    width, height = canvas_size
    out = np.zeros((height, width, 4), np.float32)
    if premult is not None:
        out[y0 : y0 + premult.shape[0], x0 : x0 + premult.shape[1]] = premult
    return _to_uint8(out)


def _place(image: np.ndarray, t: dict[str, Any], canvas_size: tuple[int, int]):
    """Premultiplied float32 pixels of the placed layer within its bounding box, and the box's origin."""
    src = crop_image(image, t["crop"])
    h, w = src.shape[:2]
    cw, ch = canvas_size
    m = transform_matrix(t, w, h)
    if np.allclose(m[:, :2], np.eye(2)) and float(m[0, 2]).is_integer() and float(m[1, 2]).is_integer():
        x, y = int(m[0, 2]), int(m[1, 2])  # pure integer shift: exact copy of the overlap
        x0, y0, x1, y1 = max(0, x), max(0, y), min(cw, x + w), min(ch, y + h)
        if x1 <= x0 or y1 <= y0:
            return None, (0, 0)
        return _premultiplied(np.ascontiguousarray(src[y0 - y : y1 - y, x0 - x : x1 - x])), (x0, y0)
    corners = m @ np.array([[0, w, w, 0], [0, 0, h, h], [1, 1, 1, 1]], np.float64)
    x0, y0 = max(0, math.floor(corners[0].min())), max(0, math.floor(corners[1].min()))
    x1, y1 = min(cw, math.ceil(corners[0].max()) + 1), min(ch, math.ceil(corners[1].max()) + 1)
    if x1 <= x0 or y1 <= y0:
        return None, (0, 0)
    pre = _premultiplied(np.ascontiguousarray(src))
    sx, sy = min(1.0, abs(t["scale_x"])), min(1.0, abs(t["scale_y"]))
    if sx < 1 or sy < 1:  # shrink by area averaging first: bilinear sampling alone would alias
        nw, nh = max(1, round(w * sx)), max(1, round(h * sy))
        pre = cv2.resize(pre, (nw, nh), interpolation=cv2.INTER_AREA)
        m = m @ np.array([[w / nw, 0, 0], [0, h / nh, 0], [0, 0, 1]])
    # A pixel (i, j) covers [i, i+1) in the transform's coordinates; cv2 puts pixel centres on integers.
    cv_m = _HALF_BACK @ np.vstack([m, [0, 0, 1]]) @ _HALF_ON
    cv_m[:2, 2] -= (x0, y0)
    placed = cv2.warpAffine(
        pre,
        cv_m[:2],
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    return placed, (x0, y0)


def render_layers(
    layers: Sequence[Mapping[str, Any]],
    load_asset,
    canvas_size: tuple[int, int],
    *,
    background: Any = None,
    cache=None,
) -> np.ndarray:
    """Render a layer stack (bottom first) to RGBA uint8 of ``canvas_size`` = (width, height).

    The reference renderer (DESIGN.md D3); it lives in ``layer_render`` for size, where its
    parameters are documented. ``load_asset(hash) -> uint8 array``; ``cache`` optionally holds
    filtered layer pixels keyed by ``(asset hash, chain hash)``.

    Examples
    --------
    >>> render_layers([], {}.__getitem__, (2, 1), background="#ff0000")[0, 0].tolist()
    [255, 0, 0, 255]
    """
    from .layer_render import render_layers as render

    return render(layers, load_asset, canvas_size, background=background, cache=cache)


__all__ = [
    "BLEND_MODES",
    "LAYER_KINDS",
    "blend_colors",
    "composite",
    "apply_mask",
    "set_opacity",
    "normalise_transform",
    "crop_image",
    "transform_matrix",
    "transform_layer",
    "render_layers",
]
