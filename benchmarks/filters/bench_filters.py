"""Every filter at 1024x1024 and 4096x4096: median ms of the library and of a naive numpy/Pillow version.

Run: ``.venv/bin/python benchmarks/filters/bench_filters.py [--sizes 1024 4096] [--repeats N]``.
The naive versions do the same work the obvious way (float64 numpy per pixel, or Pillow's nearest
operation, marked "~" where Pillow's operation only approximates the filter); both run in this process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2
import numpy as np
from PIL import Image, ImageFilter, ImageOps

from imagestudio_nb.imaging import filters as F
from imagestudio_nb.imaging.filters import get_filter
from imagestudio_nb.imaging.filters.caching import shared_cache

LUMA = np.array([0.2126, 0.7152, 0.0722])


def u8(a):
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def pil(fn):
    return lambda img: np.asarray(fn(Image.fromarray(img)))


def matrix(m, b=0.0):
    return lambda img: u8(img.astype(np.float64) @ np.asarray(m, float).T + b)


def sat(s):
    grey = np.tile(LUMA, (3, 1))
    return grey + s * (np.eye(3) - grey)


def naive_exposure(img):
    v = img / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4) * 2
    lin = np.clip(lin, 0, 1)
    return u8(np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055) * 255)


def naive_vibrance(img):
    f = img.astype(np.float64)
    luma = (f @ LUMA)[..., None]
    s = (f.max(axis=2, keepdims=True) - f.min(axis=2, keepdims=True)) / 255
    return u8(luma + (f - luma) * (1 + 0.5 * (1 - s)))


def naive_shadows(img):
    f = img.astype(np.float64)
    luma = np.asarray(Image.fromarray(u8(f @ LUMA)).filter(ImageFilter.GaussianBlur(20)))[..., None] / 255.0
    return u8(f + 127.5 * 0.4 * np.clip(1 - 2 * luma, 0, 1) ** 2)


def naive_levels(img):
    return u8(np.clip((img - 20.0) / 215.0, 0, 1) ** (1 / 1.2) * 255)


def naive_posterize(img):
    return u8(np.rint(img / 51.0) * 51.0)


def naive_motion(img):
    f = img.astype(np.float64)
    return u8(sum(np.roll(f, k, axis=1) for k in range(-7, 8)) / 15)


def naive_zoom(img):
    h, w = img.shape[:2]
    acc = np.zeros(img.shape)
    for s in np.linspace(0.9, 1.0, 16):
        m = (s, 0, (w / 2) * (1 - s), 0, s, (h / 2) * (1 - s))
        acc += np.asarray(Image.fromarray(img).transform((w, h), Image.AFFINE, m, Image.BILINEAR))
    return u8(acc / 16)


def naive_remap(kind):
    def run(img):
        h, w = img.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        if kind == "wave":
            sx, sy = xs + 8 * np.sin(2 * np.pi * ys / 80), ys
        elif kind == "ripple":
            dx, dy = xs - w / 2, ys - h / 2
            r = np.maximum(np.hypot(dx, dy), 1e-9)
            k = 6 * np.sin(2 * np.pi * r / 40) / r
            sx, sy = xs + dx * k, ys + dy * k
        else:
            dx, dy = xs - w / 2, ys - h / 2
            rho = np.hypot(dx, dy)
            theta = 3 * np.exp(-rho / (0.5 * min(h, w) / 5 * np.log(2))) + np.arctan2(dy, dx)
            sx, sy = w / 2 + rho * np.cos(theta), h / 2 + rho * np.sin(theta)
        x0, y0 = np.clip(np.floor(sx), 0, w - 2).astype(int), np.clip(np.floor(sy), 0, h - 2).astype(int)
        fx, fy = np.clip(sx - x0, 0, 1)[..., None], np.clip(sy - y0, 0, 1)[..., None]
        f = img.astype(np.float64)
        top = f[y0, x0] * (1 - fx) + f[y0, x0 + 1] * fx
        bottom = f[y0 + 1, x0] * (1 - fx) + f[y0 + 1, x0 + 1] * fx
        return u8(top * (1 - fy) + bottom * fy)

    return run


def naive_perspective(img):
    h, w = img.shape[:2]
    src = (np.float32([[0.1, 0.05], [0.9, 0.1], [0.95, 0.95], [0.05, 0.9]]) * [w - 1, h - 1]).astype(
        np.float32
    )
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    m = np.linalg.inv(cv2.getPerspectiveTransform(src, dst))
    coeffs = (m / m[2, 2]).ravel()[:8]
    return np.asarray(Image.fromarray(img).transform((w, h), Image.PERSPECTIVE, coeffs, Image.BILINEAR))


def naive_kuwahara(img, r=4):
    f = img.astype(np.float64)
    luma = f @ [0.299, 0.587, 0.114]
    pad = np.pad(f, ((r, r), (r, r), (0, 0)), mode="reflect")
    padl = np.pad(luma, r, mode="reflect")
    ii = np.pad(pad.cumsum(0).cumsum(1), ((1, 0), (1, 0), (0, 0)))
    il = np.pad(padl.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    il2 = np.pad((padl**2).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = img.shape[:2]
    k = r + 1
    best, best_var = None, None
    for oy, ox in ((0, 0), (0, r), (r, 0), (r, r)):

        def box(t):
            a = t[oy : oy + h, ox : ox + w]
            return (
                t[oy + k : oy + k + h, ox + k : ox + k + w]
                - t[oy : oy + h, ox + k : ox + k + w]
                - t[oy + k : oy + k + h, ox : ox + w]
                + a
            ) / (k * k)

        mean, ml = box(ii), box(il)
        var = box(il2) - ml**2
        if best is None:
            best, best_var = mean, var
        else:
            better = var < best_var
            best = np.where(better[..., None], mean, best)
            best_var = np.minimum(var, best_var)
    return u8(best)


def naive_sketch(img):
    grey = img.astype(np.float64) @ [0.299, 0.587, 0.114]
    blur = np.asarray(Image.fromarray(u8(255 - grey)).filter(ImageFilter.GaussianBlur(8))).astype(np.float64)
    out = u8(np.minimum(255, grey * 255 / np.maximum(255 - blur, 1e-9)))
    return np.repeat(out[..., None], 3, axis=2)


def naive_vignette(img):
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    d = np.hypot((xs - w / 2) / (w / 2), (ys - h / 2) / (h / 2)) / np.sqrt(2)
    t = np.clip((d - 0.6) / 0.5, 0, 1)
    return u8(img * (1 - 0.5 * t * t * (3 - 2 * t))[..., None])


def naive_shadow(img):
    a = np.zeros(img.shape[:2])
    a[img.shape[0] // 4 : -img.shape[0] // 4, img.shape[1] // 4 : -img.shape[1] // 4] = 1
    s = (
        np.asarray(Image.fromarray(u8(np.roll(a, (8, 8), (0, 1)) * 255)).filter(ImageFilter.GaussianBlur(6)))
        / 255
    )
    behind = 0.6 * s * (1 - a)
    out_a = a + behind
    rgb = img * a[..., None] / np.maximum(out_a, 1e-6)[..., None]
    return np.dstack([u8(rgb), u8(out_a * 255)])


def naive_texture(img):
    rng = np.random.default_rng(0)
    t = 0.5 + 0.15 * rng.standard_normal(img.shape[:2])[..., None]
    cb = img / 255.0
    over = np.where(cb <= 0.5, 2 * cb * t, 1 - 2 * (1 - cb) * (1 - t))
    return u8((cb + 0.5 * (over - cb)) * 255)


def naive_grain(img):
    rng = np.random.default_rng(0)
    f = img.astype(np.float64)
    luma = (f @ LUMA / 255)[..., None]
    return u8(f + 48 * 0.3 * rng.standard_normal(img.shape[:2])[..., None] * (0.3 + 2.8 * luma * (1 - luma)))


_SHARPEN = ImageFilter.Kernel((3, 3), [0, -0.5, 0, -0.5, 3, -0.5, 0, -0.5, 0], scale=1)

NAIVE = {
    "brightness": matrix(np.eye(3), 25.5),
    "contrast": matrix(1.2 * np.eye(3), -25.5),
    "saturation": matrix(sat(1.3)),
    "hue": matrix(sat(0.9)),
    "exposure": naive_exposure,
    "temperature": matrix(np.diag([1.1, 1, 0.9])),
    "vibrance": naive_vibrance,
    "shadows_highlights": naive_shadows,
    "levels": naive_levels,
    "curves": naive_levels,
    "gaussian_blur": pil(lambda im: im.filter(ImageFilter.GaussianBlur(2))),
    "motion_blur": naive_motion,
    "zoom_blur": naive_zoom,
    "unsharp_mask": pil(lambda im: im.filter(ImageFilter.UnsharpMask(2, 50, 0))),
    "sharpen": pil(lambda im: im.filter(_SHARPEN)),
    "wave": naive_remap("wave"),
    "ripple": naive_remap("ripple"),
    "swirl": naive_remap("swirl"),
    "perspective": naive_perspective,
    "oil_painting": naive_kuwahara,
    "watercolor": pil(lambda im: ImageOps.posterize(im.filter(ImageFilter.ModeFilter(5)), 5)),
    "pencil_sketch": naive_sketch,
    "cartoon": pil(lambda im: ImageOps.posterize(im.filter(ImageFilter.SMOOTH_MORE), 3)),
    "posterize": naive_posterize,
    "vignette": naive_vignette,
    "ambient_light": matrix(np.diag([1, 0.92, 0.83])),
    "drop_shadow": naive_shadow,
    "texture_overlay": naive_texture,
    "sepia": matrix(sat(0.2)),
    "black_white": matrix(np.tile(LUMA, (3, 1))),
    "film_grain": naive_grain,
    "faded": matrix(0.8 * np.eye(3), 30),
}
APPROXIMATE = {"watercolor", "cartoon", "curves", "hue", "sepia"}
PARAMS = {
    "perspective": {"points": [[0.1, 0.05], [0.9, 0.1], [0.95, 0.95], [0.05, 0.9]]},
    "brightness": {"amount": 0.1},
    "contrast": {"amount": 0.2},
    "saturation": {"amount": 0.3},
    "hue": {"degrees": 30},
    "exposure": {"stops": 1.0},
    "temperature": {"amount": 0.4},
    "vibrance": {"amount": 0.5},
    "shadows_highlights": {"shadows": 0.4},
    "levels": {"in_black": 20, "in_white": 235, "gamma": 1.2},
    "curves": {"rgb": [[0, 0], [128, 160], [255, 255]]},
}


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--repeats", type=int, default=7, help="repeats at 1024 (fewer at larger sizes)")
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} cores, OpenCV {cv2.__version__}, load average {os.getloadavg()[0]:.2f}; "
        "medians in ms; ratio = naive / library; '~' = Pillow op only approximates the filter"
    )
    for size in args.sizes:
        rng = np.random.default_rng(0)
        small = rng.integers(0, 256, (size // 32, size // 32, 3), dtype=np.uint8)
        img = np.clip(
            cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
            + rng.normal(0, 10, (size, size, 3)),
            0,
            255,
        ).astype(np.uint8)
        rgba = np.dstack([img, np.zeros((size, size), np.uint8)])
        rgba[size // 4 : -size // 4, size // 4 : -size // 4, 3] = 255
        repeats = max(2, args.repeats * 1024 * 1024 // (size * size))
        print(f"\n{size}x{size} ({repeats} repeats)")
        print(f"{'filter':20s} {'library':>10s} {'naive':>10s} {'ratio':>7s}")
        for name in F.filter_names():
            source = rgba if name == "drop_shadow" else img
            params = PARAMS.get(name, {})
            fn = getattr(F, name)
            shared_cache.clear()
            lib = median_ms(lambda: fn(source, **params), repeats)
            ref = median_ms(lambda: NAIVE[name](img), max(1, repeats // 2))
            mark = "~" if name in APPROXIMATE else " "
            print(f"{name:20s} {lib:10.1f} {ref:10.1f}{mark}{ref / lib:7.1f}x", flush=True)
            if get_filter(name).category == "distortion" and name != "perspective":

                def cold():
                    shared_cache.clear()
                    fn(source, **params)

                first = median_ms(cold, repeats)
                print(f"{'  first call (map)':20s} {first:10.1f} {ref:10.1f} {ref / first:7.1f}x", flush=True)


if __name__ == "__main__":
    main()
