"""The offline, deterministic ``local`` provider: a clearly labelled placeholder, never a real model.

No text-to-image model installs offline, so this draws a composition derived from the prompt and seed
(colours named in the prompt, shapes, the prompt's text) so that every workflow runs without credentials.
The same prompt, seed, size and options always give identical bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .base import (GeneratedImage, ImageRequest, ModelCapabilities, PartialCallback, PartialImage, ProgressCallback,
                   ProviderResult)

LOCAL_MODEL = "local"

CAPABILITIES = ModelCapabilities(
    model=LOCAL_MODEL,
    provider="local",
    sizes=("1024x1024", "256x256", "512x512", "1536x1024", "1024x1536", "1792x1024", "1024x1792"),
    qualities=("low", "medium", "high", "auto"),
    max_n=10,
    output_formats=("png", "jpeg", "webp"),
    backgrounds=("transparent", "opaque", "auto"),
    styles=("vivid", "natural"),
    seed=True,
    edit=True,
    mask_edit=True,
    max_input_images=4,
    max_partial_images=3,
    options={"output_compression": "an integer from 0 to 100 (jpeg and webp)",
             "partial_images": "an integer from 0 to 3: coarser previews sent before each final image",
             "stream": (True, False), "input_fidelity": ("low", "high")},
    description="Offline placeholder drawn from the prompt and seed; deterministic.",
)

_NAMED_COLOURS = {
    "red": (214, 48, 49), "orange": (243, 140, 40), "yellow": (246, 211, 58), "green": (46, 160, 67),
    "blue": (41, 98, 200), "purple": (128, 70, 180), "pink": (236, 112, 170), "brown": (130, 84, 48),
    "black": (30, 30, 34), "white": (240, 240, 236), "grey": (128, 128, 128), "gray": (128, 128, 128),
    "gold": (212, 175, 55), "teal": (0, 128, 128), "dawn": (250, 170, 120), "night": (20, 24, 60),
    "sunset": (240, 110, 60), "forest": (34, 100, 50), "ocean": (20, 90, 160), "sky": (120, 180, 235),
    "snow": (235, 240, 250), "fire": (230, 80, 20), "fox": (220, 110, 40),
}
_QUALITY_SHAPES = {"low": 4, "medium": 8, "auto": 8, "high": 14}


class LocalProvider:
    """Offline placeholder generator implementing :class:`~imagestudio_nb.providers.base.ImageProvider`."""

    name = "local"

    def capabilities(self) -> dict[str, ModelCapabilities]:
        return {LOCAL_MODEL: CAPABILITIES}

    def generate(self, request: ImageRequest, *, progress: ProgressCallback | None = None,
                 on_partial: PartialCallback | None = None) -> ProviderResult:
        images = []
        base_seed = request.seed if request.seed is not None else 0
        for index in range(request.n):
            seed = (base_seed + index) % 2**32
            picture = draw_placeholder(request.prompt, seed=seed, size=request.size, quality=request.quality,
                                       background=request.background, style=request.style)
            _send_partials(picture, request, index, on_partial)
            images.append(GeneratedImage(_encode(picture, request), revised_prompt=None, seed=seed))
            if progress:
                progress(1)
        return ProviderResult(images=images, provider=self.name, model=LOCAL_MODEL,
                              usage={"images": request.n})

    def edit(self, request: ImageRequest, *, progress: ProgressCallback | None = None,
             on_partial: PartialCallback | None = None) -> ProviderResult:
        from ..imaging.codec import decode_image

        width, height = _parse_size(request.size)
        source = Image.fromarray(decode_image(request.images[0], mode="RGBA")).resize((width, height))
        if request.mask is not None:
            mask_alpha = Image.fromarray(decode_image(request.mask, mode="RGBA")[..., 3]).resize((width, height))
            edit_area = Image.eval(mask_alpha, lambda a: 255 - a)  # transparent in the mask = edit here
        else:
            edit_area = Image.new("L", (width, height), 255)
        images = []
        base_seed = request.seed if request.seed is not None else 0
        for index in range(request.n):
            seed = (base_seed + index) % 2**32
            painted = draw_placeholder(request.prompt, seed=seed, size=request.size, quality=request.quality,
                                       background="opaque", style=request.style)
            result = source.copy()
            result.paste(painted, (0, 0), edit_area)
            _send_partials(result, request, index, on_partial)
            images.append(GeneratedImage(_encode(result, request), seed=seed))
            if progress:
                progress(1)
        return ProviderResult(images=images, provider=self.name, model=LOCAL_MODEL, usage={"images": request.n})


def _send_partials(picture: Image.Image, request: ImageRequest, output: int,
                   on_partial: PartialCallback | None) -> None:
    """Coarser renderings of ``picture`` (pixelated 16x, 8x, 4x), like a streaming model's partial images."""
    count = int(request.options.get("partial_images", 0) or 0)
    if not count or on_partial is None:
        return
    for index in range(count):
        factor = 2 ** (count - index + 1)
        small = picture.resize((max(1, picture.width // factor), max(1, picture.height // factor)), Image.BILINEAR)
        on_partial(PartialImage(index=index, data=_encode(small.resize(picture.size, Image.NEAREST), request),
                                output=output))


def _parse_size(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height)


def _encode(picture: Image.Image, request: ImageRequest) -> bytes:
    fmt = (request.output_format or "png").lower()
    buffer = io.BytesIO()
    compression = request.options.get("output_compression")
    quality = 100 - int(compression) if compression is not None else 90
    if fmt == "jpeg":
        picture.convert("RGB").save(buffer, "JPEG", quality=max(1, quality))
    elif fmt == "webp":
        picture.save(buffer, "WEBP", quality=max(1, quality), method=4)
    else:
        picture.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def _palette(prompt: str, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    words = [w.strip(".,;:!?\"'").lower() for w in prompt.split()]
    named = [_NAMED_COLOURS[w] for w in words if w in _NAMED_COLOURS]
    colours = list(dict.fromkeys(named))
    while len(colours) < 4:
        colours.append(tuple(int(c) for c in rng.integers(30, 230, 3)))
    return colours


def draw_placeholder(prompt: str, *, seed: int, size: str = "1024x1024", quality: str | None = None,
                     background: str | None = None, style: str | None = None) -> Image.Image:
    """Draw the deterministic placeholder picture for ``prompt`` and ``seed`` as an RGBA PIL image.

    Examples
    --------
    >>> a = draw_placeholder("a red fox at dawn", seed=7, size="256x256")
    >>> b = draw_placeholder("a red fox at dawn", seed=7, size="256x256")
    >>> a.size, a.tobytes() == b.tobytes()
    ((256, 256), True)
    """
    width, height = _parse_size(size)
    key = json.dumps([prompt, seed, size, quality, background, style]).encode()
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))
    colours = _palette(prompt, rng)
    transparent = background == "transparent"

    # Background: a vertical gradient between the first two colours (or nothing when transparent).
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array(colours[0], np.float32), np.array(colours[1], np.float32)
    rgb = np.broadcast_to(top * (1 - t) + bottom * t, (height, width, 3))
    alpha = np.zeros((height, width, 1), np.float32) if transparent else np.full((height, width, 1), 255, np.float32)
    canvas = Image.fromarray(np.concatenate([rgb, alpha], axis=2).round().astype(np.uint8), "RGBA")

    draw = ImageDraw.Draw(canvas)
    unit = min(width, height)
    for _ in range(_QUALITY_SHAPES.get(quality or "auto", 8)):
        colour = colours[int(rng.integers(0, len(colours)))]
        fill = (*colour, 255 if style != "natural" else 200)
        cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.15, 0.75) * height
        radius = rng.uniform(0.05, 0.2) * unit
        if rng.random() < 0.5:
            draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)
        else:
            draw.rounded_rectangle((cx - radius, cy - radius * 0.6, cx + radius, cy + radius * 0.6),
                                   radius=radius * 0.2, fill=fill)
    ridge = [(0, height)] + [(x, height * (0.72 + 0.1 * float(rng.random()))) for x in
                             np.linspace(0, width, 7)] + [(width, height)]
    draw.polygon(ridge, fill=(*colours[2], 255))

    # Label and prompt, so nobody mistakes this for a model's output.
    font_size = max(10, unit // 28)
    font = ImageFont.load_default(size=font_size)
    band_top = int(height * 0.80)
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    shade = ImageDraw.Draw(overlay)
    shade.rectangle((0, band_top, width, height), fill=(0, 0, 0, 170))
    shade.rectangle((0, 0, width, int(font_size * 1.4)), fill=(0, 0, 0, 150))
    canvas = Image.alpha_composite(canvas, overlay)
    draw = ImageDraw.Draw(canvas)
    chars_per_line = max(10, int(width / (font_size * 0.55)))
    lines = textwrap.wrap(prompt, chars_per_line)[:3]
    for i, line in enumerate(lines):
        draw.text((font_size, band_top + font_size * (0.5 + 1.3 * i)), line, fill=(255, 255, 255, 255), font=font)
    small = ImageFont.load_default(size=max(8, font_size * 2 // 3))
    draw.text((font_size // 2, font_size // 5), f"PLACEHOLDER - local generator - seed {seed}",
              fill=(255, 230, 120, 255), font=small)
    return canvas
