"""A clean background plate: a smooth per-pixel estimate of the background behind the object.

On studio-style shots (plain, gradient, sweep) the background is smooth, so it can be fitted to the pixels
a segmentation matte calls background and predicted behind the object. The plate is fitted at a small
size (256 px on the longer side): a robust low-order polynomial per channel plus a push-pull fill of its
residual, so sweeps and contact shadows are followed too. It knows nothing of files or the network.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

#: Longer side, in pixels, at which the plate is fitted.
WORK_SIDE = 256
#: Median band-pass (fine minus coarse local mean) of the background samples, in RGB units at the work
#: size, above which the background is textured, not studio-style (plain, gradient and sweep: under 0.3,
#: sensor noise included; wood, fabric, marble and most photos: 0.6 to 4).
MAX_SMOOTHNESS = 0.5
#: Median RGB distance of full-resolution background pixels to the plate above which the plate does
#: not predict the pixels well enough for a difference matte (sensor noise of sigma 1.5 gives about 2.3).
MAX_NOISE = 8.0


@dataclass(frozen=True, eq=False)
class Plate:
    """A background plate fitted to one image.

    Attributes
    ----------
    small : numpy.ndarray
        float32 (h, w, 3) RGB plate at the work size.
    samples : numpy.ndarray
        bool (h, w): the work-size pixels the plate was fitted to.
    smoothness : float
        Median band-pass of the samples: a fine minus a coarse local mean (RGB units at the work size).
    noise : float
        Median RGB distance between full-resolution background pixels and the plate.
    """

    small: np.ndarray
    samples: np.ndarray
    smoothness: float
    noise: float

    @property
    def studio_like(self) -> bool:
        """Whether the background is smooth and predicted to within noise (plain, gradient, sweep)."""
        return self.smoothness <= MAX_SMOOTHNESS and self.noise <= MAX_NOISE

    def full(self, height: int, width: int) -> np.ndarray:
        """The plate at full resolution, float32 (height, width, 3) (bilinear: the plate is smooth)."""
        return cv2.resize(self.small, (width, height), interpolation=cv2.INTER_LINEAR)


def work_size(height: int, width: int, side: int = WORK_SIDE) -> tuple[int, int]:
    """Return the cv2 ``(width, height)`` of the work size for an image, never upscaling."""
    scale = min(1.0, side / max(height, width))
    return max(8, round(width * scale)), max(8, round(height * scale))


def filled(mask: np.ndarray) -> np.ndarray:
    """Return a uint8 0/1 mask with the holes of ``mask`` (any nonzero dtype) filled."""
    mask = (np.asarray(mask) > 0).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.zeros_like(mask)
    cv2.drawContours(out, contours, -1, 1, -1)
    return out | mask


def disc(radius: int) -> np.ndarray:
    """An elliptic structuring element of the given radius."""
    radius = max(0, int(radius))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def push_pull(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Fill a float32 (h, w, c) image where ``weight`` is 0 by a smooth interpolation of where it is 1.

    The pull phase averages values and weights down an image pyramid; the push phase comes back up,
    keeping known values and taking the coarser estimate where the weight fades (Gortler et al.).

    Examples
    --------
    >>> import numpy as np
    >>> values = np.zeros((16, 16, 1), np.float32); values[:, 8:] = 10
    >>> weight = np.ones((16, 16), np.float32); weight[4:12, 4:12] = 0
    >>> out = push_pull(values, weight)
    >>> bool(out[8, 5, 0] < 5 < out[8, 10, 0]), float(out[0, 0, 0]), float(out[0, 15, 0])
    (True, 0.0, 10.0)
    """
    values = np.asarray(values, np.float32)
    weight = np.asarray(weight, np.float32)
    channels = values.shape[2]
    nums, weights = [values * weight[..., None]], [weight]
    while min(weights[-1].shape) > 2:
        weights.append(cv2.pyrDown(weights[-1]))
        nums.append(cv2.pyrDown(nums[-1]).reshape(*weights[-1].shape, channels))  # cv2 drops a single channel
    total = float(weights[-1].sum())
    estimate = np.empty_like(nums[-1])
    estimate[:] = nums[-1].reshape(-1, channels).sum(0) / max(total, 1e-6)
    for level in range(len(nums) - 2, -1, -1):
        h, w = weights[level].shape
        up = cv2.pyrUp(estimate, dstsize=(w, h)).reshape(h, w, channels)
        # pyrDown of a 0/1 mask is about 1 inside known areas and fades across their edges
        known = np.minimum(weights[level] * 4, 1)[..., None]
        mean = nums[level] / np.maximum(weights[level], 1e-6)[..., None]
        estimate = known * mean + (1 - known) * up
    return estimate.astype(np.float32)


def _terms(degree: int) -> list[tuple[int, int]]:
    """The (power of x, power of y) of each term of a polynomial in two variables."""
    return [(d - i, i) for d in range(degree + 1) for i in range(d + 1)]


def _design(xs: np.ndarray, ys: np.ndarray, degree: int) -> np.ndarray:
    """The polynomial design matrix (one row per point) of coordinates already in [-1, 1]."""
    return np.stack([xs ** i * ys ** j for i, j in _terms(degree)], 1)


@functools.lru_cache(maxsize=8)
def _axis(n: int) -> np.ndarray:
    axis = np.arange(n, dtype=np.float64) * (2 / max(1, n - 1)) - 1
    axis.setflags(write=False)
    return axis


def _surface(coef: np.ndarray, height: int, width: int, degree: int) -> np.ndarray:
    """Evaluate the polynomial on the whole (height, width) grid, separably: sum over y powers of
    y^j times a row polynomial in x (a few broadcast passes instead of a pixels x terms product)."""
    xs, ys = _axis(width), _axis(height)
    surface = np.zeros((height, width, 3), np.float32)
    for j in range(degree + 1):
        row = sum(coef[k] * xs[:, None] ** i for k, (i, jj) in enumerate(_terms(degree)) if jj == j)
        surface += (ys ** j).astype(np.float32)[:, None, None] * row.astype(np.float32)[None]
    return surface


def _robust_polynomial(values: np.ndarray, design: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Least-squares polynomial coefficients (one column per channel) with Tukey re-weighting."""
    weights = np.ones(len(values), np.float64)
    coef = None
    ridge = 1e-9 * len(values) * np.eye(design.shape[1])  # keeps the normal equations well posed
    # Normal equations of a 10-term fit: a 10x10 solve, far cheaper than an SVD-based lstsq. The products
    # are einsum loops, not BLAS (numpy's @ or cv2.gemm): BLAS worker threads spin or wait for a core and
    # cost tens of milliseconds per call on a busy two-core machine, for microseconds of arithmetic.
    for _ in range(iterations):
        weighted = design * weights[:, None]
        coef = np.linalg.solve(np.einsum("ni,nj->ij", weighted, design) + ridge,
                               np.einsum("ni,nc->ic", weighted, values))
        residual = np.sqrt(((values - np.einsum("ni,ic->nc", design, coef)) ** 2).sum(1))
        scale = 1.4826 * float(np.median(residual)) + 1e-3
        u = residual / (4.685 * scale)
        weights = np.where(u < 1, (1 - u * u) ** 2, 0.0)
        if weights.sum() < design.shape[1] * 4:  # too few inliers left: keep the last fit
            break
    return coef


def texture_map(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Mean fine-scale contrast of a uint8 RGB image (|I - 3x3 box mean|, channel mean), area-averaged to
    ``size``."""
    diff = cv2.absdiff(rgb, cv2.blur(rgb, (3, 3)))
    grey = cv2.transform(diff, np.full((1, 3), 1 / 3, np.float32)).astype(np.float32)
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _local_mean(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-weighted mean of ``values`` (h, w, 3) over the pixels where ``weight`` is set."""
    mean = cv2.GaussianBlur(values * weight[..., None], (0, 0), sigma)
    return mean / np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma), 1e-6)[..., None]


def _smoothness(small: np.ndarray, samples: np.ndarray) -> float:
    """Median difference between a fine and a coarse local mean of the samples (a band-pass of the
    background): near 0 for plain, gradient and sweep backgrounds at any size, large for textures; pixel
    noise is mostly averaged out by both means."""
    weight = samples.astype(np.float32)
    inner = cv2.erode(samples.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    if inner.sum() < 100:
        return float("inf")
    band = _local_mean(small, weight, 1.5) - _local_mean(small, weight, 4.0)
    return float(np.median(np.abs(band[inner])))


def _noise(rgb: np.ndarray, plate: np.ndarray, samples: np.ndarray, limit: int = 20000) -> float:
    """Median RGB distance of full-resolution pixels under the samples to the (nearest) plate value."""
    ys, xs = np.nonzero(samples)
    step = max(1, len(ys) // limit)
    ys, xs = ys[::step], xs[::step]
    h, w = rgb.shape[:2]
    sh, sw = samples.shape
    fy = np.minimum(((ys + 0.5) * (h / sh)).astype(np.intp), h - 1)
    fx = np.minimum(((xs + 0.5) * (w / sw)).astype(np.intp), w - 1)
    diff = rgb[fy, fx].astype(np.float32) - plate[ys, xs]
    return float(np.median(np.sqrt((diff * diff).sum(1))))


def fit_plate(rgb: np.ndarray, matte: np.ndarray, *, degree: int = 3, small: np.ndarray | None = None,
              small_matte: np.ndarray | None = None, require_studio: bool = False) -> Plate | None:
    """Fit a background plate to a uint8 RGB image, using a coarse matte to know where the background is.

    Background samples are the work-size pixels outside the (hole-filled) object, a little away from it,
    whose fine-scale texture is low (hair and fur are textured; contact shadows are smooth and stay in).

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 (H, W, 3).
    matte : numpy.ndarray
        float (H, W) coarse alpha in [0, 1] (e.g. a segmentation model's).
    degree : int
        Degree of the polynomial surface (3: gradients, vignettes and sweeps, with the residual filled).
    small, small_matte : numpy.ndarray, optional
        The image (float32) and matte already resized to the work size, if the caller has them.
    require_studio : bool
        Return ``None`` as soon as the samples show a textured background (the smoothness gate), before
        the surface is fitted: a caller that only uses studio-style plates saves the fit on photos.

    Returns
    -------
    Plate or None
        ``None`` when too little background is visible (under 5% of the image) to fit anything, or, with
        ``require_studio``, when the background is textured.

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.linspace(40, 220, 120, dtype=np.float32)
    >>> img = np.dstack([np.tile(ramp, (100, 1))] * 3).astype(np.uint8)
    >>> matte = np.zeros((100, 120), np.float32); matte[30:70, 40:80] = 1
    >>> img[30:70, 40:80] = (200, 30, 30)
    >>> plate = fit_plate(img, matte)
    >>> plate.studio_like, round(float(plate.full(100, 120)[50, 60, 1]))  # the ramp, behind the object
    (True, 130)
    """
    h, w = matte.shape
    size = work_size(h, w)
    if small is None:
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    if small_matte is None:
        small_matte = cv2.resize(matte.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    sh, sw = small_matte.shape
    margin = max(1, round(max(sh, sw) / 128))
    near = cv2.dilate(filled(small_matte > 0.5), disc(margin)) > 0
    candidates = ~near
    if candidates.sum() < 0.05 * sh * sw:
        return None
    texture = texture_map(rgb, size)
    samples = candidates & (texture < 2 * float(np.median(texture[candidates])) + 0.5)
    samples = cv2.erode(samples.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if samples.sum() < 0.05 * sh * sw:
        return None
    smoothness = _smoothness(small, samples)
    if require_studio and not smoothness <= MAX_SMOOTHNESS:
        return None
    ys, xs = np.nonzero(samples)
    step = max(1, len(ys) // 3000)  # a few thousand samples fix ten coefficients
    ys, xs = ys[::step], xs[::step]
    design = _design(_axis(sw)[xs], _axis(sh)[ys], degree)
    coef = _robust_polynomial(small[ys, xs].astype(np.float64), design)
    surface = _surface(coef, sh, sw, degree)
    # The residual is averaged locally first, so the plate carries no pixel noise even where it is known.
    weight = samples.astype(np.float32)
    plate = surface + push_pull(_local_mean(small - surface, weight, 1.0), weight)
    return Plate(small=plate.astype(np.float32), samples=samples, smoothness=smoothness,
                 noise=_noise(rgb, plate, samples))
