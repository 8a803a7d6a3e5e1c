"""A filter chain over a folder of images, on any executor, a Dask cluster included (DESIGN.md D7).

Each image is read, filtered and written by the worker that got it (nothing but paths and outcomes crosses
the executor), atomically, so an interrupted batch leaves only whole files. Workers elsewhere must see the
same paths (a shared filesystem); a local cluster always does. Every item reports its own outcome; one bad
file never loses the others.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ImageStudioError, InvalidArgumentError, NotFoundError, UnsupportedParameterError
from .project.files import write_atomic

#: Input suffixes and the format each is written in unless ``format`` says otherwise.
IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
_SUFFIX_OF = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


@dataclass
class FilteredImage:
    """One input's outcome: ``output`` written, or ``error`` (with its type's name)."""

    source: str
    output: str | None = None
    error: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def filter_one(source: str, target: str, chain: list[dict[str, Any]], fmt: str, quality: int) -> FilteredImage:
    """Filter one file into ``target`` (written atomically). Never raises: failures travel as data."""
    from .imaging.chains import apply_chain
    from .imaging.codec import decode_image, encode_image

    try:
        image = decode_image(Path(source).read_bytes())
        data = encode_image(apply_chain(image, chain), fmt, quality=quality)
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, durable=False)  # whole or not at all, with the user's umask
        return FilteredImage(source, output=target)
    except (ImageStudioError, OSError) as exc:
        return FilteredImage(source, error=str(exc) or repr(exc), error_type=type(exc).__name__)


def filter_folder(source: str | os.PathLike, out_dir: str | os.PathLike, chain, *, format: str | None = None,
                  quality: int = 90, recursive: bool = False, executor=None, workers: int = 2,
                  progress: bool = True) -> list[FilteredImage]:
    """Apply ``chain`` to every image of ``source`` and write the results under ``out_dir``.

    Parameters
    ----------
    source, out_dir : path
        The folder of png/jpg/jpeg/webp images, and where the filtered ones go (same relative names).
    chain : list of dict or str
        A filter chain (see ``imagestudio_nb.imaging.chains.apply_chain``), validated before any work.
    format : {"png", "jpeg", "webp"}, optional
        Output format; by default each file keeps its own.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where to run; a thread pool of ``workers`` by default.

    Returns
    -------
    list of FilteredImage
        One per input, in name order.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from imagestudio_nb.imaging.codec import encode_image
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.png").write_bytes(encode_image(np.full((8, 8, 3), 90, np.uint8)))
    >>> _ = (folder / "broken.png").write_bytes(b"not an image")
    >>> done = filter_folder(folder, folder / "out", [{"filter": "brightness", "params": {"amount": 0.2}}],
    ...                      progress=False)
    >>> [(Path(item.source).name, item.ok) for item in done]
    [('a.png', True), ('broken.png', False)]
    """
    from .imaging.chains import validate_chain

    if format is not None and format not in _SUFFIX_OF:
        raise UnsupportedParameterError("format", format, tuple(_SUFFIX_OF))
    steps = validate_chain(chain)
    root, target = Path(source), Path(out_dir)
    if not root.is_dir():
        raise NotFoundError(f"folder {str(root)!r} does not exist")
    found = sorted(p for p in (root.rglob("*") if recursive else root.iterdir())
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and target not in p.parents)
    if not found:
        raise InvalidArgumentError(f"no images (png, jpg, jpeg, webp) in folder {str(root)!r}")
    jobs = []
    for path in found:
        relative = path.relative_to(root)
        fmt = format or IMAGE_SUFFIXES[path.suffix.lower()]
        jobs.append((str(path), str(target / relative.with_suffix(_SUFFIX_OF[fmt]) if format else target / relative),
                     fmt))
    if executor is not None and not isinstance(executor, Executor) and hasattr(executor, "get_executor"):
        executor = executor.get_executor()  # a dask.distributed Client
    pool = executor or ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imagestudio-filter")
    results: dict[int, FilteredImage] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="filter", unit="img")
    try:
        futures = {pool.submit(filter_one, src, out, steps, fmt, quality): k for k, (src, out, fmt) in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if bar is not None:
                bar.update(1)
    finally:
        if executor is None:
            pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    return [results[k] for k in range(len(jobs))]


__all__ = ["FilteredImage", "filter_folder", "filter_one"]
