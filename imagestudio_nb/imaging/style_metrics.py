"""Offline style statistics of images: palette, colour statistics, edge density and texture, a consistency score
between a set of references and new images, and a plain-words description of a style.

What the score measures: how close the new images' **colours** (a 5-colour palette and the mean and spread of
each Lab channel), **amount of edges** (fraction of Canny edge pixels) and **texture** (the distribution of
gradient magnitudes) are to the references'. What it does not measure: subject, composition, brush or line
character beyond edge amount and gradient statistics, or anything a person would call the "meaning" of a style.
Two images of different subjects in the same palette score as consistent; the same subject recoloured drifts.
Pure numpy/OpenCV, deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

_SIDE = 256  # statistics are computed at this size, so image size does not change them


def _prepare(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rgb = np.ascontiguousarray(image[..., :3])
    h, w = rgb.shape[:2]
    scale = _SIDE / max(h, w)
    if scale < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100 / 255  # OpenCV's 8-bit Lab: L in 0..255, a and b offset by 128
    lab[..., 1:] -= 128
    return rgb, lab


@dataclass(frozen=True)
class StyleStats:
    """The statistics one image is compared by."""

    palette: np.ndarray  # (5, 3) Lab colours, most frequent first
    weights: np.ndarray  # (5,) share of pixels of each palette colour
    lab_mean: np.ndarray  # (3,)
    lab_std: np.ndarray  # (3,)
    edge_density: float  # fraction of edge pixels
    texture: np.ndarray  # (8,) histogram of gradient magnitudes


def style_stats(image: np.ndarray) -> StyleStats:
    """Compute the statistics of one uint8 RGB(A) image.

    Examples
    --------
    >>> stats = style_stats(np.full((32, 32, 3), (200, 30, 30), np.uint8))
    >>> stats.edge_density, stats.palette.shape
    (0.0, (5, 3))
    """
    rgb, lab = _prepare(image)
    pixels = lab.reshape(-1, 3)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    sample = pixels[:: max(1, len(pixels) // 4096)]
    k = min(5, len(np.unique(sample.round(), axis=0)))
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(sample, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=k).astype(np.float32)
    order = np.argsort(-counts)
    palette = np.zeros((5, 3), np.float32)
    weights = np.zeros(5, np.float32)
    palette[:k], weights[:k] = centres[order], counts[order] / counts.sum()
    if k < 5:
        palette[k:] = palette[0]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, 60, 140)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    magnitude = np.sqrt(gx * gx + gy * gy)
    texture, _ = np.histogram(magnitude, bins=[0, 8, 16, 32, 64, 128, 256, 512, 1e9])
    return StyleStats(palette, weights, pixels.mean(axis=0), pixels.std(axis=0), float((edges > 0).mean()),
                      texture.astype(np.float32) / max(1, texture.sum()))


def _palette_distance(a: StyleStats, b: StyleStats) -> float:
    # Each colour of one palette to its nearest in the other, weighted by how much of the image it covers.
    d = np.linalg.norm(a.palette[:, None, :] - b.palette[None, :, :], axis=2)
    return float((a.weights * d.min(axis=1)).sum() + (b.weights * d.min(axis=0)).sum()) / 2


def style_distance(a: StyleStats, b: StyleStats) -> dict[str, float]:
    """Per-aspect distances, each scaled so that about 1 is a clear difference.

    Examples
    --------
    >>> red, blue = (style_stats(np.full((16, 16, 3), c, np.uint8)) for c in ((200, 30, 30), (30, 30, 200)))
    >>> style_distance(red, red)["palette"], style_distance(red, blue)["palette"] > 1
    (0.0, True)
    """
    return {
        "palette": _palette_distance(a, b) / 25,  # about a clearly different hue in Lab (ΔE 25)
        "colour": float(np.abs(a.lab_mean - b.lab_mean).mean() / 20 + np.abs(a.lab_std - b.lab_std).mean() / 15),
        "edges": abs(a.edge_density - b.edge_density) / 0.08,
        "texture": float(np.abs(a.texture - b.texture).sum() / 0.6),
    }


@dataclass(frozen=True)
class ConsistencyReport:
    """How consistent each new image is with the references: a 0-1 score per image (1 = same statistics)."""

    scores: list[float]
    distances: list[dict[str, float]]
    #: Typical score of the references among themselves (leave-one-out); drift is judged against it.
    baseline: float
    drifted: list[int]


def consistency(references: Sequence[np.ndarray], images: Sequence[np.ndarray], *,
                tolerance: float = 0.15) -> ConsistencyReport:
    """Score ``images`` against ``references`` and flag those that drifted.

    Each image's distance to the nearest reference in every aspect (palette, colour, edges, texture) is averaged
    and turned into a score ``1 / (1 + distance)``. An image has drifted when its score is more than
    ``tolerance`` below the references' own score among themselves (or below ``1 - tolerance`` for one reference).

    Examples
    --------
    >>> warm = [np.full((32, 32, 3), (220, 120, 40), np.uint8), np.full((32, 32, 3), (210, 110, 50), np.uint8)]
    >>> report = consistency(warm, [np.full((32, 32, 3), (215, 115, 45), np.uint8),
    ...                             np.full((32, 32, 3), (40, 90, 220), np.uint8)])
    >>> report.drifted
    [1]
    """
    reference_stats = [style_stats(r) for r in references]
    if not reference_stats:
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError("consistency needs at least one reference image")

    def score(stats: StyleStats, pool: list[StyleStats]) -> tuple[float, dict[str, float]]:
        best = min((style_distance(stats, other) for other in pool), key=lambda d: sum(d.values()))
        return 1 / (1 + sum(best.values()) / len(best)), best

    if len(reference_stats) > 1:
        baseline = float(np.mean([score(s, reference_stats[:i] + reference_stats[i + 1:])[0]
                                  for i, s in enumerate(reference_stats)]))
    else:
        baseline = 1.0
    scored = [score(style_stats(image), reference_stats) for image in images]
    scores = [round(s, 4) for s, _ in scored]
    drifted = [i for i, s in enumerate(scores) if s < baseline - tolerance]
    return ConsistencyReport(scores, [d for _, d in scored], round(baseline, 4), drifted)


def describe_style(images: Sequence[np.ndarray]) -> str:
    """A plain-words description of the images' shared look, from offline rules (no model).

    Examples
    --------
    >>> describe_style([np.full((32, 32, 3), (230, 140, 60), np.uint8)])
    'warm, bright, saturated colours; flat, low contrast; smooth surfaces with few edges; dominant colours: orange'
    """
    stats = [style_stats(image) for image in images]
    lab_mean = np.mean([s.lab_mean for s in stats], axis=0)
    lab_std = np.mean([s.lab_std for s in stats], axis=0)
    edges = float(np.mean([s.edge_density for s in stats]))
    chroma = float(np.hypot(lab_mean[1], lab_mean[2]))
    temperature = "warm" if lab_mean[2] > 8 else "cool" if lab_mean[2] < -8 else "neutral"
    brightness = "bright" if lab_mean[0] > 65 else "dark" if lab_mean[0] < 35 else "mid-tone"
    saturation = "saturated" if chroma > 30 else "muted"
    contrast = "high contrast" if lab_std[0] > 25 else "low contrast" if lab_std[0] < 10 else "moderate contrast"
    detail = ("busy, detailed surfaces" if edges > 0.12 else "smooth surfaces with few edges" if edges < 0.03
              else "moderate detail")
    names = []
    for colour in stats[0].palette[:3]:
        name = _colour_name(colour)
        if name not in names:
            names.append(name)
    flat = "flat, " if lab_std[0] < 10 and edges < 0.03 else ""
    return f"{temperature}, {brightness}, {saturation} colours; {flat}{contrast}; {detail}; dominant colours: " \
           f"{', '.join(names)}"


def _colour_name(lab: np.ndarray) -> str:
    lightness, a, b = (float(v) for v in lab)
    if np.hypot(a, b) < 12:
        return "white" if lightness > 85 else "black" if lightness < 20 else "grey"
    hue = np.degrees(np.arctan2(b, a)) % 360
    for limit, name in ((20, "pink"), (50, "red"), (75, "orange"), (100, "yellow"), (160, "green"),
                        (230, "teal"), (290, "blue"), (330, "purple"), (360, "pink")):
        if hue < limit:
            return name
    return "pink"  # pragma: no cover
