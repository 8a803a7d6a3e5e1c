"""Studio fusion: a difference matte against a clean background plate, fused with a segmentation matte.

A segmentation network answers "which object" at 320x320; it cannot resolve single hairs, and it returns
glass as solid. On a studio-style background the plate (``plate.py``) says what the background is behind
every pixel, so the compositing equation ``I = a F + (1 - a) B`` can be solved for ``a`` with a local
foreground colour ``F`` (difference matting along the colour line from ``B`` to ``F``). The network keeps
the say where that estimate is not identifiable (``F`` close to ``B``) or does not fit the colour line
(shading that crosses the background colour). Enclosed regions whose colour is the background seen through
the colour of their frame are treated as see-through (glass) and get the difference alpha.
Pure numpy/OpenCV on arrays; nothing here reads files.
"""

from __future__ import annotations

import cv2
import numpy as np

from .plate import disc, filled, fit_plate, push_pull, work_size

# The constants below were chosen from how each step works and checked on the benchmark generator's
# tuning scenes (512 px seeds 2-4; 1024 px seeds 2-7, and 8-19 for glass and fur), not on the reported
# seeds 0-1 (benchmarks/background/RESULTS.md says how the reported set was used).
#: Noise floor of the difference, in units of the plate noise (median background distance).
FLOOR = 2.0
#: ``|F - B|`` in noise units from which the difference alpha starts to count, and over which it takes over.
IDENTIFIABLE, IDENTIFIABLE_RAMP = 6.0, 6.0
#: Colour-line fit: perpendicular over parallel difference below which the estimate is trusted, and above
#: which it is not.
FIT_GOOD, FIT_BAD = 0.25, 0.5
#: Difference under this share of |F - B| counts as near the background whatever its direction.
NEAR = 0.25
#: Band around the network's silhouette where fine structure is re-estimated, and the core inside it,
#: as fractions of the longer side (hair reaches about 8% of the side beyond a fur ball's body).
BAND, CORE = 0.05, 0.03
#: See-through regions: minimum share of the object, largest share of the boundary on the silhouette,
#: largest ratio of their difference to their frame's, largest off-line share of their colour.
SEE_AREA, SEE_TOUCH, SEE_RATIO, SEE_PERP = 0.02, 0.5, 0.5, 0.15
#: A region whose mean difference to the plate is under this many noise units is seen-through background.
SEE_INVISIBLE = 3.0
#: Enclosed background-like patches (highlights) smaller than this share of the image are not protected.
PATCH_AREA = 0.0002


_SUM3 = np.ones((1, 3), np.float32)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel dot product of two float32 (H, W, 3) images (OpenCV's vectorised kernels)."""
    return cv2.transform(cv2.multiply(a, b), _SUM3)


def _norm(x: np.ndarray) -> np.ndarray:
    return cv2.sqrt(_dot(x, x))


def _see_through(small, plate, small_matte, diff, sigma, silhouette):
    """Work-size regions inside the object that are the background seen through their frame's colour.

    Returns a list of ``(mask uint8, frame colour RGB)``. A candidate is a connected region inside the
    network's object whose difference to the plate is under half of the strongest difference around it;
    it is kept when it is at least half enclosed by the object, and either its mean colour lies on the
    line from the background to its frame's colour (the compositing equation of a tinted transparent body)
    at less than half the frame's distance, or it does not differ from the plate beyond the noise.
    """
    sh, sw = small_matte.shape
    side = max(sh, sw)
    obj = (silhouette > 0) | (diff > 3 * FLOOR * sigma)
    radius = max(1, round(0.15 * side))
    strongest = cv2.dilate(np.where(obj, diff, 0).astype(np.float32),
                           cv2.getStructuringElement(cv2.MORPH_RECT, (2 * radius + 1, 2 * radius + 1)))
    strongest = cv2.GaussianBlur(strongest, (0, 0), radius / 3)
    floor = FLOOR * sigma
    relative = np.clip((diff - floor) / np.maximum(strongest - floor, 1e-3), 0, 1)
    like = (small_matte > 0.5) & (relative < 0.5)
    area = int(silhouette.sum())
    count, labels, stats, _ = cv2.connectedComponentsWithStats(like.astype(np.uint8), connectivity=8)
    exterior = cv2.dilate((silhouette == 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    frame_object = (small_matte > 0.5) & (relative >= 0.5)
    ring_radius = max(2, round(0.015 * side))
    signed = small - plate
    regions = []
    for k in range(1, count):
        if stats[k, cv2.CC_STAT_AREA] < SEE_AREA * area:
            continue
        region = (labels == k).astype(np.uint8)
        edge = (region > 0) & (cv2.erode(region, np.ones((3, 3), np.uint8)) == 0)
        if (edge & exterior).sum() > SEE_TOUCH * max(1, edge.sum()):
            continue
        grown = cv2.dilate(region, disc(ring_radius))
        ring = (grown > 0) & frame_object
        if ring.sum() < 5:
            continue
        frame = np.median(signed[ring], axis=0)
        frame_norm = float(np.linalg.norm(frame))
        mean = signed[region > 0].mean(0)
        direction = frame / max(frame_norm, 1e-6)
        along = float(mean @ direction)
        across = float(np.linalg.norm(mean - along * direction))
        mean_norm = float(np.linalg.norm(mean))
        on_line = along / max(frame_norm, 1e-6) < SEE_RATIO and across < SEE_PERP * mean_norm + 0.75 * sigma
        # A body indistinguishable from the plate has no direction to test: its tint is below the noise.
        if on_line or mean_norm < SEE_INVISIBLE * sigma:
            # The frame's own colour (not its difference, which depends on the background behind it) is
            # the foreground colour: the body's alpha is its difference over |frame colour - B| per pixel.
            regions.append((cv2.dilate(region, disc(ring_radius + 1)), np.median(small[ring], axis=0)))
    return regions


def _exterior_connected(background_like: np.ndarray, outside: np.ndarray, min_area: float) -> np.ndarray:
    """Pixels of ``background_like`` connected to ``outside``, or in components too small to matter."""
    mask = background_like.astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[outside & background_like])] = True
    keep[stats[:, cv2.CC_STAT_AREA] < min_area] = True
    keep[0] = False
    return keep[labels]


def studio_matte(rgb: np.ndarray, coarse: np.ndarray, refined: np.ndarray) -> tuple[np.ndarray, bool]:
    """Fuse a segmentation matte with a difference matte against the background plate, when studio-like.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 (H, W, 3) image.
    coarse : numpy.ndarray
        float32 (H, W) matte of the segmentation model (upsampled, not refined).
    refined : numpy.ndarray
        float32 (H, W) the same matte after edge refinement (guided filter or matting).

    Returns
    -------
    (numpy.ndarray, bool)
        The fused float32 matte in [0, 1], and whether fusion happened; when the background is not
        studio-style (textured, photo) or there is no object, ``refined`` is returned unchanged with False.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((120, 120, 3), 230, np.uint8); img[30:90, 40:80] = (40, 60, 150)
    >>> img[58:60, 80:86] = (40, 60, 150)  # a thin bristle the coarse matte missed
    >>> coarse = np.zeros((120, 120), np.float32); coarse[30:90, 40:80] = 1
    >>> fused, used = studio_matte(img, coarse, coarse)
    >>> used, bool(fused[58, 84] > 0.9), bool(fused[62, 84] < 0.05), bool(fused[10, 10] < 0.05)
    (True, True, True, True)
    """
    h, w = coarse.shape
    size = work_size(h, w)
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    small_matte = cv2.resize(coarse, size, interpolation=cv2.INTER_AREA)
    plate = fit_plate(rgb, coarse, small=small, small_matte=small_matte, require_studio=True)
    if plate is None or not plate.studio_like:
        return refined, False
    sigma = max(plate.noise, 0.5)
    silhouette = filled(small_matte > 0.5)
    if not silhouette.any():
        return refined, False
    signed = small - plate.small
    diff = _norm(signed)
    # Local foreground colour: the network's confident core where it is clearly unlike the background,
    # smoothed and pushed outwards (into the hair) by push-pull.
    for level in (0.95, 0.5):  # a network unsure everywhere (a fur ball it sees as a ring) still says where
        confident = (small_matte > level) & (diff > 3 * sigma)
        confident = cv2.erode(confident.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
        if confident.sum() >= 10:
            break
    else:
        return refined, False
    total = cv2.GaussianBlur(confident, (0, 0), 1.5)
    local = cv2.GaussianBlur(small * confident[..., None], (0, 0), 1.5) / np.maximum(total, 1e-6)[..., None]
    foreground = push_pull(local, np.minimum(total * 2, 1))
    see_through = _see_through(small, plate.small, small_matte, diff, sigma, silhouette)

    sh, sw = small_matte.shape
    side = max(sh, sw)
    band_small = cv2.dilate(silhouette, disc(round(BAND * side)))
    core_small = cv2.erode(silhouette, disc(round(CORE * side)))
    ys, xs = np.nonzero(band_small)
    sy, sx = h / sh, w / sw
    y0, y1 = max(0, int((ys.min() - 1) * sy)), min(h, int(np.ceil((ys.max() + 2) * sy)))
    x0, x1 = max(0, int((xs.min() - 1) * sx)), min(w, int(np.ceil((xs.max() + 2) * sx)))
    roi = (slice(y0, y1), slice(x0, x1))

    # Bilinear upsampling of work-size maps straight into the region of interest: the same sampling
    # grid as cv2.resize to (w, h) followed by a crop, without computing the pixels outside it.
    grid = np.float32([[sw / w, 0, (x0 + 0.5) * sw / w - 0.5], [0, sh / h, (y0 + 0.5) * sh / h - 0.5]])

    def full(x):
        return cv2.warpAffine(x, grid, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)

    background = full(plate.small)
    colour = full(foreground)
    inside = full(silhouette * np.uint8(255)) > 127
    band = full(band_small * np.uint8(255)) > 127
    core = full(core_small * np.uint8(255)) > 127
    base = refined[roi]

    d = rgb[roi].astype(np.float32) - background
    fb = colour - background
    fb_norm = _norm(fb)
    along = _dot(d, fb) / np.maximum(fb_norm, 1e-3)
    d_norm = _norm(d)
    across = np.sqrt(np.maximum(d_norm * d_norm - along * along, 0))
    floor = FLOOR * sigma
    alpha = np.clip((along - 0.5 * floor) / np.maximum(fb_norm - 0.5 * floor, 1e-3), 0, 1)
    # Trust the difference alpha where F is far enough from B and the pixel lies on the colour line.
    slack = floor
    misfit = np.maximum(across - slack, 0) / (np.abs(along) + slack)
    fit = np.clip((FIT_BAD - misfit) / (FIT_BAD - FIT_GOOD), 0, 1)
    fit[along < -slack] = 0
    # Close to the background relative to |F - B|, the alpha is small whatever the direction (gaps between
    # hairs with a slightly off plate): the colour-line test only vetoes large, off-line differences.
    near = d_norm / np.maximum(fb_norm, 1e-3)
    fit = np.maximum(fit, np.clip((2 * NEAR - near) / NEAR, 0, 1))
    identifiable = np.clip((fb_norm - IDENTIFIABLE * sigma) / (IDENTIFIABLE_RAMP * sigma), 0, 1)
    weight = identifiable * fit
    estimate = weight * alpha + (1 - weight) * base
    # Background-coloured patches enclosed by a confident object (a white highlight on a white bottle) keep
    # the network's answer; gaps between hairs are connected to the outside or tiny, and take the estimate.
    background_like = ((estimate < 0.5) & band & ~core) | ~band
    outside = ~band & ~inside
    open_gaps = _exterior_connected(background_like, outside, PATCH_AREA * h * w)
    keep_network = (base >= 0.9) & (estimate < 0.5) & ~open_gaps
    out = np.where(band & ~keep_network, estimate, base)
    # Deep inside, the network's confident answer stands (the estimate can only raise it); where it hesitates
    # (a handle hole, a fur ball it sees as a ring) the estimate decides.
    out = np.where(core, np.where(base >= 0.9, np.maximum(base, estimate), estimate), out)
    for region, frame_colour in see_through:
        mask = (full(region * np.uint8(255)) > 127) & inside
        reach = np.sqrt(((frame_colour - background[mask]) ** 2).sum(1))
        out[mask] = np.clip((d_norm[mask] - floor) / np.maximum(reach - floor, floor), 0, 1)
    fused = refined.copy()
    fused[roi] = out
    return np.clip(fused, 0, 1).astype(np.float32), True
