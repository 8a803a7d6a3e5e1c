"""The five-filter chain plus JPEG: fused on OpenCV against naive numpy + Pillow and Pillow's own ops.

Run: ``.venv/bin/python benchmarks/filters/bench_chain.py [--repeats N]``. Prints medians (ms) over
repeats for each implementation, side by side in one process, and the ratios. Target (issue 5): at
most 10 ms fused at 1024x1024 and under 200 ms at 4096x4096.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import time

import cv2
import numpy as np
import simplejpeg
from PIL import Image, ImageEnhance, ImageFilter

from imagestudio_nb.imaging.chains import apply_chain, render_preview

CHAIN = [
    {"filter": "brightness", "params": {"amount": 0.1}},
    {"filter": "contrast", "params": {"amount": 0.2}},
    {"filter": "saturation", "params": {"amount": 0.3}},
    {"filter": "gaussian_blur", "params": {"sigma": 3}},
    {"filter": "unsharp_mask", "params": {"radius": 2, "amount": 0.5}},
]
LUMA = np.array([0.2126, 0.7152, 0.0722])


def photo_like(size: int, seed: int = 0) -> np.ndarray:
    """A deterministic image with smooth gradients, shapes and fine texture (JPEG sizes like a photo)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 64 + 2, size // 64 + 2, 3), dtype=np.uint8)
    img = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    for _ in range(40):
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.circle(img, centre, int(rng.integers(size // 40, size // 6)), colour, -1, cv2.LINE_AA)
    noise = cv2.GaussianBlur(rng.normal(0, 12, (size, size, 3)).astype(np.float32), (0, 0), 1.0)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def fused(img: np.ndarray) -> bytes:
    """The library path: one fused colour pass, GaussianBlur, unsharp, libjpeg-turbo 4:2:0 q85."""
    out = apply_chain(img, CHAIN)
    return simplejpeg.encode_jpeg(out, quality=85, colorspace="RGB", colorsubsampling="420")


def naive(img: np.ndarray) -> bytes:
    """Each step as its own float64 numpy round trip; blurs and JPEG by Pillow."""

    def to_u8(a):
        return np.clip(a + 0.5, 0, 255).astype(np.uint8)

    a = to_u8(img.astype(np.float64) + 0.1 * 255)
    a = to_u8((a.astype(np.float64) - 127.5) * 1.2 + 127.5)
    f = a.astype(np.float64)
    grey = (f @ LUMA)[..., None]
    a = to_u8(grey + 1.3 * (f - grey))
    a = np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(3)))
    blurred = np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(2))).astype(np.float64)
    f = a.astype(np.float64)
    a = to_u8(f + 0.5 * (f - blurred))
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def pillow(img: np.ndarray) -> bytes:
    """Pillow's own operations for the same five steps (its brightness multiplies rather than adds)."""
    im = Image.fromarray(img)
    im = ImageEnhance.Brightness(im).enhance(1.1)
    im = ImageEnhance.Contrast(im).enhance(1.2)
    im = ImageEnhance.Color(im).enhance(1.3)
    im = im.filter(ImageFilter.GaussianBlur(3))
    im = im.filter(ImageFilter.UnsharpMask(radius=2, percent=50, threshold=0))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def median_ms(fn, arg, repeats: int) -> float:
    fn(arg)  # warm caches and lazy imports
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="repeats at 1024x1024 (4096: a fifth)")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads), numpy {np.__version__}, "
        f"Pillow {Image.__version__}, load average {load:.2f}"
    )
    print(
        "chain: brightness 0.1, contrast 0.2, saturation 0.3, gaussian_blur sigma 3, unsharp_mask radius 2 "
        "amount 0.5, then JPEG q85"
    )
    for size, repeats in ((1024, args.repeats), (4096, max(3, args.repeats // 5))):
        img = photo_like(size)
        f = median_ms(fused, img, repeats)
        n = median_ms(naive, img, repeats)
        p = median_ms(pillow, img, repeats)
        print(
            f"{size}x{size}: fused {f:7.1f} ms | naive numpy+Pillow {n:7.1f} ms ({n / f:4.1f}x) | "
            f"Pillow ops {p:7.1f} ms ({p / f:4.1f}x)   [median of {repeats}]"
        )
    big = photo_like(4096)
    pre = median_ms(lambda a: render_preview(a, CHAIN, max_side=1024), big, max(5, args.repeats // 3))
    full = median_ms(fused, big, 3)
    print(
        f"preview of a 4096x4096 source at 1024 px (INTER_AREA first, px params scaled): {pre:.1f} ms "
        f"vs full-size render {full:.1f} ms ({full / pre:.1f}x)"
    )


if __name__ == "__main__":
    main()
