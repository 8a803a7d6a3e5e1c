"""``imagestudio remove-bg IN...``: background removal over files and folders.

Thin: it parses options and calls ``remove_background_batch``, the same function notebooks call. Results go
next to their inputs (``<stem>.cutout.png``) unless ``--out DIR`` is given; an input is never overwritten.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import (
    DataError, InvalidArgumentError, PartialResultError, UnsupportedParameterError,
)
from ._dask import dask_client
from ._output import JsonOption, print_json

_REFINES = {"guided": "guided", "matting": "matting", "none": None}
#: Where a library's warning comes from, said in our words (first match on the warning's file path).
_WARNING_SOURCES = (
    ("pymatting", "edge matting (--refine matting)"),
    ("numba", "edge matting (--refine matting)"),
    ("onnxruntime", "segmentation model"),
    ("PIL", "image decoding"),
    ("cv2", "image processing"),
)


def _background(value: str):
    """A background option: transparent, blur, #rrggbb, a template name, or an image file."""
    from ..imaging.background import BACKGROUND_TEMPLATES

    if value in ("transparent", "blur") or value.startswith("#") or value in BACKGROUND_TEMPLATES:
        return value
    path = Path(value)
    if path.is_file():
        from ..imaging.codec import decode_image

        return decode_image(path.read_bytes(), mode="RGB")
    raise InvalidArgumentError(
        f"--background {value!r} is neither an image file nor known; use transparent, blur, #rrggbb, "
        f"or a template: {', '.join(BACKGROUND_TEMPLATES)}"
    )


def warning_line(warning: warnings.WarningMessage) -> str:
    """One line for a library's warning: which part of ours it concerns, and its first line."""
    origin = str(warning.filename)
    where = next((ours for marker, ours in _WARNING_SOURCES if marker in origin), "a library")
    text = " ".join(str(warning.message).split())
    if len(text) > 160:
        text = text[:157] + "..."
    return f"warning: {where}: {text}"


def remove_bg(
    inputs: Annotated[list[Path], typer.Argument(help="Image files or folders (png, jpg, jpeg, webp).")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Folder for DIR/<input name>.<format>; default: <name>.cutout.<format> beside "
                            "each input.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="png or webp (both keep alpha).")] = "png",
    refine: Annotated[str, typer.Option(help="Edge refinement: guided, matting or none.")] = "guided",
    method: Annotated[str, typer.Option(help="auto, u2netp, classical or onnx (with --model).")] = "auto",
    model: Annotated[Optional[Path], typer.Option(help="A user ONNX segmentation model.")] = None,
    background: Annotated[str, typer.Option(
        help="transparent, blur, #rrggbb, a template (white, studio-grey, ...) or an image file.")] = "transparent",
    shadow: Annotated[bool, typer.Option(help="Add a soft drop shadow.")] = False,
    workers: Annotated[int, typer.Option(help="Threads decoding ahead and encoding behind.", min=1)] = 1,
    model_batch: Annotated[int, typer.Option(help="Images per model call.", min=1)] = 1,
    dask: Annotated[Optional[str], typer.Option(
        "--dask", help="Run on a Dask cluster: the scheduler's address, e.g. tcp://127.0.0.1:8786.")] = None,
    json: JsonOption = False,
) -> None:
    """Remove the background of images; writes <name>.cutout.png beside each input (or DIR/<name>.png).

    Exit code 0 when every image was written; 6 when some failed and every failure was a bad input
    (corrupt, unreadable or missing image, an output that would overwrite an input); 5 when some failed
    otherwise. Each failure is reported on its own line.
    """
    from ..imaging.background import BATCH_FORMATS, METHODS, remove_background_batch

    if format not in BATCH_FORMATS:
        raise UnsupportedParameterError("--format", format, BATCH_FORMATS)
    if refine not in _REFINES:
        raise UnsupportedParameterError("--refine", refine, list(_REFINES))
    if method not in METHODS:
        raise UnsupportedParameterError("--method", method, METHODS)
    missing = [str(p) for p in inputs if not p.exists()]
    client = dask_client(dask) if dask else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            report = remove_background_batch(
                [p for p in inputs if p.exists()], out_dir=out, beside_inputs=out is None, format=format,
                progress=not json, background=_background(background), shadow=shadow or None,
                max_workers=workers, model_batch=model_batch, executor=client,
                method=method, refine=_REFINES[refine], model_path=str(model) if model else None,
            )
        finally:
            if client is not None:
                client.close()
    notes = list(dict.fromkeys(warning_line(w) for w in caught))
    rows = [{"input": i.source, "output": i.output, "ok": i.ok, "error": i.error, "bad_input": i.bad_input}
            for i in report]
    rows += [{"input": m, "output": None, "ok": False, "error": "no such file or folder", "bad_input": True}
             for m in missing]
    failed = [r for r in rows if not r["ok"]]
    if json:
        print_json({"items": rows, "succeeded": len(rows) - len(failed), "failed": len(failed),
                    "warnings": notes})
    else:
        for row in rows:
            if row["ok"]:
                print(f"ok      {row['input']} -> {row['output']}")
            else:
                print(f"failed  {row['input']}: {' '.join(str(row['error']).split())}", file=sys.stderr)
        print(f"{len(rows) - len(failed)} written, {len(failed)} failed")
    for note in notes:
        print(note, file=sys.stderr)
    if not rows:
        raise InvalidArgumentError("no input images found (png, jpg, jpeg, webp)")
    if failed:
        # Errors (not typer.Exit) so that main() maps them to their exit codes: with standalone_mode=False
        # click returns an Exit's code instead of raising it, and main() does not look at the return.
        summary = f"{len(failed)} of {len(rows)} images failed; see the lines above"
        if all(r["bad_input"] for r in failed):
            raise DataError(f"{summary} (bad inputs: fix or remove them and run again)")
        raise PartialResultError(f"{summary}; the others were written")


def register(app: typer.Typer) -> None:
    """Add ``remove-bg`` to the ``imagestudio`` command."""
    app.command("remove-bg")(remove_bg)
