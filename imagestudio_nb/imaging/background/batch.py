"""Background removal over many images: a folder or a list of paths/arrays, on any executor (DESIGN.md D7).

Each item succeeds or fails on its own: a failure is recorded with its message and never loses the other
items. Outputs are written atomically (temporary file, then rename), so nothing half-written is left.
Only the files and folders it is handed are read or written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import ImageStudioError, InvalidArgumentError, UnsupportedParameterError
from ..codec import decode_image, encode_image

#: Output formats with alpha.
BATCH_FORMATS = ("png", "webp")
#: File suffixes picked up when a folder is given.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass
class BatchItem:
    """One input's outcome: ``ok`` with ``output`` (a path) and/or ``result``, or ``error`` (a message)."""

    index: int
    name: str
    source: str | None
    output: str | None = None
    result: object | None = None
    error: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BatchReport:
    """All items in input order, with the failed ones easy to list."""

    items: list[BatchItem] = field(default_factory=list)

    @property
    def succeeded(self) -> list[BatchItem]:
        return [i for i in self.items if i.ok]

    @property
    def failed(self) -> list[BatchItem]:
        return [i for i in self.items if not i.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)


def collect_inputs(inputs) -> list[tuple[str, str | None, object]]:
    """Expand ``inputs`` into ``(name, source path or None, path-or-array)`` in a stable order.

    A folder (str or Path) yields its image files (png, jpg, jpeg, webp), sorted by name; a list may mix
    paths, folders and uint8 arrays (named ``image-0001``...).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    elif isinstance(inputs, np.ndarray):
        raise InvalidArgumentError("pass a list of arrays, or a folder or list of paths, to remove_background_batch")
    out: list[tuple[str, str | None, object]] = []
    for k, item in enumerate(inputs):
        if isinstance(item, np.ndarray):
            out.append((f"image-{k + 1:04d}", None, item))
            continue
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            out.extend((p.stem, str(p), str(p)) for p in files)
        else:
            out.append((path.stem, str(path), str(path)))
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def process_one(payload, out_path: str | None, fmt: str, background, shadow, kwargs: Mapping):
    """Remove the background of one path or array; write ``out_path`` if given. Picklable for any executor.

    Returns ``(output path or None, result or None)``; ``result`` is dropped when written to disk so that
    process and cluster executors do not ship images back.
    """
    from .removal import remove_background
    from .replace import replace_background

    if isinstance(payload, np.ndarray):
        image = payload
    else:
        with open(payload, "rb") as fh:
            image = decode_image(fh.read())
    result = remove_background(image, **kwargs)
    if out_path is None:
        return None, result
    pixels = result.image if background in (None, "transparent") and not shadow else \
        replace_background(result, background, shadow=shadow)
    _write_atomic(Path(out_path), encode_image(pixels, fmt, lossless=True))
    return out_path, None


def _progress(progress, total: int):
    if progress is True:
        from tqdm import tqdm

        return tqdm(total=total, desc="remove background", unit="img", file=sys.stderr, leave=True)
    return None


def remove_background_batch(inputs, *, out_dir: str | os.PathLike | None = None, format: str = "png",
                            executor: Executor | None = None, progress: bool = True,
                            background="transparent", shadow=None, max_workers: int | None = None,
                            **kwargs) -> BatchReport:
    """Remove the background of many images; every item reports success or its own failure.

    Parameters
    ----------
    inputs : str, Path, or list of paths/folders/arrays
        A folder (its png/jpg/jpeg/webp files), or a list mixing paths, folders and uint8 arrays.
    out_dir : path, optional
        Write ``out_dir/<input name without suffix>.<format>``; without it, results stay in memory.
    format : {"png", "webp"}
        Output format; both keep alpha (WebP is written lossless).
    executor : concurrent.futures.Executor, optional
        Where to run; a local thread pool by default. Any Executor works, e.g. a process pool or a Dask
        ``Client.get_executor()``.
    progress : bool
        Show a tqdm progress bar on stderr.
    background, shadow
        Optional replacement for written files (see ``replace_background``); transparent by default.
    max_workers : int, optional
        Threads of the default pool (default: 2, as onnxruntime already uses the cores).
    **kwargs
        Passed to ``remove_background`` (method, model_path, refine, strokes, ...).

    Returns
    -------
    BatchReport
        ``.items`` in input order (``.ok``, ``.output``, ``.result``, ``.error``), ``.failed``, ``.succeeded``.

    Raises
    ------
    InvalidArgumentError, UnsupportedParameterError
        Only for arguments that would fail every item (format, out_dir); item failures are reported.

    Examples
    --------
    >>> import numpy as np
    >>> good = np.full((48, 48, 3), 240, np.uint8); good[12:36, 16:32] = (20, 60, 200)
    >>> report = remove_background_batch([good, np.zeros((4, 4), np.uint8)], progress=False)
    >>> [item.ok for item in report], report.failed[0].error_type
    ([True, False], 'InvalidArgumentError')
    """
    if format not in BATCH_FORMATS:
        raise UnsupportedParameterError("format", format, BATCH_FORMATS)
    items = collect_inputs(inputs)
    report = BatchReport([BatchItem(index=k, name=name, source=src) for k, (name, src, _) in enumerate(items)])
    out_paths: list[str | None] = [None] * len(items)
    if out_dir is not None:
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        seen: dict[str, int] = {}
        for k, (name, _, _) in enumerate(items):
            if name in seen:  # two inputs with one stem would overwrite each other's output
                report.items[k].error = (f"output name {name}.{format} is already used by input "
                                         f"#{seen[name] + 1}; rename one of the inputs")
                report.items[k].error_type = "InvalidArgumentError"
                continue
            seen[name] = k
            out_paths[k] = str(folder / f"{name}.{format}")
    own = executor is None
    pool = ThreadPoolExecutor(max_workers=max_workers or 2) if own else executor
    bar = _progress(progress, len(items))
    try:
        futures = {}
        for k, (_, _, payload) in enumerate(items):
            if report.items[k].error is not None:
                if bar:
                    bar.update(1)
                continue
            fut = pool.submit(process_one, payload, out_paths[k], format, background, shadow, dict(kwargs))
            futures[fut] = k
        for fut in as_completed(futures):
            item = report.items[futures[fut]]
            try:
                item.output, item.result = fut.result()
            except ImageStudioError as exc:
                item.error, item.error_type = str(exc), type(exc).__name__
            except Exception as exc:  # an item's failure must never lose the other items
                item.error, item.error_type = f"{type(exc).__name__}: {exc}", type(exc).__name__
            if bar:
                bar.update(1)
                if not item.ok:
                    bar.write(f"failed: {item.name}: {item.error}", file=sys.stderr)
    finally:
        if bar:
            bar.close()
        if own:
            pool.shutdown(wait=True)
    return report
