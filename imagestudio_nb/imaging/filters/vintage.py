"""Vintage filters: sepia, black & white with a channel mix, film grain and a faded look.

Sepia, black & white and faded are colour matrices and fuse with neighbouring colour steps; film
grain is seeded noise (cached per size) weighted towards the midtones, as on film.
"""

from __future__ import annotations

import cv2
import numpy as np

from .caching import shared_cache
from .channels import to_uint8
from .colour_ops import ColourMatrix, apply_colour_ops, saturate_matrix
from .registry import Param, register


def sepia_matrix(amount: float) -> np.ndarray:
    """The W3C Filter Effects ``sepia`` matrix (3x3) for ``amount`` in 0..1."""
    r = 1 - amount
    return np.array(
        [
            [0.393 + 0.607 * r, 0.769 - 0.769 * r, 0.189 - 0.189 * r],
            [0.349 - 0.349 * r, 0.686 + 0.314 * r, 0.168 - 0.168 * r],
            [0.272 - 0.272 * r, 0.534 - 0.534 * r, 0.131 + 0.869 * r],
        ]
    )


def _sepia_op(amount: float) -> ColourMatrix:
    return ColourMatrix.of(sepia_matrix(amount))


@register(
    "sepia",
    category="vintage",
    identity={"amount": 0.0},
    colour_op=_sepia_op,
    params=[Param("amount", "float", 1.0, 0.0, 1.0, "", "0 is the original, 1 full sepia.")],
)
def sepia(image: np.ndarray, *, amount: float = 1.0) -> np.ndarray:
    """Sepia toning with the W3C ``sepia`` matrix.

    Examples
    --------
    >>> sepia(np.array([[[100, 100, 100]]], np.uint8))[0, 0].tolist()
    [135, 120, 94]
    """
    return apply_colour_ops(image, [_sepia_op(amount)])


def _black_white_op(red: float, green: float, blue: float, amount: float) -> ColourMatrix:
    grey = np.tile([red, green, blue], (3, 1))
    return ColourMatrix.of((1 - amount) * np.eye(3) + amount * grey)


@register(
    "black_white",
    category="vintage",
    identity={"amount": 0.0},
    colour_op=_black_white_op,
    params=[
        Param("red", "float", 0.2126, -2.0, 3.0, "", "Weight of red in the grey (a red filter raises it)."),
        Param("green", "float", 0.7152, -2.0, 3.0, "", "Weight of green in the grey."),
        Param("blue", "float", 0.0722, -2.0, 3.0, "", "Weight of blue in the grey."),
        Param("amount", "float", 1.0, 0.0, 1.0, "", "0 is the original, 1 fully black and white."),
    ],
)
def black_white(
    image: np.ndarray,
    *,
    red: float = 0.2126,
    green: float = 0.7152,
    blue: float = 0.0722,
    amount: float = 1.0,
) -> np.ndarray:
    """Black and white by a channel mix: grey = ``red * R + green * G + blue * B`` (Rec. 709 luma by default).

    Examples
    --------
    >>> black_white(np.array([[[200, 100, 50]]], np.uint8), red=1.0, green=0.0, blue=0.0)[0, 0].tolist()
    [200, 200, 200]
    """
    return apply_colour_ops(image, [_black_white_op(red, green, blue, amount)])


def grain_noise(height: int, width: int, *, size: float, seed: int, channels: int) -> np.ndarray:
    """Seeded Gaussian noise of unit deviation, blurred to grains of ``size`` pixels (float32, H x W x C)."""

    def make() -> np.ndarray:
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((height, width, channels), dtype=np.float32)
        sigma = size / 2
        if sigma > 0.3:
            k = 2 * int(3 * sigma + 0.5) + 1
            noise = cv2.GaussianBlur(noise, (k, k), sigma).reshape(height, width, channels)
        return (noise - noise.mean()) / max(float(noise.std()), 1e-6)

    return shared_cache.get_or_make(("grain", height, width, float(size), int(seed), channels), make)


@register(
    "film_grain",
    category="vintage",
    identity={"amount": 0.0},
    rgb_only=True,
    params=[
        Param("amount", "float", 0.3, 0.0, 1.0, "", "Strength: at 1 the midtone grain deviates 48 levels."),
        Param("size", "float", 1.5, 0.5, 20.0, "px", "Grain size."),
        Param("seed", "int", 0, 0, 2**31 - 1, "", "Seed of the grain pattern."),
        Param(
            "monochrome", "bool", True, description="Same grain in every channel (as black-and-white film)."
        ),
    ],
)
def film_grain(
    image: np.ndarray, *, amount: float = 0.3, size: float = 1.5, seed: int = 0, monochrome: bool = True
) -> np.ndarray:
    """Film grain: ``c + 48 * amount * n * (0.3 + 2.8 * L * (1 - L))``; ``n`` seeded noise, ``L`` luma 0..1.

    Examples
    --------
    >>> img = np.full((64, 64, 3), 128, np.uint8)
    >>> out = film_grain(img, amount=0.5, seed=7)
    >>> same = bool((film_grain(img, amount=0.5, seed=7) == out).all())
    >>> bool(abs(float(out.mean()) - 128) < 1), bool(out.std() > 5), same
    (True, True, True)
    """
    if amount == 0:
        return image.copy()
    h, w = image.shape[:2]
    noise = grain_noise(h, w, size=size, seed=seed, channels=1 if monochrome else 3)
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1 / 255)
    weight = (48 * amount) * (0.3 + 2.8 * luma * (1 - luma))
    out = image.astype(np.float32) + noise * weight[..., None]
    return to_uint8(out)


def _faded_op(amount: float) -> ColourMatrix:
    desaturate = ColourMatrix.of(saturate_matrix(1 - 0.3 * amount))
    tone = ColourMatrix.of((1 - 0.22 * amount) * np.eye(3), [0.12 * amount * 255] * 3)
    return desaturate.then(tone)


@register(
    "faded",
    category="vintage",
    identity={"amount": 0.0},
    colour_op=_faded_op,
    params=[
        Param(
            "amount",
            "float",
            0.5,
            0.0,
            1.0,
            "",
            "Lifted blacks, dimmed whites and softer colour; 0 is the original.",
        )
    ],
)
def faded(image: np.ndarray, *, amount: float = 0.5) -> np.ndarray:
    """Faded print: saturation times ``1 - 0.3a``, then tones mapped to ``x (1 - 0.22a) + 30.6a``.

    Examples
    --------
    >>> faded(np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8), amount=1.0)[0].tolist()
    [[31, 31, 31], [229, 229, 229]]
    """
    return apply_colour_ops(image, [_faded_op(amount)])


__all__ = ["sepia", "black_white", "film_grain", "faded", "sepia_matrix", "grain_noise"]
