"""Colour and tone filters: brightness, contrast, saturation, hue, exposure, temperature/tint, vibrance,
shadows/highlights, levels and curves.

Most of these are colour matrices or tone curves (see ``colour_ops``) so that chains fuse them into
one pass; vibrance and shadows/highlights depend on more than one channel and run on their own.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...errors import UnsupportedParameterError
from .blur import gaussian
from .channels import to_uint8
from .colour_ops import LUMA, ColourMatrix, ToneCurve, apply_colour_ops, hue_rotate_matrix, saturate_matrix
from .registry import Param, register


def _brightness_op(amount: float) -> ColourMatrix:
    return ColourMatrix.of(b=[amount * 255] * 3)


@register(
    "brightness",
    category="colour",
    identity={"amount": 0.0},
    colour_op=_brightness_op,
    params=[Param("amount", "float", 0.0, -1.0, 1.0, "", "Added to every channel, as a fraction of white.")],
)
def brightness(image: np.ndarray, *, amount: float = 0.0) -> np.ndarray:
    """Brighten or darken by adding ``amount * 255`` to every channel.

    Examples
    --------
    >>> brightness(np.full((1, 1, 3), 100, np.uint8), amount=0.1)[0, 0].tolist()
    [126, 126, 126]
    """
    return apply_colour_ops(image, [_brightness_op(amount)])


def _contrast_op(amount: float) -> ColourMatrix:
    gain = 1 + amount
    return ColourMatrix.of(gain * np.eye(3), [127.5 * (1 - gain)] * 3)


@register(
    "contrast",
    category="colour",
    identity={"amount": 0.0},
    colour_op=_contrast_op,
    params=[
        Param(
            "amount",
            "float",
            0.0,
            -1.0,
            1.0,
            "",
            "Slope around mid-grey is 1 + amount: -1 gives flat grey, 1 doubles contrast.",
        )
    ],
)
def contrast(image: np.ndarray, *, amount: float = 0.0) -> np.ndarray:
    """Stretch or flatten tones around mid-grey (127.5).

    Examples
    --------
    >>> contrast(np.array([[[0, 127, 255]]], np.uint8), amount=0.2)[0, 0].tolist()
    [0, 127, 255]
    """
    return apply_colour_ops(image, [_contrast_op(amount)])


def _saturation_op(amount: float) -> ColourMatrix:
    return ColourMatrix.of(saturate_matrix(1 + amount))


@register(
    "saturation",
    category="colour",
    identity={"amount": 0.0},
    colour_op=_saturation_op,
    params=[
        Param(
            "amount",
            "float",
            0.0,
            -1.0,
            1.0,
            "",
            "-1 removes colour, 1 doubles it (W3C saturate matrix with s = 1 + amount).",
        )
    ],
)
def saturation(image: np.ndarray, *, amount: float = 0.0) -> np.ndarray:
    """Change colourfulness with the W3C ``saturate`` matrix, keeping Rec. 709 luma.

    Examples
    --------
    >>> saturation(np.array([[[200, 100, 50]]], np.uint8), amount=-1.0)[0, 0].tolist()
    [118, 118, 118]
    """
    return apply_colour_ops(image, [_saturation_op(amount)])


def _hue_op(degrees: float) -> ColourMatrix:
    return ColourMatrix.of(hue_rotate_matrix(degrees))


@register(
    "hue",
    category="colour",
    identity={"degrees": 0.0},
    colour_op=_hue_op,
    params=[Param("degrees", "float", 0.0, -180.0, 180.0, "deg", "Rotation of the hue circle.")],
)
def hue(image: np.ndarray, *, degrees: float = 0.0) -> np.ndarray:
    """Rotate hues with the W3C ``hue-rotate`` matrix (luma is kept).

    Examples
    --------
    >>> hue(np.array([[[128, 128, 128]]], np.uint8), degrees=90)[0, 0].tolist()
    [128, 128, 128]
    """
    return apply_colour_ops(image, [_hue_op(degrees)])


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in 0..1 to linear light (IEC 61966-2-1)."""
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """Linear light in 0..1 (clipped) to sRGB-encoded values."""
    values = np.clip(values, 0, 1)
    return np.where(values <= 0.0031308, values * 12.92, 1.055 * values ** (1 / 2.4) - 0.055)


def _exposure_op(stops: float) -> ToneCurve:
    return ToneCurve.per_channel(lambda x: linear_to_srgb(srgb_to_linear(x / 255) * 2.0**stops) * 255)


@register(
    "exposure",
    category="colour",
    identity={"stops": 0.0},
    colour_op=_exposure_op,
    params=[Param("stops", "float", 0.0, -5.0, 5.0, "EV", "Light multiplied by 2**stops, in linear light.")],
)
def exposure(image: np.ndarray, *, stops: float = 0.0) -> np.ndarray:
    """Change exposure in photographic stops, computed in linear light (sRGB decoded, scaled, encoded).

    Examples
    --------
    >>> exposure(np.array([[[0, 100, 255]]], np.uint8), stops=1.0)[0, 0].tolist()
    [0, 138, 255]
    """
    return apply_colour_ops(image, [_exposure_op(stops)])


def _temperature_op(amount: float, tint: float) -> ColourMatrix:
    return ColourMatrix.of(
        np.diag([1 + 0.25 * amount + 0.1 * tint, 1 - 0.2 * tint, 1 - 0.25 * amount + 0.1 * tint])
    )


@register(
    "temperature",
    category="colour",
    identity={"amount": 0.0, "tint": 0.0},
    colour_op=_temperature_op,
    params=[
        Param("amount", "float", 0.0, -1.0, 1.0, "", "Warmer (positive: red up, blue down) or cooler."),
        Param("tint", "float", 0.0, -1.0, 1.0, "", "Magenta (positive: green down) or green."),
    ],
)
def temperature(image: np.ndarray, *, amount: float = 0.0, tint: float = 0.0) -> np.ndarray:
    """White balance: warm/cool by red and blue gains, tint by green against red and blue.

    Examples
    --------
    >>> temperature(np.full((1, 1, 3), 100, np.uint8), amount=0.4)[0, 0].tolist()
    [110, 100, 90]
    """
    return apply_colour_ops(image, [_temperature_op(amount, tint)])


@register(
    "vibrance",
    category="colour",
    identity={"amount": 0.0},
    rgb_only=True,
    params=[Param("amount", "float", 0.0, -1.0, 1.0, "", "Saturation change, strongest on dull colours.")],
)
def vibrance(image: np.ndarray, *, amount: float = 0.0) -> np.ndarray:
    """Saturate dull colours more than vivid ones: ``luma + (c - luma) * (1 + amount * (1 - sat))``.

    ``sat`` is the pixel's chroma ``(max - min) / 255``, so already vivid colours do not clip.

    Examples
    --------
    >>> vibrance(np.array([[[120, 100, 100], [255, 0, 0]]], np.uint8), amount=1.0)[0].tolist()
    [[135, 96, 96], [255, 0, 0]]
    """
    if amount == 0:
        return image.copy()
    # In-place float32 work on few arrays: fresh full-size temporaries cost more than the arithmetic.
    rgb = image.astype(np.float32)
    luma = cv2.transform(rgb, LUMA[None, :].astype(np.float32)).reshape(rgb.shape[:2])
    r, g, b = cv2.split(image)
    chroma = cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))
    factor = 1 + amount - chroma.astype(np.float32) * (amount / 255)
    rgb *= factor[..., None]
    rgb += (luma * (1 - factor))[..., None]
    return to_uint8(rgb)


@register(
    "shadows_highlights",
    category="colour",
    identity={"shadows": 0.0, "highlights": 0.0},
    rgb_only=True,
    params=[
        Param("shadows", "float", 0.0, -1.0, 1.0, "", "Lift (positive) or deepen dark tones."),
        Param("highlights", "float", 0.0, -1.0, 1.0, "", "Brighten (positive) or recover bright tones."),
        Param(
            "radius",
            "float",
            20.0,
            0.0,
            200.0,
            "px",
            "Blur of the tone mask; larger keeps local contrast, 0 is a pure tone curve.",
        ),
    ],
)
def shadows_highlights(
    image: np.ndarray, *, shadows: float = 0.0, highlights: float = 0.0, radius: float = 20.0
) -> np.ndarray:
    """Adjust dark and bright regions separately, driven by a (blurred) luma mask.

    With ``L`` the luma in 0..1 (blurred by ``radius``), the shadow weight is ``clip(1 - 2L)**2``,
    the highlight weight ``clip(2L - 1)**2``, and ``127.5 * (shadows * ws + highlights * wh)`` is added.

    Examples
    --------
    >>> grey = np.array([[[0] * 3, [128] * 3, [255] * 3]], np.uint8)
    >>> shadows_highlights(grey, shadows=0.5, radius=0)[..., 0].tolist()
    [[64, 128, 255]]
    """
    if shadows == 0 and highlights == 0:
        return image.copy()
    luma = cv2.transform(image.astype(np.float32), (LUMA[None, :] / 255).astype(np.float32))
    luma = luma.reshape(image.shape[:2])
    if radius > 0:
        luma = gaussian(luma, radius)
    ws = np.clip(1 - 2 * luma, 0, 1)
    wh = np.clip(2 * luma - 1, 0, 1)
    offset = (127.5 * shadows) * ws * ws + (127.5 * highlights) * wh * wh
    return cv2.add(image, cv2.merge([offset] * 3), dtype=cv2.CV_8U)


def _levels_op(
    in_black: float, in_white: float, gamma: float, out_black: float, out_white: float
) -> ToneCurve:
    if in_white <= in_black:
        raise UnsupportedParameterError("levels.in_white", in_white, f"a value above in_black={in_black:g}")

    def curve(x: np.ndarray) -> np.ndarray:
        t = np.clip((x - in_black) / (in_white - in_black), 0, 1) ** (1 / gamma)
        return out_black + t * (out_white - out_black)

    return ToneCurve.per_channel(curve)


@register(
    "levels",
    category="colour",
    colour_op=_levels_op,
    identity={"in_black": 0.0, "in_white": 255.0, "gamma": 1.0, "out_black": 0.0, "out_white": 255.0},
    params=[
        Param("in_black", "float", 0.0, 0.0, 254.0, "level", "Input level that becomes black."),
        Param("in_white", "float", 255.0, 1.0, 255.0, "level", "Input level that becomes white."),
        Param("gamma", "float", 1.0, 0.1, 10.0, "", "Midtone gamma; above 1 brightens."),
        Param("out_black", "float", 0.0, 0.0, 255.0, "level", "Output level of black."),
        Param("out_white", "float", 255.0, 0.0, 255.0, "level", "Output level of white."),
    ],
)
def levels(
    image: np.ndarray,
    *,
    in_black: float = 0.0,
    in_white: float = 255.0,
    gamma: float = 1.0,
    out_black: float = 0.0,
    out_white: float = 255.0,
) -> np.ndarray:
    """Photographic levels: ``out_black + ((x - in_black) / (in_white - in_black)) ** (1/gamma) * range``.

    Examples
    --------
    >>> levels(np.array([[[10, 128, 250]]], np.uint8), in_black=10, in_white=250)[0, 0].tolist()
    [0, 125, 255]
    """
    return apply_colour_ops(image, [_levels_op(in_black, in_white, gamma, out_black, out_white)])


def pchip(xs: np.ndarray, ys: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Monotone piecewise-cubic Hermite interpolation (Fritsch-Carlson, as SciPy's PCHIP), flat outside.

    Examples
    --------
    >>> pchip(np.array([0.0, 128, 255]), np.array([0.0, 160, 255]), np.array([0.0, 128, 255])).tolist()
    [0.0, 160.0, 255.0]
    """
    xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
    h = np.diff(xs)
    delta = np.diff(ys) / h
    d = np.zeros_like(ys)
    if len(xs) == 2:
        d[:] = delta[0]
    else:
        w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
        same = (delta[:-1] * delta[1:]) > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            harmonic = (w1 + w2) / (w1 / delta[:-1] + w2 / delta[1:])
        d[1:-1] = np.where(same, harmonic, 0)
        for i, (hh, dd, dn) in ((0, (h[0], delta[0], delta[1])), (-1, (h[-1], delta[-1], delta[-2]))):
            h1 = h[1] if i == 0 else h[-2]
            end = ((2 * hh + h1) * dd - hh * dn) / (hh + h1)
            if np.sign(end) != np.sign(dd):
                end = 0.0
            elif np.sign(dd) != np.sign(dn) and abs(end) > abs(3 * dd):
                end = 3 * dd
            d[i] = end
    x = np.clip(x, xs[0], xs[-1])
    k = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
    t = (x - xs[k]) / h[k]
    t2, t3 = t * t, t * t * t
    return (
        (2 * t3 - 3 * t2 + 1) * ys[k]
        + (t3 - 2 * t2 + t) * h[k] * d[k]
        + (-2 * t3 + 3 * t2) * ys[k + 1]
        + (t3 - t2) * h[k] * d[k + 1]
    )


_LINE = [[0.0, 0.0], [255.0, 255.0]]


def _curve_values(points: list) -> np.ndarray:
    pts = np.asarray(points, np.float64)
    return pchip(pts[:, 0], pts[:, 1], np.arange(256, dtype=np.float64))


def _curves_op(rgb: list, red: list, green: list, blue: list) -> ToneCurve:
    master = _curve_values(rgb)
    channels = [np.interp(_curve_values(c), np.arange(256), master) for c in (red, green, blue)]
    return ToneCurve(np.stack(channels, axis=1))


@register(
    "curves",
    category="colour",
    colour_op=_curves_op,
    identity={"rgb": _LINE, "red": _LINE, "green": _LINE, "blue": _LINE},
    params=[
        Param(name, "curve", _LINE, 0.0, 255.0, "level", f"{label} curve: [input, output] points.")
        for name, label in (("rgb", "Master"), ("red", "Red"), ("green", "Green"), ("blue", "Blue"))
    ],
)
def curves(
    image: np.ndarray, *, rgb: list = _LINE, red: list = _LINE, green: list = _LINE, blue: list = _LINE
) -> np.ndarray:
    """Tone curves through control points (monotone cubic): each channel's curve, then the master curve.

    Examples
    --------
    >>> curves(np.array([[[64, 128, 192]]], np.uint8), rgb=[[0, 0], [128, 160], [255, 255]])[0, 0].tolist()
    [89, 160, 215]
    """
    return apply_colour_ops(image, [_curves_op(rgb, red, green, blue)])


__all__ = [
    "brightness",
    "contrast",
    "saturation",
    "hue",
    "exposure",
    "temperature",
    "vibrance",
    "shadows_highlights",
    "levels",
    "curves",
    "srgb_to_linear",
    "linear_to_srgb",
    "pchip",
]
