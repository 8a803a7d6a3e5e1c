"""Derived assets: filtered layer pixels keyed by (source hash, chain hash), cached on disk (DESIGN.md D3).

They live in ``<project>/cache/derived/`` as PNG, so every view (kernel, export, thumbnails) can reuse
a filter chain's result; being derived, they are never exported or synced and may be deleted any time.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from pathlib import Path

import numpy as np

from ..imaging.codec import decode_image, encode_image
from .files import write_atomic


class DerivedAssets(MutableMapping):
    """A mapping ``(source_hash, chain_hash) -> RGBA array`` stored as PNG files in one folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, key: tuple[str, str]) -> Path:
        source, chain = key
        if not (source.isalnum() and chain.isalnum()):
            raise KeyError(key)
        return self.folder / f"{source}_{chain}.png"

    def __getitem__(self, key: tuple[str, str]) -> np.ndarray:
        path = self._path(key)
        try:
            return decode_image(path.read_bytes(), mode="RGBA")
        except FileNotFoundError:
            raise KeyError(key) from None

    def __setitem__(self, key: tuple[str, str], pixels: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self._path(key), encode_image(pixels, "png"))

    def __delitem__(self, key: tuple[str, str]) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*_*.png")):
                source, _, chain = path.stem.partition("_")
                yield source, chain

    def __len__(self) -> int:
        return sum(1 for _ in self)
