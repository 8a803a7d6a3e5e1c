"""Background removal over many images: a folder or a list of paths/arrays, on any executor (DESIGN.md D7).

Each item succeeds or fails on its own: a failure is recorded with its message and never loses the other
items. Outputs are written atomically (temporary file, then rename), so nothing half-written is left, and
an input is never overwritten. On the default local path, decoding and encoding overlap the network in a
bounded pipeline (``pipeline.py``). Only the files and folders it is handed are read or written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import DataError, ImageStudioError, InvalidArgumentError, UnsupportedParameterError
from ..codec import decode_image
from .pipeline import run_bounded
from .writing import CUTOUT_FORMATS, encode_cutout

#: Output formats with alpha.
BATCH_FORMATS = CUTOUT_FORMATS
#: File suffixes picked up when a folder is given.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
#: Infix of outputs written beside their inputs: ``photo.jpg`` -> ``photo.cutout.png``.
BESIDE_INFIX = ".cutout"


#: Failures caused by the input itself rather than by processing or writing.
_BAD_INPUT = (DataError, InvalidArgumentError, FileNotFoundError, IsADirectoryError)


@dataclass
class BatchItem:
    """One input's outcome: ``ok`` with ``output`` (a path) and/or ``result``, or ``error`` (a message).

    ``bad_input`` tells a failure caused by the input itself (corrupt, unreadable or missing image, an
    output name that would overwrite an input) from one of the processing or writing.
    """

    index: int
    name: str
    source: str | None
    output: str | None = None
    result: object | None = None
    error: str | None = None
    error_type: str | None = None
    bad_input: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def fail(self, exc: BaseException) -> None:
        """Record ``exc`` as this item's failure."""
        if isinstance(exc, ImageStudioError):
            self.error = str(exc)
        else:
            self.error = f"{type(exc).__name__}: {exc}"
        self.error_type = type(exc).__name__
        self.bad_input = isinstance(exc, _BAD_INPUT)


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


def _is_own_output(path: Path) -> bool:
    return path.stem.endswith(BESIDE_INFIX) and path.suffix.lower() in tuple(f".{f}" for f in BATCH_FORMATS)


def collect_inputs(inputs, *, skip_outputs: bool = False) -> list[tuple[str, str | None, object]]:
    """Expand ``inputs`` into ``(name, source path or None, path-or-array)`` in a stable order.

    A folder (str or Path) yields its image files (png, jpg, jpeg, webp), sorted by name; a list may mix
    paths, folders and uint8 arrays (named ``image-0001``...). With ``skip_outputs``, files a previous run
    wrote beside their inputs (``*.cutout.png``, ``*.cutout.webp``) are not picked up from folders.
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
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                           and not (skip_outputs and _is_own_output(p)))
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


def _load(payload) -> np.ndarray:
    if isinstance(payload, np.ndarray):
        return payload
    with open(payload, "rb") as fh:
        return decode_image(fh.read())


def _store(result, out_path: str, fmt: str, background, shadow) -> str:
    from .replace import replace_background

    pixels = result.image if background in (None, "transparent") and not shadow else \
        replace_background(result, background, shadow=shadow)
    _write_atomic(Path(out_path), encode_cutout(pixels, fmt))
    return out_path


def process_one(payload, out_path: str | None, fmt: str, background, shadow, kwargs: Mapping):
    """Remove the background of one path or array; write ``out_path`` if given. Picklable for any executor.

    Returns ``(output path or None, result or None)``; ``result`` is dropped when written to disk so that
    process and cluster executors do not ship images back.
    """
    from .removal import remove_background

    result = remove_background(_load(payload), **kwargs)
    if out_path is None:
        return None, result
    return _store(result, out_path, fmt, background, shadow), None


def _progress(progress, total: int):
    if progress is True:
        from tqdm import tqdm

        return tqdm(total=total, desc="remove background", unit="img", file=sys.stderr, leave=True)
    return None


def _plan_outputs(report: BatchReport, items, out_dir, beside_inputs: bool, fmt: str) -> list[str | None]:
    """Output path per item (None: keep in memory); items whose output would clash fail here."""
    out_paths: list[str | None] = [None] * len(items)
    if out_dir is None and not beside_inputs:
        return out_paths
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    inputs = {os.path.realpath(src) for _, src, _ in items if src is not None}
    seen: dict[str, int] = {}
    for k, (name, src, _) in enumerate(items):
        item = report.items[k]
        if out_dir is not None:
            path = Path(out_dir) / f"{name}.{fmt}"
        elif src is None:
            item.fail(InvalidArgumentError(f"{name} is an array with no folder to write beside; pass out_dir"))
            continue
        else:
            path = Path(src).parent / f"{name}{BESIDE_INFIX}.{fmt}"
        key = os.path.realpath(path)
        if key in inputs:
            item.fail(InvalidArgumentError(f"the output {path} would overwrite an input; choose an out_dir"))
        elif key in seen:  # two inputs with one stem would overwrite each other's output
            item.fail(InvalidArgumentError(f"output name {path.name} is already used by input "
                                           f"#{seen[key] + 1}; rename one of the inputs"))
        else:
            seen[key] = k
            out_paths[k] = str(path)
    return out_paths


def remove_background_batch(inputs, *, out_dir: str | os.PathLike | None = None, beside_inputs: bool = False,
                            format: str = "png", executor=None, progress: bool = True,
                            background="transparent", shadow=None, max_workers: int | None = None,
                            model_batch: int = 1, **kwargs) -> BatchReport:
    """Remove the background of many images; every item reports success or its own failure.

    Parameters
    ----------
    inputs : str, Path, or list of paths/folders/arrays
        A folder (its png/jpg/jpeg/webp files), or a list mixing paths, folders and uint8 arrays.
    out_dir : path, optional
        Write ``out_dir/<input name without suffix>.<format>``.
    beside_inputs : bool
        Write each file input's result next to it as ``<stem>.cutout.<format>`` (folders then skip earlier
        ``*.cutout.*`` results). Without this or ``out_dir``, results stay in memory (``item.result``).
        An output that would overwrite an input fails that item instead.
    format : {"png", "webp"}
        Output format; both keep alpha and are lossless (PNG at a low zlib level: fast, a little larger).
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Run each item there (a process pool, a Dask cluster, ...). Without one, a bounded pipeline runs
        here: images are decoded ahead and encoded behind in threads while the network runs.
    progress : bool
        Show a tqdm progress bar on stderr.
    background, shadow
        Optional replacement for written files (see ``replace_background``); transparent by default.
    max_workers : int, optional
        Threads that decode ahead and encode behind on the local pipeline (default 1 each).
    model_batch : int
        Images per onnxruntime call on the local pipeline (1 by default: on the 2-core CPU measured, a
        batch of 2 or 4 was no faster per image; see RESULTS.md).
    **kwargs
        Passed to ``remove_background`` (method, model_path, refine, strokes, ...).

    Returns
    -------
    BatchReport
        ``.items`` in input order (``.ok``, ``.output``, ``.result``, ``.error``, ``.bad_input``),
        ``.failed``, ``.succeeded``.

    Raises
    ------
    InvalidArgumentError, UnsupportedParameterError
        Only for arguments that would fail every item (format, out_dir, model_batch); item failures are
        reported.

    Examples
    --------
    >>> import numpy as np
    >>> good = np.full((48, 48, 3), 240, np.uint8); good[12:36, 16:32] = (20, 60, 200)
    >>> report = remove_background_batch([good, np.zeros((4, 4), np.uint8)], progress=False)
    >>> [item.ok for item in report], report.failed[0].error_type, report.failed[0].bad_input
    ([True, False], 'InvalidArgumentError', True)
    """
    if format not in BATCH_FORMATS:
        raise UnsupportedParameterError("format", format, BATCH_FORMATS)
    if int(model_batch) < 1:
        raise InvalidArgumentError(f"model_batch={model_batch} must be at least 1")
    items = collect_inputs(inputs, skip_outputs=beside_inputs and out_dir is None)
    report = BatchReport([BatchItem(index=k, name=name, source=src)
                          for k, (name, src, _) in enumerate(items)])
    out_paths = _plan_outputs(report, items, out_dir, beside_inputs, format)
    todo = [k for k in range(len(items)) if report.items[k].ok]
    bar = _progress(progress, len(items))
    if bar:
        bar.update(len(items) - len(todo))

    def done(k: int, stored, error: BaseException | None) -> None:
        item = report.items[k]
        if error is not None:
            item.fail(error)
        elif out_paths[k] is None:
            item.result = stored
        else:
            item.output = stored
        if bar:
            bar.update(1)
            if not item.ok:
                bar.write(f"failed: {item.name}: {item.error}", file=sys.stderr)

    try:
        if executor is None:
            _run_local(items, todo, out_paths, done, format, background, shadow, max_workers,
                       int(model_batch), kwargs)
        else:
            _run_on_executor(executor, items, todo, out_paths, done, format, background, shadow, kwargs)
    finally:
        if bar:
            bar.close()
    return report


def _run_local(items, todo, out_paths, done, fmt, background, shadow, max_workers, model_batch, kwargs):
    from . import segmentation
    from .removal import _resolve_method, remove_background

    used = _resolve_method(kwargs.get("method", "auto"), kwargs.get("model_path"))
    batched = model_batch > 1 and used != "classical"

    def compute(images):
        mattes: list = [None] * len(images)
        if batched:
            valid = [i for i, im in enumerate(images)
                     if im.ndim == 3 and im.shape[2] in (3, 4) and im.dtype == np.uint8]
            predicted = segmentation.predict_mattes(
                [np.ascontiguousarray(images[i][..., :3]) for i in valid],
                model_path=kwargs.get("model_path"),
                normalization=kwargs.get("normalization", "imagenet"), input_size=kwargs.get("input_size"),
                batch_size=model_batch)
            for i, matte in zip(valid, predicted):
                mattes[i] = matte
        results = []
        for image, matte in zip(images, mattes):
            try:
                extra = {"coarse_matte": matte} if matte is not None else {}
                results.append(remove_background(image, **kwargs, **extra))
            except Exception as exc:
                results.append(exc)
        return results

    def store(position: int, result):
        k = todo[position]
        return result if out_paths[k] is None else _store(result, out_paths[k], fmt, background, shadow)

    workers = max_workers or 1
    run_bounded(len(todo), lambda position: _load(items[todo[position]][2]), compute, store,
                done=lambda position, stored, error: done(todo[position], stored, error),
                group=model_batch, depth=max(2, workers), loaders=workers, storers=workers)


def _run_on_executor(executor, items, todo, out_paths, done, fmt, background, shadow, kwargs):
    if not isinstance(executor, Executor) and hasattr(executor, "get_executor"):
        executor = executor.get_executor()  # a dask.distributed.Client
    futures = {
        executor.submit(process_one, items[k][2], out_paths[k], fmt, background, shadow, dict(kwargs)): k
        for k in todo
    }
    for future in as_completed(futures):
        k = futures[future]
        try:
            output, result = future.result()
        except Exception as exc:  # an item's failure must never lose the other items
            done(k, None, exc)
        else:
            done(k, output if out_paths[k] is not None else result, None)
