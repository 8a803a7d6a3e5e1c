"""Edge refinement of a coarse matte: a colour guided filter (box filters only) and closed-form matting.

The guided filter (He, Sun and Tang) is written with ``cv2.boxFilter`` so it needs no opencv-contrib;
closed-form matting runs pymatting on the uncertain band of a trimap taken from the coarse matte.
Nothing here looks at files, widgets or the network.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...errors import InvalidArgumentError


def _box_mean(x: np.ndarray, radius: int, count: np.ndarray) -> np.ndarray:
    # Sums over the window clipped to the image, divided by the clipped window's pixel count: the
    # textbook definition, which keeps borders unbiased (a reflected border would double-count).
    k = 2 * radius + 1
    return cv2.boxFilter(x, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT) / count


def _window_count(height: int, width: int, radius: int) -> np.ndarray:
    k = 2 * radius + 1
    ones = np.ones((height, width), np.float32)
    return cv2.boxFilter(ones, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)


def _as_float_guide(guide: np.ndarray) -> np.ndarray:
    guide = np.asarray(guide)
    if guide.dtype == np.uint8:
        return guide.astype(np.float32) * (1 / 255)
    return guide.astype(np.float32, copy=False)


def _coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float):
    """Return per-pixel linear coefficients (a, b), already box-averaged, of the guided filter."""
    h, w = src.shape
    count = _window_count(h, w, radius)
    mean_p = _box_mean(src, radius, count)
    if guide.ndim == 2:
        mean_i = _box_mean(guide, radius, count)
        cov_ip = _box_mean(guide * src, radius, count) - mean_i * mean_p
        var_i = _box_mean(guide * guide, radius, count) - mean_i * mean_i
        a = cov_ip / (var_i + eps)
        b = mean_p - a * mean_i
        return _box_mean(a, radius, count), _box_mean(b, radius, count)
    channels = [guide[..., c] for c in range(3)]
    mean_i = [_box_mean(c, radius, count) for c in channels]
    cov = [_box_mean(c * src, radius, count) - m * mean_p for c, m in zip(channels, mean_i)]
    # Sigma + eps*U, symmetric 3x3 per pixel: rr, rg, rb, gg, gb, bb.
    s = {}
    for i in range(3):
        for j in range(i, 3):
            s[i, j] = _box_mean(channels[i] * channels[j], radius, count) - mean_i[i] * mean_i[j]
            if i == j:
                s[i, j] = s[i, j] + eps
    # Closed-form inverse by cofactors, vectorised over pixels.
    c00 = s[1, 1] * s[2, 2] - s[1, 2] * s[1, 2]
    c01 = s[0, 2] * s[1, 2] - s[0, 1] * s[2, 2]
    c02 = s[0, 1] * s[1, 2] - s[0, 2] * s[1, 1]
    c11 = s[0, 0] * s[2, 2] - s[0, 2] * s[0, 2]
    c12 = s[0, 2] * s[0, 1] - s[0, 0] * s[1, 2]
    c22 = s[0, 0] * s[1, 1] - s[0, 1] * s[0, 1]
    det = s[0, 0] * c00 + s[0, 1] * c01 + s[0, 2] * c02
    inv_det = 1.0 / det
    a0 = (c00 * cov[0] + c01 * cov[1] + c02 * cov[2]) * inv_det
    a1 = (c01 * cov[0] + c11 * cov[1] + c12 * cov[2]) * inv_det
    a2 = (c02 * cov[0] + c12 * cov[1] + c22 * cov[2]) * inv_det
    b = mean_p - a0 * mean_i[0] - a1 * mean_i[1] - a2 * mean_i[2]
    avg = [_box_mean(x, radius, count) for x in (a0, a1, a2)]
    return np.dstack(avg), _box_mean(b, radius, count)


def guided_filter(guide: np.ndarray, src: np.ndarray, *, radius: int = 8, eps: float = 1e-3,
                  subsample: int = 1) -> np.ndarray:
    """Filter ``src`` so that its edges follow those of ``guide`` (He et al.'s guided filter).

    Parameters
    ----------
    guide : numpy.ndarray
        uint8 or float (H, W, 3) colour guide, or (H, W) grey guide; uint8 is scaled to 0..1.
    src : numpy.ndarray
        float (H, W) image to filter, e.g. a matte in [0, 1].
    radius : int
        Window radius in full-resolution pixels.
    eps : float
        Regularisation; larger values smooth more (variances are in 0..1 units).
    subsample : int
        The "fast guided filter": coefficients are computed at 1/subsample resolution and upsampled.

    Returns
    -------
    numpy.ndarray
        float32 (H, W); not clipped.

    Raises
    ------
    InvalidArgumentError
        On mismatched shapes or a non-positive radius, eps or subsample.

    Examples
    --------
    >>> import numpy as np
    >>> guide = np.zeros((20, 20), np.uint8); guide[:, 10:] = 255
    >>> src = np.clip((np.arange(20, dtype=np.float32) - 6.5) / 7, 0, 1)[None].repeat(20, 0)  # a blurry matte
    >>> out = guided_filter(guide, src, radius=3, eps=1e-4)
    >>> round(float(out[10, 10] - out[10, 9]), 2) > round(float(src[10, 10] - src[10, 9]), 2)  # sharper
    True
    """
    guide_f = _as_float_guide(guide)
    src_f = np.asarray(src, np.float32)
    if src_f.ndim != 2 or guide_f.shape[:2] != src_f.shape or guide_f.ndim not in (2, 3):
        raise InvalidArgumentError(
            f"guided_filter needs a (H, W) src and a (H, W) or (H, W, 3) guide of the same size; "
            f"got guide {guide_f.shape} and src {src_f.shape}"
        )
    if guide_f.ndim == 3 and guide_f.shape[2] != 3:
        raise InvalidArgumentError(f"a colour guide must have 3 channels; got {guide_f.shape[2]}")
    if int(radius) < 1 or eps <= 0 or int(subsample) < 1:
        raise InvalidArgumentError("guided_filter needs radius >= 1, eps > 0 and subsample >= 1")
    radius, subsample = int(radius), int(subsample)
    h, w = src_f.shape
    if subsample == 1:
        a, b = _coefficients(guide_f, src_f, radius, eps)
    else:
        size = (max(1, round(w / subsample)), max(1, round(h / subsample)))
        small_guide = cv2.resize(guide_f, size, interpolation=cv2.INTER_AREA)
        small_src = cv2.resize(src_f, size, interpolation=cv2.INTER_AREA)
        a, b = _coefficients(small_guide, small_src, max(1, round(radius / subsample)), eps)
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    if guide_f.ndim == 2:
        return a * guide_f + b
    # q = a . I + b, summed over channels by cv2.transform (one vectorised pass instead of five numpy ones)
    return cv2.transform(cv2.multiply(a.reshape(h, w, 3), guide_f), _SUM3) + b


_SUM3 = np.ones((1, 3), np.float32)


def refine_guided(rgb: np.ndarray, matte: np.ndarray, *, radius: int | None = None,
                  eps: float = 1e-4) -> np.ndarray:
    """Snap a coarse matte's edges to the image's edges with a colour guided filter; float32 in [0, 1].

    The radius defaults to about 1/80 of the longer side (8 px at 640 px); large images use the fast
    (subsampled) form, and its output is evaluated only at the matte's uncertain pixels (0.02 < alpha
    < 0.98), the band around the outline: elsewhere the coarse matte's certainty is kept as 0 or 1.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((600, 600, 3), np.uint8); img[:, 300:] = 255
    >>> blurry = np.clip((np.arange(600, dtype=np.float32) - 280) / 40, 0, 1)[None].repeat(600, 0)
    >>> out = refine_guided(img, blurry)
    >>> float(out[5, 5]), float(out[5, 595])  # certain pixels keep the coarse matte's 0 and 1
    (0.0, 1.0)
    >>> bool(out[5, 305] - out[5, 295] > blurry[5, 305] - blurry[5, 295])  # the edge got steeper
    True
    """
    h, w = matte.shape
    side = max(h, w)
    if radius is None:
        radius = max(2, round(side / 80))
    subsample = max(1, side // GUIDED_WORK_SIDE)
    matte = np.asarray(matte, np.float32)
    if subsample == 1:
        out = np.clip(guided_filter(rgb, matte, radius=radius, eps=eps), 0.0, 1.0)
        # The filter's averaging leaks a faint halo (a few percent alpha) up to a radius beyond the edge;
        # where the coarse matte is already certain, keep its certainty so the halo does not show.
        out[matte <= 0.02] = 0.0
        out[matte >= 0.98] = 1.0
        return out.astype(np.float32, copy=False)
    # The fast form: coefficients at the work size; q = a . I + b only where the matte is uncertain (a few
    # percent of the pixels), since everywhere else the result is the coarse matte's 0 or 1 anyway.
    size = (max(1, round(w / subsample)), max(1, round(h / subsample)))
    small_guide = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32) * np.float32(1 / 255)
    small_src = cv2.resize(matte, size, interpolation=cv2.INTER_AREA)
    a, b = _coefficients(small_guide, small_src, max(1, round(radius / subsample)), eps)
    out = (matte >= 0.98).astype(np.float32)
    ys, xs = np.nonzero((matte > 0.02) & (matte < 0.98))
    if len(ys):
        coef = sample_at(np.dstack([a, b]), ys, xs, (h, w))
        guide = rgb[ys, xs].astype(np.float32) * np.float32(1 / 255)
        q = (coef[:, :3] * guide).sum(1) + coef[:, 3]
        out[ys, xs] = np.clip(q, 0.0, 1.0)
    return out


def sample_at(small: np.ndarray, ys: np.ndarray, xs: np.ndarray, full_shape: tuple[int, int]) -> np.ndarray:
    """Bilinear samples of a float32 (h, w, c) work-size map at full-resolution pixels (ys, xs).

    The same sampling grid as ``cv2.resize(small, (W, H), INTER_LINEAR)`` (pixel centres, edges
    replicated), computed at the given pixels only; returns float32 (n, c).

    Examples
    --------
    >>> import numpy as np
    >>> small = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    >>> full = cv2.resize(small, (8, 8), interpolation=cv2.INTER_LINEAR)
    >>> ys, xs = np.array([0, 3, 7]), np.array([5, 2, 7])
    >>> bool(np.allclose(sample_at(small, ys, xs, (8, 8))[:, 0], full[ys, xs], atol=0.05))
    True
    """
    h, w = full_shape
    sh, sw = small.shape[:2]
    channels = 1 if small.ndim == 2 else small.shape[2]
    # remap wants 2-D maps under 32767 on a side: lay the points out in rows of 1024
    n = len(xs)
    rows = max(1, -(-n // 1024))
    map_x = np.zeros(rows * 1024, np.float32)
    map_y = np.zeros(rows * 1024, np.float32)
    map_x[:n] = (xs + 0.5) * (sw / w) - 0.5
    map_y[:n] = (ys + 0.5) * (sh / h) - 0.5
    out = np.empty((rows, 1024, channels), np.float32)
    # remap takes at most 4 channels per call
    for c0 in range(0, channels, 4):
        part = np.ascontiguousarray(small.reshape(sh, sw, channels)[..., c0:c0 + 4])
        sampled = cv2.remap(part, map_x.reshape(rows, 1024), map_y.reshape(rows, 1024), cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
        out[..., c0:c0 + 4] = sampled.reshape(rows, 1024, -1)
    return out.reshape(-1, channels)[:n]


#: The fast guided filter computes its coefficients at about this size (the model's matte is 320 px).
GUIDED_WORK_SIDE = 256


def trimap_from_matte(matte: np.ndarray, *, band: int | None = None, low: float = 0.1,
                      high: float = 0.9) -> np.ndarray:
    """Return a float trimap (0 background, 1 foreground, 0.5 unknown) from a soft matte.

    Confident regions are eroded by ``band`` pixels (default 1/100 of the longer side) so that the
    unknown band straddles every edge of the coarse matte.
    """
    h, w = matte.shape
    if band is None:
        band = max(2, round(max(h, w) / 100))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    fg = cv2.erode((matte >= high).astype(np.uint8), kernel)
    bg = cv2.erode((matte <= low).astype(np.uint8), kernel)
    trimap = np.full((h, w), 0.5, np.float64)
    trimap[fg > 0] = 1.0
    trimap[bg > 0] = 0.0
    return trimap


def refine_matting(rgb: np.ndarray, matte: np.ndarray, *, band: int | None = None,
                   max_side: int = 640) -> np.ndarray:
    """Re-estimate alpha in the uncertain band of ``matte`` with closed-form matting (pymatting).

    Matting runs on the band's bounding box, downscaled so its longer side is at most ``max_side``;
    confident pixels keep exact 0 or 1. Returns float32 (H, W) in [0, 1].
    """
    from pymatting import estimate_alpha_cf

    h, w = matte.shape
    trimap = trimap_from_matte(matte, band=band)
    unknown = trimap == 0.5
    if not unknown.any() or (trimap == 1).sum() == 0 or (trimap == 0).sum() == 0:
        return refine_guided(rgb, matte)
    ys, xs = np.nonzero(unknown)
    pad = 8
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    crop_rgb = rgb[y0:y1, x0:x1].astype(np.float64) / 255
    crop_tri = trimap[y0:y1, x0:x1]
    ch, cw = crop_tri.shape
    scale = min(1.0, max_side / max(ch, cw))
    if scale < 1:
        size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
        small_rgb = cv2.resize(crop_rgb, size, interpolation=cv2.INTER_AREA)
        small_tri = cv2.resize(crop_tri, size, interpolation=cv2.INTER_NEAREST)
    else:
        small_rgb, small_tri = crop_rgb, crop_tri
    if not ((small_tri == 1).any() and (small_tri == 0).any()):
        return refine_guided(rgb, matte)
    alpha = estimate_alpha_cf(np.clip(small_rgb, 0, 1), small_tri)  # resizing may overshoot 1 by an ulp
    if scale < 1:
        alpha = cv2.resize(alpha, (cw, ch), interpolation=cv2.INTER_LINEAR)
    out = (trimap == 1).astype(np.float32)
    band_alpha = np.clip(alpha, 0, 1).astype(np.float32)
    region = out[y0:y1, x0:x1]
    region[unknown[y0:y1, x0:x1]] = band_alpha[unknown[y0:y1, x0:x1]]
    return out


def estimate_foreground(rgb: np.ndarray, alpha: np.ndarray, *, radius: int | None = None) -> np.ndarray:
    """Estimate foreground colours at soft edges, removing the background's colour bleed (uint8 RGB).

    Uses the compositing equation ``I = aF + (1-a)B`` with B and F taken as alpha-weighted local means;
    opaque pixels keep their colour. Only the soft pixels' bounding box is worked on, the local means
    (box windows of ``2 * radius + 1``) are taken on a grid about ``radius / 4`` times coarser, and the
    equation is solved at the soft pixels only.
    """
    h, w = alpha.shape
    if radius is None:
        radius = max(3, round(max(h, w) / 60))
    a_full = np.asarray(alpha, np.float32)
    soft_full = ((a_full > 0.002) & (a_full < 0.998)).astype(np.uint8)
    x, y, bw, bh = cv2.boundingRect(soft_full)
    if bw == 0 or bh == 0:
        return rgb.copy()
    y0, y1 = max(0, y - radius), min(h, y + bh + radius)
    x0, x1 = max(0, x - radius), min(w, x + bw + radius)
    img = rgb[y0:y1, x0:x1].astype(np.float32)
    a = a_full[y0:y1, x0:x1]
    ys, xs = np.nonzero(soft_full[y0:y1, x0:x1])
    # Background and foreground colours are averaged from confident pixels only, so that the soft band
    # itself does not pull both estimates towards its mixed colour.
    wb = np.where(a < 0.02, 1.0, 1e-3 * (1 - a) ** 2).astype(np.float32)
    wf = np.where(a > 0.98, 1.0, 1e-3 * a ** 2).astype(np.float32)
    bg = _local_mean_at(img, wb, radius, ys, xs)
    fg_local = _local_mean_at(img, wf, radius, ys, xs)
    a_soft = a[ys, xs][:, None]
    solved = (img[ys, xs] - (1 - a_soft) * bg) / np.maximum(a_soft, 1e-3)
    # Trust the solved colour where alpha is large enough for the division to be stable.
    trust = np.clip((a_soft - 0.1) / 0.3, 0, 1)
    out = rgb.copy()
    out[y0 + ys, x0 + xs] = np.clip(trust * solved + (1 - trust) * fg_local + 0.5, 0, 255).astype(np.uint8)
    return out


def _local_mean_at(img: np.ndarray, weight: np.ndarray, radius: int, ys: np.ndarray,
                   xs: np.ndarray) -> np.ndarray:
    """Weighted box means of a float32 (h, w, 3) image over (2r+1)-wide windows, at the pixels (ys, xs).

    For a large radius the means are computed on a grid about ``radius / 4`` times coarser and sampled
    bilinearly at the pixels; the windows are wide, so the means are smooth and this loses nothing.
    """
    factor = max(1, radius // 4)
    h, w = weight.shape
    num = img * weight[..., None]
    if factor > 1 and min(h, w) >= 4 * factor:
        size = (max(1, round(w / factor)), max(1, round(h / factor)))
        num = cv2.resize(num, size, interpolation=cv2.INTER_AREA)
        weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        k = 2 * max(1, round(radius / factor)) + 1
        mean = cv2.blur(num, (k, k)) / np.maximum(cv2.blur(weight, (k, k)), 1e-4)[..., None]
        return sample_at(mean, ys, xs, (h, w))
    k = 2 * radius + 1
    mean = cv2.blur(num, (k, k)) / np.maximum(cv2.blur(weight, (k, k)), 1e-4)[..., None]
    return mean[ys, xs]
