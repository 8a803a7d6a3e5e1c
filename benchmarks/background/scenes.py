"""Ground truth for the background-removal benchmark: product-like scenes with exact alpha.

Objects (bottle, box, mug with a handle hole, glass, fur) are drawn at 4x and area-averaged, so alpha is the
exact supersampled coverage; the image is ``alpha * foreground + (1 - alpha) * background`` plus sensor
noise. Backgrounds: white, solid, gradient, studio sweep (with a soft contact shadow that is NOT part of the
object), textured and photo (scikit-image's bundled pictures). ``real_scenes`` adds scikit-image photos
whose masks can be derived. Everything is seeded: the same call returns the same pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SS = 4  # supersampling factor
SHIFT = 4  # cv2 sub-pixel bits
OBJECTS = ("bottle", "box", "mug", "glass", "fur")
OPAQUE = ("bottle", "box", "mug")
FAMILIES = ("white", "solid", "gradient", "sweep", "textured", "photo")
STUDIO = ("white", "solid", "gradient", "sweep")

PALETTE = [
    (200, 40, 40), (30, 70, 160), (40, 140, 70), (230, 160, 30), (25, 25, 28), (90, 90, 95),
    (236, 234, 228), (240, 220, 180), (230, 160, 180), (120, 60, 30), (60, 170, 190), (150, 120, 200),
]


def _pts(points, s):
    return np.round(np.asarray(points, np.float64) * s * (1 << SHIFT)).astype(np.int32)


class _Canvas:
    """Draws part masks at SS x resolution and returns their coverage at 1x."""

    def __init__(self, size):
        self.size = size
        self.big = size * SS

    def poly(self, points):
        m = np.zeros((self.big, self.big), np.uint8)
        cv2.fillPoly(m, [_pts(points, self.big)], 255, cv2.LINE_8, SHIFT)
        return self._down(m)

    def ellipse(self, cx, cy, rx, ry, angle=0.0):
        m = np.zeros((self.big, self.big), np.uint8)
        f = self.big * (1 << SHIFT)
        cv2.ellipse(m, (round(cx * f), round(cy * f)), (max(1, round(rx * f)), max(1, round(ry * f))),
                    angle, 0, 360, 255, -1, cv2.LINE_8, SHIFT)
        return self._down(m)

    def lines(self, segments, width):
        m = np.zeros((self.big, self.big), np.uint8)
        for (x0, y0, x1, y1), wd in zip(segments, width):
            cv2.line(m, tuple(_pts((x0, y0), self.big)), tuple(_pts((x1, y1), self.big)), 255,
                     max(1, round(wd * self.big)), cv2.LINE_8, SHIFT)
        return self._down(m)

    def _down(self, m):
        return cv2.resize(m.astype(np.float32) / 255, (self.size, self.size), interpolation=cv2.INTER_AREA)


def _shade(size, x0, x1, colour, highlight=True):
    """A cylinder-like horizontal shading of ``colour`` between normalised x0 and x1."""
    xs = (np.arange(size, dtype=np.float32) + 0.5) / size
    t = np.clip((xs - x0) / max(1e-6, x1 - x0), 0, 1)
    shade = 0.62 + 0.38 * np.sin(np.pi * t)
    col = np.asarray(colour, np.float32)[None, :] * shade[:, None]
    if highlight:
        col += 120 * np.exp(-((t - 0.3) / 0.05) ** 2)[:, None]
    return np.broadcast_to(np.clip(col, 0, 255)[None], (size, size, 3))


class _Object:
    def __init__(self, size):
        self.c = _Canvas(size)
        self.size = size
        self.alpha = np.zeros((size, size), np.float32)
        self.num = np.zeros((size, size, 3), np.float32)

    def add(self, coverage, colour, opacity=1.0):
        """Paint a part over the previous ones (coverage x opacity), with a colour or a colour image."""
        a = coverage * opacity
        col = np.broadcast_to(np.asarray(colour, np.float32), (self.size, self.size, 3))
        self.num = self.num * (1 - a[..., None]) + col * a[..., None]
        self.alpha = self.alpha * (1 - a) + a

    def foreground(self):
        return self.num / np.maximum(self.alpha, 1e-6)[..., None]


def _bottle(o, rng, cx, cy, h, col):
    w = h * 0.36
    top, bottom = cy - h / 2, cy + h / 2
    body_top = top + h * 0.38
    neck_w = w * 0.32
    shade = _shade(o.size, cx - w / 2, cx + w / 2, col)
    body = o.c.poly([(cx - w / 2, body_top), (cx + w / 2, body_top), (cx + w / 2, bottom - h * 0.02),
                     (cx + w / 2 - h * 0.02, bottom), (cx - w / 2 + h * 0.02, bottom), (cx - w / 2, bottom - h * 0.02)])
    shoulder = o.c.ellipse(cx, body_top, w / 2, h * 0.12)
    neck = o.c.poly([(cx - neck_w / 2, top + h * 0.06), (cx + neck_w / 2, top + h * 0.06),
                     (cx + neck_w / 2, body_top), (cx - neck_w / 2, body_top)])
    o.add(np.maximum(np.maximum(body, shoulder), neck), shade)
    o.add(o.c.poly([(cx - neck_w * 0.6, top), (cx + neck_w * 0.6, top), (cx + neck_w * 0.6, top + h * 0.08),
                    (cx - neck_w * 0.6, top + h * 0.08)]), _shade(o.size, cx - neck_w, cx + neck_w, (40, 40, 40)))
    label = PALETTE[rng.integers(len(PALETTE))]
    o.add(o.c.poly([(cx - w / 2, cy + h * 0.05), (cx + w / 2, cy + h * 0.05), (cx + w / 2, cy + h * 0.3),
                    (cx - w / 2, cy + h * 0.3)]), _shade(o.size, cx - w / 2, cx + w / 2, label, False))


def _box(o, rng, cx, cy, h, col):
    w, d = h * 0.55, h * 0.25
    x0, y0 = cx - (w + d * 0.8) / 2, cy - h / 2 + d * 0.5
    front = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h - d * 0.5), (x0, y0 + h - d * 0.5)]
    side = [(x0 + w, y0), (x0 + w + d * 0.8, y0 - d * 0.5), (x0 + w + d * 0.8, y0 + h - d), (x0 + w, y0 + h - d * 0.5)]
    top = [(x0, y0), (x0 + d * 0.8, y0 - d * 0.5), (x0 + w + d * 0.8, y0 - d * 0.5), (x0 + w, y0)]
    c = np.asarray(col, np.float32)
    o.add(o.c.poly(front), c * 0.95)
    o.add(o.c.poly(side), c * 0.7)
    o.add(o.c.poly(top), np.clip(c * 1.1 + 15, 0, 255))
    label = PALETTE[rng.integers(len(PALETTE))]
    o.add(o.c.poly([(x0 + w * 0.15, y0 + h * 0.2), (x0 + w * 0.85, y0 + h * 0.2), (x0 + w * 0.85, y0 + h * 0.45),
                    (x0 + w * 0.15, y0 + h * 0.45)]), label)


def _mug(o, rng, cx, cy, h, col):
    w = h * 0.75
    bx = cx - w * 0.15  # body shifted left, handle on the right
    top, bottom = cy - h / 2, cy + h / 2
    # The handle is a ring: outer ellipse minus inner ellipse, so the background shows through the hole.
    hx, hy = bx + w / 2, cy
    outer = o.c.ellipse(hx, hy, w * 0.26, h * 0.28)
    inner = o.c.ellipse(hx, hy, w * 0.15, h * 0.17)
    ring = np.clip(outer - inner, 0, 1)
    o.add(ring, _shade(o.size, hx, hx + w * 0.26, col, False))
    body = o.c.poly([(bx - w / 2, top + h * 0.05), (bx + w / 2, top + h * 0.05), (bx + w / 2, bottom - h * 0.04),
                     (bx - w / 2, bottom - h * 0.04)])
    base = o.c.ellipse(bx, bottom - h * 0.04, w / 2, h * 0.04)
    rim = o.c.ellipse(bx, top + h * 0.05, w / 2, h * 0.05)
    o.add(np.maximum(np.maximum(body, base), rim), _shade(o.size, bx - w / 2, bx + w / 2, col))
    o.add(o.c.ellipse(bx, top + h * 0.05, w / 2 * 0.93, h * 0.04), np.asarray(col, np.float32) * 0.45)


def _glass(o, rng, cx, cy, h, col):
    w_top, w_bot = h * 0.5, h * 0.38
    top, bottom = cy - h / 2, cy + h / 2
    tint = np.clip(np.asarray(col, np.float32) * 0.3 + 180, 0, 255)
    body = o.c.poly([(cx - w_top / 2, top), (cx + w_top / 2, top), (cx + w_bot / 2, bottom), (cx - w_bot / 2, bottom)])
    o.add(body, tint, opacity=0.3)
    o.add(o.c.poly([(cx - w_bot / 2, bottom - h * 0.1), (cx + w_bot / 2, bottom - h * 0.1), (cx + w_bot / 2, bottom),
                    (cx - w_bot / 2, bottom)]), tint, opacity=0.65)
    edge = h * 0.018
    o.add(o.c.lines([(cx - w_top / 2 + edge / 2, top, cx - w_bot / 2 + edge / 2, bottom),
                     (cx + w_top / 2 - edge / 2, top, cx + w_bot / 2 - edge / 2, bottom)], [edge, edge]), tint, 0.85)
    o.add(o.c.ellipse(cx, top, w_top / 2, h * 0.03) - o.c.ellipse(cx, top, w_top / 2 - edge, h * 0.03 - edge * 0.6),
          (245, 245, 245), 0.8)
    o.add(o.c.lines([(cx - w_top * 0.25, top + h * 0.1, cx - w_bot * 0.22, bottom - h * 0.15)], [h * 0.02]),
          (255, 255, 255), 0.7)


def _fur(o, rng, cx, cy, h, col):
    r = h * 0.3
    core = o.c.ellipse(cx, cy, r, r * 0.9)
    base = np.asarray(col, np.float32)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (o.size, o.size, 3)).astype(np.float32), (0, 0), 2)
    fur_col = np.clip(base + noise, 0, 255)
    o.add(core, fur_col)
    n = 1400
    ang = rng.uniform(0, 2 * np.pi, n)
    start = rng.uniform(0.75, 0.98, n)
    length = rng.uniform(0.12, 0.35, n) * r
    curl = rng.normal(0, 0.25, n)
    segs = []
    for a, s, ln, cu in zip(ang, start, length, curl):
        x0, y0 = cx + math.cos(a) * r * s, cy + math.sin(a) * r * s * 0.9
        a2 = a + cu
        segs.append((x0, y0, x0 + math.cos(a2) * ln, y0 + math.sin(a2) * ln))
    widths = rng.uniform(0.0006, 0.0022, n) * h / 0.6
    o.add(o.c.lines(segs, widths), fur_col)


DRAW = {"bottle": _bottle, "box": _box, "mug": _mug, "glass": _glass, "fur": _fur}


def _photo(name, size):
    from skimage import data

    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.dstack([img] * 3)
    img = img[..., :3]
    h, w = img.shape[:2]
    side = min(h, w)
    img = img[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float32)


PHOTOS = ("astronaut", "coffee", "rocket", "chelsea", "hubble_deep_field", "immunohistochemistry", "brick", "gravel")


def background(family, size, rng):
    """Return a float32 (size, size, 3) background of one family, and whether it gets a contact shadow."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if family == "white":
        return np.full((size, size, 3), rng.uniform(246, 255), np.float32), False
    if family == "solid":
        return np.broadcast_to(rng.uniform(20, 235, 3).astype(np.float32), (size, size, 3)).copy(), False
    if family == "gradient":
        c0, c1 = rng.uniform(20, 250, 3), rng.uniform(20, 250, 3)
        if rng.random() < 0.5:
            ang = rng.uniform(0, 2 * np.pi)
            t = (np.cos(ang) * (xx - 0.5) + np.sin(ang) * (yy - 0.5)) / 0.71 * 0.5 + 0.5
        else:
            t = np.clip(np.hypot(xx - 0.5, yy - 0.45) / 0.75, 0, 1)
        return (c0 * (1 - t[..., None]) + c1 * t[..., None]).astype(np.float32), False
    if family == "sweep":
        wall = rng.uniform(150, 245) * np.array([1, rng.uniform(0.97, 1.0), rng.uniform(0.94, 1.0)])
        floor = np.minimum(wall * rng.uniform(1.0, 1.1), 255)
        horizon = rng.uniform(0.55, 0.75)
        t = 1 / (1 + np.exp(-(yy - horizon) / 0.06))
        vignette = 1 - 0.18 * (np.hypot(xx - 0.5, yy - 0.55) / 0.7) ** 2
        bg = (wall * (1 - t[..., None]) + floor * t[..., None]) * vignette[..., None]
        return bg.astype(np.float32), True
    if family == "textured":
        kind = rng.integers(3)
        if kind == 0:  # wood grain
            warp = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), size / 30) * 40
            t = 0.5 + 0.5 * np.sin((yy * 60 + warp) * 1.0)
            c0, c1 = np.array([150, 100, 60]), np.array([100, 60, 30])
        elif kind == 1:  # fabric
            t = 0.5 + 0.25 * np.sin(xx * size * 0.8) + 0.25 * np.sin(yy * size * 0.8)
            t += rng.normal(0, 0.08, (size, size))
            c0, c1 = rng.uniform(40, 220, 3), rng.uniform(40, 220, 3)
        else:  # marble / blotches
            t = sum(cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), s) * s
                    for s in (2, 8, 32))
            t = (t - t.min()) / (t.max() - t.min())
            c0, c1 = rng.uniform(60, 240, 3), rng.uniform(60, 240, 3)
        t = np.clip(t, 0, 1)[..., None]
        return (c0 * (1 - t) + c1 * t).astype(np.float32), False
    if family == "photo":
        return _photo(PHOTOS[rng.integers(len(PHOTOS))], size), False
    raise ValueError(family)


def make_scene(obj: str, family: str, *, size: int = 1024, seed: int = 0):
    """Return ``(rgb uint8 (size, size, 3), alpha float32 (size, size))`` for one object on one background."""
    rng = np.random.default_rng([OBJECTS.index(obj), FAMILIES.index(family), seed])
    bg, shadow = background(family, size, rng)
    o = _Object(size)
    h = rng.uniform(0.5, 0.75)
    cx, cy = 0.5 + rng.uniform(-0.08, 0.08), 0.5 + rng.uniform(-0.05, 0.05)
    col = PALETTE[rng.integers(len(PALETTE))]
    DRAW[obj](o, rng, cx, cy, h, col)
    if shadow or (family == "white" and rng.random() < 0.5):
        ys = np.nonzero(o.alpha.max(1) > 0.5)[0]
        foot = ys.max() / size if len(ys) else cy + h / 2
        sh = o.c.ellipse(cx, foot, h * 0.35, h * 0.04)
        sh = cv2.GaussianBlur(sh, (0, 0), size * 0.02)
        bg = bg * (1 - 0.45 * sh[..., None])
    fg = o.foreground()
    a = o.alpha[..., None]
    img = fg * a + bg * (1 - a) + rng.normal(0, 1.5, (size, size, 3))
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), o.alpha.astype(np.float32)


def real_scenes(size: int = 1024):
    """scikit-image photos whose masks can be derived: ``[(name, rgb, alpha), ...]`` (masks are binary)."""
    from scipy import ndimage
    from skimage import data, filters

    out = []
    wheel = data.colorwheel()[..., :3]  # a colour wheel printed on white
    mask = (np.abs(wheel.astype(int) - 255).max(-1) > 40)
    mask = ndimage.binary_fill_holes(ndimage.binary_opening(mask, iterations=2))
    out.append(("colorwheel", wheel, mask))
    retina = data.retina()[..., :3]  # a fundus photograph: the lit disc on black
    grey = retina.mean(-1)
    mask = ndimage.binary_fill_holes(grey > filters.threshold_otsu(grey) * 0.3)
    out.append(("retina", retina, mask))
    coins = data.coins()  # coins on a plain, unevenly lit background
    mask = coins > filters.threshold_otsu(coins)
    mask = ndimage.binary_fill_holes(ndimage.binary_opening(mask, iterations=2))
    labels, n = ndimage.label(mask)
    sizes = ndimage.sum(mask, labels, range(1, n + 1))
    mask = np.isin(labels, 1 + np.nonzero(sizes > 200)[0])
    out.append(("coins", np.dstack([coins] * 3), mask))
    res = []
    for name, rgb, m in out:
        h, w = m.shape
        scale = size / max(h, w)
        dsize = (round(w * scale), round(h * scale))
        res.append((name, cv2.resize(rgb, dsize, interpolation=cv2.INTER_CUBIC),
                    cv2.resize(m.astype(np.float32), dsize, interpolation=cv2.INTER_LINEAR)))
    return res
