"""Blur and sharpen filters: gaussian, motion, zoom (radial), unsharp mask and sharpen.

All run on OpenCV's separable or fixed-point paths. On RGBA images colour is averaged weighted by
alpha, so transparent pixels never darken the edge of a cut-out; alpha itself is left untouched.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import cv2
import numpy as np

from .channels import alpha_weighted, is_opaque, join_alpha, split_alpha, to_uint8
from .registry import Param, register


def gaussian_ksize(sigma: float) -> int:
    """Kernel size for ``sigma``: the kernel reaches 3 sigma each side (as SciPy with ``truncate=3``).

    Examples
    --------
    >>> gaussian_ksize(3.0)
    19
    """
    return 2 * int(3 * sigma + 0.5) + 1


def gaussian(array: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of any OpenCV array with reflect-101 borders; large sigmas are blurred at a smaller size.

    Above sigma 16 the image is reduced by an integer factor (area averaging), blurred there with the
    remaining sigma, and enlarged again: the cost stays flat where a full kernel would grow with sigma.
    """
    if sigma <= 0:
        return array.copy()
    factor = int(sigma // 8) if sigma > 16 else 1
    h, w = array.shape[:2]
    if factor > 1 and min(h, w) // factor >= 8:
        small = cv2.resize(array, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
        rest = math.sqrt(max(sigma**2 - (factor / 2) ** 2, 0.25)) / factor
        k = gaussian_ksize(rest)
        small = cv2.GaussianBlur(small, (k, k), rest)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    k = gaussian_ksize(sigma)
    return cv2.GaussianBlur(array, (k, k), sigma)


def _neighbourhood(image: np.ndarray, operation: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    rgb, alpha = split_alpha(image)
    return join_alpha(alpha_weighted(operation, rgb, alpha), alpha)


@register(
    "gaussian_blur",
    category="blur",
    identity={"sigma": 0.0},
    params=[Param("sigma", "float", 2.0, 0.0, 200.0, "px", "Standard deviation of the Gaussian.")],
)
def gaussian_blur(image: np.ndarray, *, sigma: float = 2.0) -> np.ndarray:
    """Gaussian blur (kernel truncated at 3 sigma, reflected borders).

    Examples
    --------
    >>> img = np.zeros((5, 5, 3), np.uint8); img[2, 2] = 255
    >>> out = gaussian_blur(img, sigma=1.0)
    >>> int(out[2, 2, 0]), int(out[2, 1, 0]), int(out.sum() > 0)
    (40, 25, 1)
    """
    if sigma == 0:
        return image.copy()
    return _neighbourhood(image, lambda a: gaussian(a, sigma))


@functools.lru_cache(maxsize=32)
def motion_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised line kernel: the share of a centred segment ``length`` px long at ``angle`` degrees
    (counter-clockwise from the x axis) that falls in each pixel.

    Axis-aligned odd lengths give an exact box; even lengths give half weights at both ends.

    Examples
    --------
    >>> (motion_kernel(3, 0.0) * 3).round(6).tolist()
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    t = math.radians(angle)
    ux, uy = math.cos(t), -math.sin(t)
    half = int(math.ceil(length / 2 * max(abs(ux), abs(uy)))) + 1
    samples = 16 * int(length)
    pos = (np.arange(samples) + 0.5) / samples * length - length / 2
    cols = np.rint(pos * ux + 1e-9).astype(int) + half
    rows = np.rint(pos * uy + 1e-9).astype(int) + half
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.float64)
    np.add.at(kernel, (rows, cols), 1.0)
    kernel = (kernel / samples).astype(np.float32)
    nz_r, nz_c = np.nonzero(kernel)
    r = max(abs(nz_r - half).max(), abs(nz_c - half).max())
    kernel = kernel[half - r : half + r + 1, half - r : half + r + 1]
    kernel.flags.writeable = False
    return kernel


@register(
    "motion_blur",
    category="blur",
    identity={"length": 1},
    params=[
        Param("length", "int", 15, 1, 500, "px", "Length of the motion streak."),
        Param("angle", "float", 0.0, -180.0, 180.0, "deg", "Direction, counter-clockwise from the x axis."),
    ],
)
def motion_blur(image: np.ndarray, *, length: int = 15, angle: float = 0.0) -> np.ndarray:
    """Average along a line, as a camera moving straight during the exposure.

    Examples
    --------
    >>> img = np.zeros((3, 5, 3), np.uint8); img[1, 2] = 90
    >>> motion_blur(img, length=3)[1, :, 0].tolist()
    [0, 30, 30, 30, 0]
    """
    if length <= 1:
        return image.copy()
    kernel = motion_kernel(int(length), float(angle))
    return _neighbourhood(image, lambda a: line_filter(a, kernel))


def line_filter(array: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate with a sparse centred line kernel (reflect-101 borders), tap by tap.

    A line kernel has about as many taps as pixels of length, so adding shifted views costs far
    less than ``cv2.filter2D`` (which turns to a full 2-D FFT for kernels this large). Axis-aligned
    lines become 1-D filters (a box filter for odd lengths).
    """
    r = kernel.shape[0] // 2
    taps = np.argwhere(kernel > 0)
    if (taps[:, 0] == r).all() or (taps[:, 1] == r).all():
        horizontal = (taps[:, 0] == r).all()
        line = kernel[r] if horizontal else kernel[:, r]
        weights = line[line > 0]
        if np.allclose(weights, weights[0]) and len(weights) % 2:
            size = (len(weights), 1) if horizontal else (1, len(weights))
            return cv2.blur(array, size, borderType=cv2.BORDER_REFLECT_101)
        one = np.ones(1, np.float32)
        kx, ky = (line, one) if horizontal else (one, line)
        return cv2.sepFilter2D(array, -1, kx, ky, borderType=cv2.BORDER_REFLECT_101)
    if kernel.shape[0] <= 11:  # below this size OpenCV convolves directly, which is faster than taps
        return cv2.filter2D(array, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    h, w = array.shape[:2]
    padded = cv2.copyMakeBorder(array, r, r, r, r, cv2.BORDER_REFLECT_101)
    acc = np.zeros(array.shape, np.float32)
    for dy, dx in taps:
        view = padded[dy : dy + h, dx : dx + w]
        cv2.addWeighted(acc, 1.0, view, float(kernel[dy, dx]), 0, dst=acc, dtype=cv2.CV_32F)
    return to_uint8(acc) if array.dtype == np.uint8 else acc


def _zoom(array: np.ndarray, amount: float, cx: float, cy: float) -> np.ndarray:
    """Average of ``n`` copies scaled by ``q**m`` (m = 0..n-1, ``q**(n-1) = 1 - amount``) about (cx, cy).

    Built by doubling: each pass averages the result with itself zoomed by the next power of ``q``,
    so 2**k samples cost k warps.
    """
    h, w = array.shape[:2]
    reach = amount * math.hypot(max(cx, w - 1 - cx), max(cy, h - 1 - cy))
    n = 2
    while n < min(reach, 1024):
        n *= 2
    q = (1 - amount) ** (1 / (n - 1)) if amount < 1 else 0.0
    # uint8 passes (fixed-point warps) are several times cheaper than float32 ones at large sizes;
    # the rounding of each pass adds well under a level of noise.
    acc = array
    step = 1
    while step < n:
        s = q**step
        m = np.array([[s, 0, cx * (1 - s)], [0, s, cy * (1 - s)]], np.float32)
        zoomed = cv2.warpAffine(
            acc, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101
        )
        acc = cv2.addWeighted(acc, 0.5, zoomed, 0.5, 0)
        step *= 2
    return acc


@register(
    "zoom_blur",
    category="blur",
    identity={"amount": 0.0},
    params=[
        Param("amount", "float", 0.1, 0.0, 1.0, "", "Zoom range sampled: 0.1 averages scales 0.9..1."),
        Param("center_x", "float", 0.5, 0.0, 1.0, "fraction", "Centre, as a fraction of the width."),
        Param("center_y", "float", 0.5, 0.0, 1.0, "fraction", "Centre, as a fraction of the height."),
    ],
)
def zoom_blur(
    image: np.ndarray, *, amount: float = 0.1, center_x: float = 0.5, center_y: float = 0.5
) -> np.ndarray:
    """Radial (zoom) blur: the average of copies scaled towards a centre by ``1 .. 1 - amount``
    (geometrically spaced scales, one per pixel of the largest displacement).

    Examples
    --------
    >>> img = np.zeros((9, 9, 3), np.uint8); img[4, 4] = 255
    >>> int(zoom_blur(img, amount=0.5)[4, 4, 0])
    255
    """
    if amount == 0:
        return image.copy()
    h, w = image.shape[:2]
    cx, cy = center_x * (w - 1), center_y * (h - 1)
    return _neighbourhood(image, lambda a: _zoom(a, amount, cx, cy))


def _sharpened(
    image: np.ndarray, blur: Callable[[np.ndarray], np.ndarray], amount: float, threshold: float = 0.0
) -> np.ndarray:
    rgb, alpha = split_alpha(image)
    blurred = alpha_weighted(blur, rgb, alpha)
    sharp = cv2.addWeighted(rgb, 1 + amount, blurred, -amount, 0, dtype=cv2.CV_8U)
    if threshold > 0:
        keep = np.abs(rgb.astype(np.float32) - blurred) < threshold
        sharp = np.where(keep, rgb, sharp)
    return join_alpha(sharp, alpha)


@register(
    "unsharp_mask",
    category="blur",
    identity={"amount": 0.0},
    params=[
        Param("radius", "float", 2.0, 0.1, 100.0, "px", "Sigma of the Gaussian the detail is taken against."),
        Param(
            "amount", "float", 0.5, 0.0, 5.0, "", "How much detail is added: out = x + amount * (x - blur)."
        ),
        Param(
            "threshold",
            "float",
            0.0,
            0.0,
            255.0,
            "level",
            "Leave pixels whose detail is below this many levels (protects noise).",
        ),
    ],
)
def unsharp_mask(
    image: np.ndarray, *, radius: float = 2.0, amount: float = 0.5, threshold: float = 0.0
) -> np.ndarray:
    """Unsharp masking: ``x + amount * (x - gaussian(x, radius))``, except where detail < ``threshold``.

    Examples
    --------
    >>> img = np.array([[[100] * 3, [100] * 3, [200] * 3, [200] * 3]], np.uint8)
    >>> unsharp_mask(img, radius=1.0, amount=1.0)[0, :, 0].tolist()
    [88, 70, 230, 212]
    """
    if amount == 0:
        return image.copy()
    return _sharpened(image, lambda a: gaussian(a, radius), amount, threshold)


_CROSS = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)


@register(
    "sharpen",
    category="blur",
    identity={"amount": 0.0},
    params=[
        Param(
            "amount",
            "float",
            0.5,
            0.0,
            5.0,
            "",
            "Strength: out = x + 4 * amount * (x - mean of the 4 neighbours).",
        )
    ],
)
def sharpen(image: np.ndarray, *, amount: float = 0.5) -> np.ndarray:
    """Sharpen with the 3x3 Laplacian kernel ``[[0, -a, 0], [-a, 1 + 4a, -a], [0, -a, 0]]``.

    Examples
    --------
    >>> img = np.array([[[100] * 3, [100] * 3, [200] * 3, [200] * 3]], np.uint8)
    >>> sharpen(img, amount=0.25)[0, :, 0].tolist()
    [100, 75, 225, 200]
    """
    if amount == 0:
        return image.copy()
    rgb, alpha = split_alpha(image)
    if is_opaque(alpha):  # one pass with the whole kernel, rounded once
        kernel = np.array([[0, -amount, 0], [-amount, 1 + 4 * amount, -amount], [0, -amount, 0]], np.float32)
        return join_alpha(cv2.filter2D(rgb, -1, kernel, borderType=cv2.BORDER_REFLECT_101), alpha)
    return _sharpened(
        image, lambda a: cv2.filter2D(a, cv2.CV_32F, _CROSS, borderType=cv2.BORDER_REFLECT_101), 4 * amount
    )


__all__ = [
    "gaussian_blur",
    "motion_blur",
    "zoom_blur",
    "unsharp_mask",
    "sharpen",
    "gaussian",
    "gaussian_ksize",
    "motion_kernel",
]
