"""A background model from the image border, and the classical GrabCut segmentation built on it.

The border colour model fits a smooth colour surface (a quadratic in x and y per channel) plus a few
colour clusters to the pixels along the image border; its distance map says how unlike the background
each pixel is. It serves the fallback (no onnxruntime); the learned model's studio fusion uses the
background plate of ``plate.py`` instead. No model file, no network.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class BorderModel:
    """What the border says about the background.

    Attributes
    ----------
    distance : numpy.ndarray
        float32 (H, W): Lab distance from each pixel to the closest background explanation.
    threshold : float
        Distance above which a pixel is unlike any border pixel (a high percentile of border distances).
    surface_distance : numpy.ndarray
        float32 (H, W): Lab distance to the smooth surface alone (the background "plate" at that pixel).
    surface_residual : float
        Median Lab residual of the border pixels to the smooth surface alone; small on plain,
        gradient and sweep backgrounds ("studio-style"), large on textures and photos.
    """

    distance: np.ndarray
    threshold: float
    surface_residual: float
    surface_distance: np.ndarray

    @property
    def studio_like(self) -> bool:
        """Whether the background is smooth enough for colour distance to be trusted."""
        return self.surface_residual < STUDIO_RESIDUAL


#: Median border residual (Lab units) under which a background is called studio-style.
STUDIO_RESIDUAL = 3.0


def _border_mask(h: int, w: int, width: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[:width], mask[-width:], mask[:, :width], mask[:, -width:] = True, True, True, True
    return mask


def _design(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=1)


def border_model(rgb: np.ndarray, *, border: float = 0.03, clusters: int = 4) -> BorderModel:
    """Fit the background model to the border strip of a uint8 RGB image (any size; work at <= 256 px).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((50, 50, 3), 240, np.uint8); img[20:30, 20:30] = (10, 10, 200)
    >>> model = border_model(img)
    >>> model.studio_like, bool(model.distance[25, 25] > model.threshold > model.distance[2, 2])
    (True, True)
    """
    h, w = rgb.shape[:2]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100 / 255  # OpenCV's 8-bit Lab: L in 0..255, a and b offset by 128
    lab[..., 1:] -= 128
    width = max(1, round(min(h, w) * border))
    ring = _border_mask(h, w, width)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xx /= max(1, w - 1)
    yy /= max(1, h - 1)
    samples = lab[ring]
    design = _design(xx[ring], yy[ring])
    coef, *_ = np.linalg.lstsq(design, samples, rcond=None)
    fitted = _design(xx.ravel(), yy.ravel()) @ coef
    surface = np.linalg.norm(lab.reshape(-1, 3) - fitted, axis=1).reshape(h, w).astype(np.float32)
    residual = float(np.median(surface[ring]))
    k = min(clusters, len(samples))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)  # kmeans is seeded so results are reproducible
    _, _, centres = cv2.kmeans(np.ascontiguousarray(samples), k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    flat = lab.reshape(-1, 1, 3)
    cluster = np.sqrt(((flat - centres[None]) ** 2).sum(-1)).min(1).reshape(h, w).astype(np.float32)
    distance = np.minimum(surface, cluster)
    threshold = max(6.0, float(np.percentile(distance[ring], 99)) * 1.5)
    return BorderModel(distance=distance, threshold=threshold, surface_residual=residual,
                       surface_distance=surface)


def classical_matte(rgb: np.ndarray, *, work_side: int = 320, iterations: int = 5,
                    border: float = 0.03) -> np.ndarray:
    """Segment the foreground with GrabCut seeded by the border colour model; float32 matte in {0, 1}.

    GrabCut runs at ``work_side`` pixels on the longer side and its hard mask is upsampled (bilinear,
    so edges come back soft for the refinement that follows). A border-touching object is allowed:
    only the outermost ring is forced to background.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((80, 80, 3), 250, np.uint8); img[25:55, 30:50] = (30, 90, 160)
    >>> m = classical_matte(img)
    >>> bool(m[40, 40] > 0.5 > m[5, 5])
    True
    """
    h, w = rgb.shape[:2]
    scale = min(1.0, work_side / max(h, w))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    sh, sw = small.shape[:2]
    model = border_model(small, border=border)
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    unlike = model.distance > model.threshold
    mask[unlike] = cv2.GC_PR_FGD
    mask[model.distance > 2.5 * model.threshold] = cv2.GC_FGD
    mask[_border_mask(sh, sw, 1)] = cv2.GC_BGD
    if not unlike.any():
        return np.zeros((h, w), np.float32)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, iterations,
                    cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # GrabCut refuses degenerate seeds (e.g. no background sample): keep the seeds
        pass
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if scale < 1:
        fg = cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(fg, 0, 1)
