"""The comparison grid of an experiment: a labelled contact sheet drawn with numpy and Pillow.

It shows in a notebook through ``_repr_png_`` and knows nothing of projects: it is handed pixels and labels.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_BACKGROUND = (246, 246, 244)
_INK = (40, 40, 46)
_MUTED = (130, 130, 136)
_EMPTY = (222, 222, 220)


@dataclass
class SheetCell:
    """One picture of the grid (``image`` may be ``None`` for a failed or invalid cell)."""

    row: int
    column: int
    image: np.ndarray | None
    caption: str = ""


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _wrap(text: str, width_px: int, size: int, lines: int) -> str:
    per_line = max(4, int(width_px / (size * 0.55)))
    wrapped = textwrap.wrap(text, per_line) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: max(1, per_line - 1)] + "…"
    return "\n".join(wrapped)


def draw_sheet(cells: Sequence[SheetCell], row_labels: Sequence[str], column_labels: Sequence[str], *,
               cell: int = 192, title: str | None = None) -> np.ndarray:
    """Lay ``cells`` out in a labelled grid and return it as a uint8 RGB array.

    Examples
    --------
    >>> picture = draw_sheet([SheetCell(0, 0, np.zeros((8, 8, 3), np.uint8), "score 4")], ["a fox"], ["seed 1"],
    ...                      cell=64)
    >>> picture.dtype, picture.ndim
    (dtype('uint8'), 3)
    """
    gap, caption_h, header_h, label_w = 8, 18, 44, max(120, cell * 3 // 4)
    title_h = 28 if title else 0
    rows, columns = max(1, len(row_labels)), max(1, len(column_labels))
    width = label_w + columns * (cell + gap) + gap
    height = title_h + header_h + rows * (cell + caption_h + gap) + gap
    canvas = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    small, normal = _font(11), _font(13)
    if title:
        draw.text((gap, 6), _wrap(title, width - 2 * gap, 15, 1), fill=_INK, font=_font(15))
    for c, label in enumerate(column_labels):
        x = label_w + gap + c * (cell + gap)
        draw.multiline_text((x, title_h + 4), _wrap(label, cell, 11, 3), fill=_INK, font=small, spacing=1)
    for r, label in enumerate(row_labels):
        y = title_h + header_h + r * (cell + caption_h + gap)
        draw.multiline_text((gap, y + 4), _wrap(label, label_w - 2 * gap, 13, cell // 16), fill=_INK,
                            font=normal, spacing=2)
    for item in cells:
        x = label_w + gap + item.column * (cell + gap)
        y = title_h + header_h + item.row * (cell + caption_h + gap)
        if item.image is None:
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=_EMPTY)
        else:
            picture = Image.fromarray(item.image)
            if picture.mode == "RGBA":  # show transparency on the sheet's paper colour
                paper = Image.new("RGB", picture.size, _BACKGROUND)
                paper.paste(picture, mask=picture.getchannel("A"))
                picture = paper
            picture = picture.convert("RGB")
            picture.thumbnail((cell, cell), Image.Resampling.LANCZOS)
            canvas.paste(picture, (x + (cell - picture.width) // 2, y + (cell - picture.height) // 2))
        if item.caption:
            draw.text((x, y + cell + 3), _wrap(item.caption, cell, 11, 1), fill=_MUTED, font=small)
    return np.asarray(canvas)


class ComparisonSheet:
    """A drawn comparison grid; shows itself in a notebook and saves as PNG."""

    def __init__(self, image: np.ndarray, *, rows: Sequence[str], columns: Sequence[str]):
        self.image = image
        self.rows, self.columns = list(rows), list(columns)

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(self.image).save(buffer, "PNG", compress_level=1)
        return buffer.getvalue()

    def save(self, path) -> None:
        """Write the sheet as a PNG file."""
        from pathlib import Path

        Path(path).write_bytes(self._repr_png_())

    def __repr__(self) -> str:
        h, w = self.image.shape[:2]
        return f"ComparisonSheet({len(self.rows)} rows x {len(self.columns)} columns, {w}x{h} px)"
