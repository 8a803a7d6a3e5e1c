"""Photo-background candidates, measured: test-time augmentation, GrabCut from the confident core, and a
saliency check between competing subjects.

Run: ``.venv/bin/python benchmarks/background/bench_photos.py --first-seed 4 --seeds 2`` (tuning seeds), then
``--first-seed 0 --seeds 2`` (the reported seeds, looked at once per candidate; RESULTS.md says which).

Each candidate changes only the network's coarse matte (``remove_background(image, coarse_matte=...)``
does the rest, the same as the default), so the figures compare like with like. Families: photo and
textured (the backgrounds the plate fusion leaves to the network) plus the scikit-image real photos, and
the studio families on request (``--studio``) to check nothing there gets worse. Also prints the median
time of each candidate's matte per 1024^2 image beside the bare model call, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scenes import OBJECTS, OPAQUE, STUDIO, make_scene, real_scenes  # noqa: E402

from imagestudio_nb.imaging.background import predict_matte, remove_background  # noqa: E402
from imagestudio_nb.imaging.background.plate import disc  # noqa: E402


def iou(pred, gt):
    p, g = pred > 0.5, gt > 0.5
    union = (p | g).sum()
    return float((p & g).sum() / union) if union else 1.0


def flip_average(image):
    """Test-time augmentation: the matte of the image and of its mirror image, averaged."""
    return (predict_matte(image) + predict_matte(np.ascontiguousarray(image[:, ::-1]))[:, ::-1]) / 2


def two_scales(image):
    """The matte at the model's scale and with the image zoomed out (padded by a quarter each side)."""
    h, w = image.shape[:2]
    pad_y, pad_x = h // 4, w // 4
    padded = cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE)
    zoomed = predict_matte(padded)[pad_y:pad_y + h, pad_x:pad_x + w]
    return (predict_matte(image) + zoomed) / 2


def grabcut(image, coarse=None, side=320, iterations=3):
    """GrabCut at ``side`` px seeded by the network: its confident core as sure foreground, its confident
    background (away from the object) as sure background, the rest probable; blended into the band."""
    coarse = predict_matte(image) if coarse is None else coarse
    h, w = coarse.shape
    scale = side / max(h, w)
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    m = cv2.resize(coarse, size, interpolation=cv2.INTER_AREA)
    mask = np.where(m > 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    mask[cv2.erode((m > 0.9).astype(np.uint8), disc(3)) > 0] = cv2.GC_FGD
    mask[cv2.erode((m < 0.1).astype(np.uint8), disc(6)) > 0] = cv2.GC_BGD
    if not (mask == cv2.GC_FGD).any() or not (mask == cv2.GC_BGD).any():
        return coarse
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    hard = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    return cv2.resize(cv2.GaussianBlur(hard, (0, 0), 0.7), (w, h), interpolation=cv2.INTER_LINEAR)


def saliency_pick(image, coarse=None):
    """When the network's matte holds several large parts, keep the one most confidently separated from
    its surroundings (mean matte inside minus around), dropping subjects that compete with it."""
    coarse = predict_matte(image) if coarse is None else coarse
    binary = (coarse > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    total = binary.sum()
    big = [k for k in range(1, count) if stats[k, cv2.CC_STAT_AREA] > 0.1 * total]
    if len(big) < 2:
        return coarse
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    scores = []
    for k in big:
        region = (labels == k).astype(np.uint8)
        ring = (cv2.dilate(region, disc(15)) > 0) & (region == 0)
        contrast = float(np.linalg.norm(grey[region > 0].mean(0) - grey[ring].mean(0)))
        scores.append(contrast * float(coarse[region > 0].mean()))
    keep = big[int(np.argmax(scores))]
    drop = np.isin(labels, [k for k in big if k != keep])
    drop = cv2.dilate(drop.astype(np.uint8), disc(5)) > 0
    out = coarse.copy()
    out[drop] = 0
    return out


CANDIDATES = {
    "default": None,
    "flip": flip_average,
    "two scales": two_scales,
    "grabcut": grabcut,
    "flip+grabcut": lambda image: grabcut(image, flip_average(image)),
    "saliency": saliency_pick,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--first-seed", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--studio", action="store_true")
    parser.add_argument("--candidates", nargs="*", default=list(CANDIDATES), choices=list(CANDIDATES))
    args = parser.parse_args()
    families = ["photo", "textured"] + (list(STUDIO) if args.studio else [])
    scenes = [(f, o, *make_scene(o, f, size=1024, seed=s)) for f in families for o in OBJECTS
              for s in range(args.first_seed, args.first_seed + args.seeds)]
    if args.first_seed == 0:
        scenes += [("real-photo", name, img, a) for name, img, a in real_scenes(1024)]
    print(f"load average {os.getloadavg()} at start; {len(scenes)} scenes, seeds {args.first_seed}.."
          f"{args.first_seed + args.seeds - 1}\n")
    print("| candidate | " + " | ".join(dict.fromkeys(f for f, *_ in scenes)) +
          " | photo opaque | s per image (matte only) | bare model s |")
    print("|---" * (len(dict.fromkeys(f for f, *_ in scenes)) + 4) + "|")
    for name in args.candidates:
        make = CANDIDATES[name]
        per, opaque, times, bare = {}, [], [], []
        for family, obj, image, alpha in scenes:
            t = time.perf_counter()
            coarse = None if make is None else make(image)
            times.append(time.perf_counter() - t)
            t = time.perf_counter()
            predict_matte(image)
            bare.append(time.perf_counter() - t)
            result = remove_background(image, coarse_matte=coarse) if coarse is not None else remove_background(image)
            score = iou(result.matte, alpha)
            per.setdefault(family, []).append(score)
            if family == "photo" and obj in OPAQUE:
                opaque.append(score)
        cells = [f"{statistics.fmean(v):.3f}" for v in per.values()]
        print(f"| {name} | " + " | ".join(cells) + f" | {statistics.fmean(opaque):.3f} | "
              f"{statistics.median(times):.3f} | {statistics.median(bare):.3f} |", flush=True)
    print(f"\nload average {os.getloadavg()} at end")


if __name__ == "__main__":
    main()
