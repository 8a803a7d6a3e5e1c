"""Texture overlays: procedural paper, canvas and grain, or a user's image, blended with a W3C blend mode.

Procedural textures are seeded (the same seed gives the same texture) and cached per size. A user's
texture arrives as an asset hash and is loaded through the ``load_asset`` callable the caller hands
over; this module never opens files itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from ...errors import InvalidArgumentError
from .caching import shared_cache
from .channels import to_uint8
from .registry import Param, register

TEXTURE_KINDS = ("paper", "canvas", "grain")
TEXTURE_BLENDS = ("overlay", "soft_light", "multiply", "screen")


def _noise(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    n = rng.standard_normal((h, w), dtype=np.float32)
    if sigma > 0.3:
        k = 2 * int(3 * sigma + 0.5) + 1
        n = cv2.GaussianBlur(n, (k, k), sigma, borderType=cv2.BORDER_REFLECT_101)
    return n / max(float(n.std()), 1e-6)


def procedural_texture(
    kind: str, height: int, width: int, *, scale: float = 1.0, seed: int = 0
) -> np.ndarray:
    """A grey texture in [0, 1] (float32, H x W) with mean near 0.5: ``paper``, ``canvas`` or ``grain``.

    Examples
    --------
    >>> t = procedural_texture("grain", 64, 64, seed=1)
    >>> again = procedural_texture("grain", 64, 64, seed=1)
    >>> t.shape, bool(abs(float(t.mean()) - 0.5) < 0.05), bool((again == t).all())
    ((64, 64), True, True)
    """
    if kind not in TEXTURE_KINDS:
        raise InvalidArgumentError(f"kind={kind!r} is not a texture; allowed: {', '.join(TEXTURE_KINDS)}")

    def make() -> np.ndarray:
        rng = np.random.default_rng(seed)
        if kind == "grain":
            t = 0.5 + 0.15 * _noise(rng, height, width, 0.5 * scale)
        elif kind == "paper":
            t = 0.5 + sum(
                a * _noise(rng, height, width, s * scale) for a, s in ((0.05, 0.7), (0.05, 3), (0.04, 12))
            )
            fibres = _noise(rng, height, width, 0.5 * scale)
            fibres = cv2.blur(fibres, (max(3, int(9 * scale)) | 1, 1))
            t = t + 0.03 * fibres / max(float(fibres.std()), 1e-6)
        else:
            period = 5.0 * scale
            ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
            weave = (
                np.cos(2 * math.pi * xs / period) * np.cos(math.pi * ys / period) ** 2
                + np.cos(2 * math.pi * ys / period) * np.cos(math.pi * xs / period) ** 2
            )
            t = 0.5 + 0.07 * weave + 0.03 * _noise(rng, height, width, 0.6 * scale)
        return np.clip(t, 0, 1).astype(np.float32)

    return shared_cache.get_or_make(("texture", kind, height, width, float(scale), int(seed)), make)


def tile_texture(texture: np.ndarray, height: int, width: int, *, scale: float = 1.0) -> np.ndarray:
    """A user's texture (uint8 RGB/RGBA or grey) as grey in [0, 1], scaled and tiled to H x W.

    Examples
    --------
    >>> tile_texture(np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8), 2, 3).tolist()
    [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
    """
    grey = (
        texture
        if texture.ndim == 2
        else cv2.cvtColor(np.ascontiguousarray(texture[..., :3]), cv2.COLOR_RGB2GRAY)
    )
    if scale != 1:
        th, tw = grey.shape
        size = (max(1, round(tw * scale)), max(1, round(th * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    reps = (math.ceil(height / grey.shape[0]), math.ceil(width / grey.shape[1]))
    return (np.tile(grey, reps)[:height, :width].astype(np.float32) * (1 / 255)).astype(np.float32)


@register(
    "texture_overlay",
    category="texture",
    identity={"amount": 0.0},
    rgb_only=True,
    uses_assets=True,
    params=[
        Param(
            "kind",
            "choice",
            "paper",
            choices=TEXTURE_KINDS,
            description="Procedural texture (ignored when an asset is given).",
        ),
        Param("amount", "float", 0.5, 0.0, 1.0, "", "Strength of the texture; 0 is the original."),
        Param("scale", "float", 1.0, 0.25, 16.0, "px", "Size of the texture's features (1 = finest)."),
        Param("seed", "int", 0, 0, 2**31 - 1, "", "Seed of the procedural texture."),
        Param("blend", "choice", "overlay", choices=TEXTURE_BLENDS, description="W3C blend mode."),
        Param("asset", "asset", "", description="Hash of a user's texture image ('' for procedural)."),
    ],
)
def texture_overlay(
    image: np.ndarray,
    *,
    kind: str = "paper",
    amount: float = 0.5,
    scale: float = 1.0,
    seed: int = 0,
    blend: str = "overlay",
    asset: str = "",
    load_asset: Callable[[str], np.ndarray] | None = None,
) -> np.ndarray:
    """Overlay a paper, canvas or grain texture (or a user's image, tiled) with a blend mode.

    ``out = c + amount * (B(c, t) - c)`` where ``B`` is the W3C blend of the image ``c`` (backdrop)
    and the grey texture ``t`` (source).

    Examples
    --------
    >>> img = np.full((16, 16, 3), 128, np.uint8)
    >>> out = texture_overlay(img, kind="canvas", amount=1.0)
    >>> out.shape, bool(out.std() > 0)
    ((16, 16, 3), True)
    """
    if amount == 0:
        return image.copy()
    from ..compositing import blend_colors

    h, w = image.shape[:2]
    if asset:
        if load_asset is None:
            raise InvalidArgumentError(
                f"texture asset {asset[:12]}... needs a load_asset(hash) function to read it"
            )
        tex = tile_texture(np.asarray(load_asset(asset)), h, w, scale=scale)
    else:
        tex = procedural_texture(kind, h, w, scale=scale, seed=seed)
    if blend != "soft_light":
        return _blend_grey(image, tex, blend, amount)
    cb = image.astype(np.float32) * (1 / 255)
    blended = blend_colors(cb, np.repeat(tex[..., None], 3, axis=2), blend)
    out = cb + amount * (blended - cb)
    return to_uint8(out * 255)


def _blend_grey(image: np.ndarray, tex: np.ndarray, blend: str, amount: float) -> np.ndarray:
    """``c + amount * (B(c, t) - c)`` for multiply, screen and overlay, as per-pixel gains.

    With a grey source these blends are ``c * g`` (dark side) or ``1 - (1 - c) * g`` (light side) for a
    gain ``g`` per pixel, so each costs one or two saturating multiplies instead of float algebra.
    """

    def gain(values: np.ndarray) -> np.ndarray:
        return cv2.merge([values.astype(np.float32)] * 3)

    if blend == "multiply":
        return cv2.multiply(image, gain(1 + amount * (tex - 1)), dtype=cv2.CV_8U)
    inverse = cv2.bitwise_not(image)
    if blend == "screen":
        return cv2.bitwise_not(cv2.multiply(inverse, gain(1 - amount * tex), dtype=cv2.CV_8U))
    k = amount * (2 * tex - 1)  # overlay: dark channels scale by 1 + k, light ones approach white by 1 - k
    dark = cv2.multiply(image, gain(1 + k), dtype=cv2.CV_8U)
    light = cv2.bitwise_not(cv2.multiply(inverse, gain(1 - k), dtype=cv2.CV_8U))
    dark_side = cv2.threshold(image, 127, 255, cv2.THRESH_BINARY_INV)[1]  # 255 where c <= 0.5
    return cv2.copyTo(dark, dark_side, light)


__all__ = ["texture_overlay", "procedural_texture", "tile_texture", "TEXTURE_KINDS"]
