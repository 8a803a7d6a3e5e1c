"""Per-pixel colour operations that fuse: 3x4 colour matrices and per-channel tone curves.

Colour filters describe themselves as a ``ColourMatrix`` (out = A @ rgb + b, on the 0..255 scale)
or a ``ToneCurve`` (a 256-entry table per channel). A run of them is folded into as few passes as
possible: consecutive matrices into one ``cv2.transform``, consecutive per-channel steps (curves and
diagonal matrices) into one ``cv2.LUT``. Values are clipped once per fused pass, not once per step.
This module must never look at anything but the colour of one pixel at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

_LEVELS = np.arange(256, dtype=np.float64)

#: Rec. 709 luma weights, as used by the W3C Filter Effects matrices.
LUMA = np.array([0.2126, 0.7152, 0.0722])


@dataclass(frozen=True, eq=False)
class ColourMatrix:
    """An affine colour map ``out = a @ rgb + b`` on the 0..255 scale (``a`` 3x3, ``b`` 3)."""

    a: np.ndarray
    b: np.ndarray

    @classmethod
    def of(
        cls, a: Sequence | np.ndarray | None = None, b: Sequence | np.ndarray | None = None
    ) -> ColourMatrix:
        """Build from a 3x3 matrix (identity when ``None``) and an offset (zero when ``None``)."""
        return cls(
            np.eye(3) if a is None else np.asarray(a, np.float64).reshape(3, 3),
            np.zeros(3) if b is None else np.asarray(b, np.float64).reshape(3),
        )

    @property
    def is_diagonal(self) -> bool:
        return bool(np.count_nonzero(self.a - np.diag(np.diag(self.a))) == 0)

    @property
    def is_identity(self) -> bool:
        return bool(np.array_equal(self.a, np.eye(3)) and not self.b.any())

    def then(self, other: ColourMatrix) -> ColourMatrix:
        """The matrix that applies ``self`` and then ``other``."""
        return ColourMatrix(other.a @ self.a, other.a @ self.b + other.b)

    def as_3x4(self) -> np.ndarray:
        return np.hstack([self.a, self.b[:, None]]).astype(np.float32)


@dataclass(frozen=True, eq=False)
class ToneCurve:
    """A per-channel map given by its values at 0..255, shape (256, 3); floats, clipped on use."""

    table: np.ndarray

    @classmethod
    def per_channel(cls, fn) -> ToneCurve:
        """Build from ``fn(levels) -> values`` applied to every channel alike."""
        values = np.asarray(fn(_LEVELS.copy()), np.float64)
        return cls(np.repeat(values[:, None], 3, axis=1))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        x = np.clip(values, 0, 255)
        return np.stack([np.interp(x[:, c], _LEVELS, self.table[:, c]) for c in range(3)], axis=1)


ColourOp = ColourMatrix | ToneCurve


def saturate_matrix(s: float) -> np.ndarray:
    """The W3C Filter Effects ``saturate`` matrix (3x3); ``s=0`` is grey, ``s=1`` the identity."""
    grey = np.tile(LUMA, (3, 1))
    return grey + s * (np.eye(3) - grey)


def hue_rotate_matrix(degrees: float) -> np.ndarray:
    """The W3C Filter Effects ``hue-rotate`` matrix (3x3)."""
    t = np.deg2rad(degrees)
    c, s = np.cos(t), np.sin(t)
    base = np.tile(LUMA, (3, 1))
    cos_part = np.array([[0.787, -0.715, -0.072], [-0.213, 0.285, -0.072], [-0.213, -0.715, 0.928]])
    sin_part = np.array([[-0.213, -0.715, 0.928], [0.143, 0.140, -0.283], [-0.787, 0.715, 0.072]])
    return base + c * cos_part + s * sin_part


def _plan(ops: Sequence[ColourOp]) -> list[tuple[str, np.ndarray]]:
    """Fold ``ops`` into passes: ``("matrix", 3x4 float32)`` or ``("lut", (256, 3) uint8)``."""
    segments: list[list] = []  # each [kind, ops]; kind None while only diagonal matrices are in it
    for op in ops:
        if isinstance(op, ColourMatrix) and op.is_identity:
            continue
        if isinstance(op, ToneCurve):
            kind = "lut"
        else:
            kind = None if op.is_diagonal else "matrix"
        last = segments[-1] if segments else None
        if last is not None and (kind is None or last[0] in (None, kind)):
            last[0] = last[0] or kind
            last[1].append(op)
        else:
            segments.append([kind, [op]])
    passes = []
    for kind, seg in segments:
        if kind == "matrix":
            fused = seg[0]
            for op in seg[1:]:
                fused = fused.then(op)
            if not fused.is_diagonal:
                passes.append(("matrix", fused.as_3x4()))
                continue
            seg = [fused]  # cv2.transform is slow on diagonal matrices; a LUT is not
        values = np.repeat(_LEVELS[:, None], 3, axis=1)
        for op in seg:
            values = op(values) if isinstance(op, ToneCurve) else values * np.diag(op.a) + op.b
        passes.append(("lut", np.clip(np.rint(values), 0, 255).astype(np.uint8)))
    return passes


def apply_colour_ops(image: np.ndarray, ops: Sequence[ColourOp]) -> np.ndarray:
    """Apply colour operations to an RGB or RGBA uint8 image in as few passes as possible.

    Alpha is carried through untouched. The input is never modified.

    Examples
    --------
    >>> img = np.full((1, 2, 3), 100, np.uint8)
    >>> apply_colour_ops(img, [ColourMatrix.of(b=[10, 0, 0]), ColourMatrix.of(2 * np.eye(3))])[0, 0].tolist()
    [220, 200, 200]
    """
    passes = _plan(ops)
    if not passes:
        return image.copy()
    has_alpha = image.shape[2] == 4
    out = image
    for kind, data in passes:
        if kind == "lut":
            if has_alpha:
                table = np.hstack([data, _LEVELS[:, None].astype(np.uint8)]).reshape(256, 1, 4)
            elif (data == data[:, :1]).all():
                table = np.ascontiguousarray(data[:, 0])  # one table for all channels is twice as fast
            else:
                table = data.reshape(256, 1, 3)
            out = cv2.LUT(out, np.ascontiguousarray(table))
        else:
            # cv2.transform is fastest on three channels; alpha is copied back afterwards.
            rgb = cv2.cvtColor(out, cv2.COLOR_RGBA2RGB) if has_alpha else out
            res = cv2.transform(rgb, data)
            if has_alpha:
                out4 = cv2.cvtColor(res, cv2.COLOR_RGB2RGBA)
                cv2.mixChannels([out], [out4], [3, 3])
                res = out4
            out = res
    return out if out is not image else image.copy()
