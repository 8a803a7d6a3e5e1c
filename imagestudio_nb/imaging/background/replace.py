"""New backgrounds behind a cut-out: transparent, solid colour, linear or radial gradient, any image (fit or
fill), a blur of the original background, built-in templates, and an optional soft drop shadow.

Backgrounds are data (a colour string, a dict, a template name, or an array), so a replacement can be
stored and reproduced. Pure array work; no files, no Jupyter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import cv2
import numpy as np

from ...errors import InvalidArgumentError, UnsupportedParameterError
from ..codec import check_image_array
from ..strokes import parse_color

#: Built-in backgrounds, as data: each is a spec that ``replace_background(background=...)`` accepts.
BACKGROUND_TEMPLATES: dict[str, dict] = {
    "white": {"type": "solid", "color": "#ffffff"},
    "studio-grey": {"type": "radial", "colors": ["#f2f2f2", "#b9b9bb"], "center": [0.5, 0.42], "radius": 0.85},
    "studio-sweep": {"type": "sweep", "colors": ["#d9d9db", "#f4f4f4"], "horizon": 0.68, "vignette": 0.15},
    "soft-gradient": {"type": "linear", "colors": ["#fdfbfb", "#e2e8f0"], "angle": 90},
    "warm-gradient": {"type": "linear", "colors": ["#fff1e6", "#f8c8a8"], "angle": 120},
    "midnight": {"type": "radial", "colors": ["#3a4a6b", "#0d1220"], "center": [0.5, 0.45], "radius": 0.9},
}

#: ``fit`` modes for image backgrounds.
FITS = ("fill", "fit", "stretch")
_TYPES = ("transparent", "solid", "linear", "radial", "sweep", "image", "blur")

#: Default soft drop shadow: offset in pixels at 1024 px (scaled to the image), blur, opacity, colour.
DEFAULT_SHADOW = {"offset": [12, 18], "blur": 18, "opacity": 0.45, "color": "#000000"}


def _colors(spec: Mapping, n_min: int = 2) -> np.ndarray:
    colours = spec.get("colors")
    if not colours or len(colours) < n_min:
        raise InvalidArgumentError(f"a {spec.get('type')} background needs 'colors': a list of at least {n_min} '#rrggbb'")
    return np.array([parse_color(c) for c in colours], np.float32)


def _ramp(t: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Map t in [0, 1] through evenly spaced colour stops."""
    t = np.clip(t, 0, 1) * (len(colours) - 1)
    i = np.minimum(t.astype(np.int32), len(colours) - 2)
    f = (t - i)[..., None]
    return colours[i] * (1 - f) + colours[i + 1] * f


def render_background(spec, height: int, width: int, *, source: np.ndarray | None = None,
                      matte: np.ndarray | None = None, fit: str = "fill") -> np.ndarray | None:
    """Render a background spec into a float32 (H, W, 3) array in 0..255 (``None`` for transparent).

    Specs: ``None``/``"transparent"``; ``"#rrggbb"`` or an (r, g, b) tuple; a template name from
    ``BACKGROUND_TEMPLATES``; ``"blur"`` (needs ``source`` and ``matte``); an RGB(A) uint8 array; or a dict
    with ``type`` in solid, linear (``colors``, ``angle`` degrees), radial (``colors``, ``center``,
    ``radius``), sweep (``colors`` wall/floor, ``horizon``, ``vignette``), image (``image``, ``fit``),
    blur (``radius``).

    Examples
    --------
    >>> bg = render_background({"type": "linear", "colors": ["#000000", "#ffffff"], "angle": 0}, 2, 4)
    >>> bg.shape, bool(np.all(np.diff(bg[0, :, 0]) > 0))  # dark on the left, light on the right
    ((2, 4, 3), True)
    """
    if fit not in FITS:
        raise UnsupportedParameterError("fit", fit, FITS)
    if spec is None or (isinstance(spec, str) and spec == "transparent"):
        return None
    if isinstance(spec, np.ndarray):
        spec = {"type": "image", "image": spec, "fit": fit}
    elif isinstance(spec, str):
        if spec in BACKGROUND_TEMPLATES:
            spec = BACKGROUND_TEMPLATES[spec]
        elif spec == "blur":
            spec = {"type": "blur"}
        elif spec.startswith("#"):
            spec = {"type": "solid", "color": spec}
        else:
            raise InvalidArgumentError(
                f"background={spec!r} is not known; use 'transparent', 'blur', a '#rrggbb' colour, an image "
                f"array, a spec dict, or a template: {', '.join(BACKGROUND_TEMPLATES)}"
            )
    elif isinstance(spec, (tuple, list)) and len(spec) == 3:
        spec = {"type": "solid", "color": "#%02x%02x%02x" % tuple(int(v) for v in spec)}
    if not isinstance(spec, Mapping):
        raise InvalidArgumentError(f"background of type {type(spec).__name__} is not understood")
    kind = spec.get("type")
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    nx, ny = (xx + 0.5) / width, (yy + 0.5) / height
    if kind == "transparent":
        return None
    if kind == "solid":
        colour = np.array(parse_color(spec.get("color", "#ffffff")), np.float32)
        return np.broadcast_to(colour, (height, width, 3)).copy()
    if kind == "linear":
        angle = math.radians(float(spec.get("angle", 90)))  # 0: left to right, 90: top to bottom
        dx, dy = math.cos(angle), math.sin(angle)
        proj = (nx - 0.5) * dx + (ny - 0.5) * dy
        half = 0.5 * (abs(dx) + abs(dy))
        return _ramp(proj / (2 * half) + 0.5, _colors(spec))
    if kind == "radial":
        cx, cy = spec.get("center", (0.5, 0.5))
        radius = float(spec.get("radius", 0.75))
        aspect = width / height
        dist = np.hypot((nx - cx) * aspect, ny - cy) / max(1e-6, radius * max(1.0, aspect))
        return _ramp(dist, _colors(spec))
    if kind == "sweep":
        wall, floor = _colors(spec)[:2]
        horizon = float(spec.get("horizon", 0.68))
        t = 1 / (1 + np.exp(-(ny - horizon) / 0.07))
        vignette = 1 - float(spec.get("vignette", 0.15)) * np.minimum(1, np.hypot(nx - 0.5, ny - 0.55) / 0.75) ** 2
        return (wall * (1 - t[..., None]) + floor * t[..., None]) * vignette[..., None]
    if kind == "image":
        return _fit_image(spec.get("image"), height, width, spec.get("fit", fit))
    if kind == "blur":
        if source is None or matte is None:
            raise InvalidArgumentError("background='blur' needs the original image: pass a BackgroundResult")
        return _blurred_background(source, matte, float(spec.get("radius", max(height, width) / 40)))
    raise UnsupportedParameterError("background type", kind, _TYPES)


def _fit_image(image, height: int, width: int, fit: str) -> np.ndarray:
    if fit not in FITS:
        raise UnsupportedParameterError("fit", fit, FITS)
    image = check_image_array(image, name="background image")
    rgb = image[..., :3].astype(np.float32)
    ih, iw = rgb.shape[:2]
    if fit == "stretch":
        return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if iw > width else cv2.INTER_CUBIC)
    scale = (max if fit == "fill" else min)(width / iw, height / ih)
    nw, nh = max(1, round(iw * scale)), max(1, round(ih * scale))
    resized = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    if fit == "fill":  # cover the canvas, crop the overflow around the centre
        y0, x0 = (nh - height) // 2, (nw - width) // 2
        return np.ascontiguousarray(resized[y0:y0 + height, x0:x0 + width])
    # fit: letterbox on the image's own edge colour, blurred, so no hard bars appear
    canvas = cv2.resize(cv2.blur(rgb, (max(1, iw // 8),) * 2), (width, height), interpolation=cv2.INTER_LINEAR)
    y0, x0 = (height - nh) // 2, (width - nw) // 2
    canvas[y0:y0 + nh, x0:x0 + nw] = resized
    return canvas


def _blurred_background(source: np.ndarray, matte: np.ndarray, radius: float) -> np.ndarray:
    """Blur the original background with the subject cut out (normalised convolution: no halo)."""
    img = source[..., :3].astype(np.float32)
    weight = (1 - matte.astype(np.float32)) ** 2
    sigma = max(0.5, radius)
    num = cv2.GaussianBlur(img * weight[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)[..., None]
    filled = num / np.maximum(den, 1e-4)
    # Where the subject covers a whole neighbourhood, fall back to a wider blur of what is left.
    wide_num = cv2.GaussianBlur(img * weight[..., None], (0, 0), sigma * 4)
    wide = wide_num / np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma * 4)[..., None], 1e-4)
    trust = np.clip(den * 10, 0, 1)
    return filled * trust + wide * (1 - trust)


def drop_shadow(alpha: np.ndarray, *, offset=(12, 18), blur: float = 18, opacity: float = 0.45) -> np.ndarray:
    """Return a soft shadow coverage (float32 0..1) cast by ``alpha``, shifted by ``offset`` (dx, dy) pixels."""
    if not 0 <= opacity <= 1 or blur < 0:
        raise InvalidArgumentError("shadow opacity must be in 0..1 and blur >= 0")
    h, w = alpha.shape
    dx, dy = float(offset[0]), float(offset[1])
    shifted = cv2.warpAffine(alpha.astype(np.float32), np.float32([[1, 0, dx], [0, 1, dy]]), (w, h),
                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if blur > 0:
        shifted = cv2.GaussianBlur(shifted, (0, 0), blur / 2)
    return np.clip(shifted * opacity, 0, 1)


def _shadow_params(shadow, side: int) -> dict | None:
    if shadow in (None, False):
        return None
    params = dict(DEFAULT_SHADOW)
    scale = side / 1024  # defaults are for a 1024 px image
    params["offset"] = [v * scale for v in params["offset"]]
    params["blur"] = params["blur"] * scale
    if isinstance(shadow, Mapping):
        unknown = set(shadow) - set(DEFAULT_SHADOW)
        if unknown:
            raise UnsupportedParameterError("shadow key", sorted(unknown)[0], list(DEFAULT_SHADOW))
        params.update(shadow)
    elif shadow is not True:
        raise InvalidArgumentError("shadow must be True, False/None, or a dict with offset, blur, opacity, color")
    return params


def replace_background(image_or_result, background="transparent", *, fit: str = "fill",
                       shadow: bool | Mapping | None = None) -> np.ndarray:
    """Put a new background behind a cut-out; returns uint8 RGBA (alpha 255 where the background is opaque).

    Parameters
    ----------
    image_or_result : numpy.ndarray or BackgroundResult
        An RGBA cut-out (uint8), or the result of ``remove_background`` (needed for ``"blur"``).
    background : str, tuple, dict, numpy.ndarray or None
        ``"transparent"`` (default), ``"#rrggbb"``, a template name (``BACKGROUND_TEMPLATES``), ``"blur"``,
        an image array, or a spec dict (see :func:`render_background`).
    fit : {"fill", "fit", "stretch"}
        How an image background is scaled: cover and crop, contain (letterboxed), or stretch.
    shadow : bool or dict, optional
        A soft drop shadow under the subject; a dict overrides ``DEFAULT_SHADOW`` (offset in px, blur in
        px, opacity 0..1, color). Defaults are scaled from a 1024 px image.

    Returns
    -------
    numpy.ndarray
        uint8 (H, W, 4); on a transparent background the alpha is the subject's (plus its shadow).

    Raises
    ------
    InvalidArgumentError, UnsupportedParameterError
        For a background, fit or shadow value that is not understood.

    Examples
    --------
    >>> import numpy as np
    >>> cut = np.zeros((4, 4, 4), np.uint8); cut[1:3, 1:3] = (255, 0, 0, 255)
    >>> out = replace_background(cut, "#0000ff")
    >>> out[0, 0].tolist(), out[1, 1].tolist()
    ([0, 0, 255, 255], [255, 0, 0, 255])
    """
    source = matte = None
    if hasattr(image_or_result, "image") and hasattr(image_or_result, "matte"):
        cutout = image_or_result.image
        source, matte = image_or_result.source, image_or_result.matte
    else:
        cutout = check_image_array(image_or_result, name="cut-out")
        if cutout.shape[2] != 4:
            raise InvalidArgumentError("replace_background needs an RGBA cut-out or a BackgroundResult")
    h, w = cutout.shape[:2]
    alpha = cutout[..., 3].astype(np.float32) / 255
    if matte is None:
        matte = alpha
    fg = cutout[..., :3].astype(np.float32)
    bg = render_background(background, h, w, source=source, matte=matte, fit=fit)
    params = _shadow_params(shadow, max(h, w))
    if bg is None:
        out_rgb = fg
        out_a = alpha
        if params:
            sh = drop_shadow(alpha, offset=params["offset"], blur=params["blur"], opacity=params["opacity"])
            colour = np.array(parse_color(params["color"]), np.float32)
            out_a = alpha + sh * (1 - alpha)
            out_rgb = (fg * alpha[..., None] + colour * (sh * (1 - alpha))[..., None]) / np.maximum(out_a, 1e-6)[..., None]
        return np.dstack([np.clip(out_rgb + 0.5, 0, 255), np.clip(out_a * 255 + 0.5, 0, 255)]).astype(np.uint8)
    if params:
        sh = drop_shadow(alpha, offset=params["offset"], blur=params["blur"], opacity=params["opacity"])[..., None]
        colour = np.array(parse_color(params["color"]), np.float32)
        bg = bg * (1 - sh) + colour * sh
    a = alpha[..., None]
    out = fg * a + bg * (1 - a)
    return np.dstack([np.clip(out + 0.5, 0, 255).astype(np.uint8), np.full((h, w), 255, np.uint8)])
