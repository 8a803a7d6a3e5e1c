"""``imagestudio remove-bg IN... --out DIR``: background removal over files and folders.

Thin: it parses options and calls ``remove_background_batch``, the same function notebooks call.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ImageStudioError, InvalidArgumentError, UnsupportedParameterError
from ._output import JsonOption, print_json

_REFINES = {"guided": "guided", "matting": "matting", "none": None}


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


def remove_bg(
    inputs: Annotated[list[Path], typer.Argument(help="Image files or folders (png, jpg, jpeg, webp).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for DIR/<input name>.<format>.")],
    format: Annotated[str, typer.Option("--format", "-f", help="png or webp (both keep alpha).")] = "png",
    refine: Annotated[str, typer.Option(help="Edge refinement: guided, matting or none.")] = "guided",
    method: Annotated[str, typer.Option(help="auto, u2netp, classical or onnx (with --model).")] = "auto",
    model: Annotated[Optional[Path], typer.Option(help="A user ONNX segmentation model.")] = None,
    background: Annotated[str, typer.Option(
        help="transparent, blur, #rrggbb, a template (white, studio-grey, ...) or an image file.")] = "transparent",
    shadow: Annotated[bool, typer.Option(help="Add a soft drop shadow.")] = False,
    workers: Annotated[int, typer.Option(help="Parallel images.", min=1)] = 2,
    json: JsonOption = False,
) -> None:
    """Remove the background of images; writes DIR/<name>.png (or .webp) and reports failures per item."""
    from ..imaging.background import BATCH_FORMATS, METHODS, remove_background_batch

    if format not in BATCH_FORMATS:
        raise UnsupportedParameterError("--format", format, BATCH_FORMATS)
    if refine not in _REFINES:
        raise UnsupportedParameterError("--refine", refine, list(_REFINES))
    if method not in METHODS:
        raise UnsupportedParameterError("--method", method, METHODS)
    missing = [str(p) for p in inputs if not p.exists()]
    report = remove_background_batch(
        [p for p in inputs if p.exists()], out_dir=out, format=format, progress=not json,
        background=_background(background), shadow=shadow or None, max_workers=workers,
        method=method, refine=_REFINES[refine], model_path=str(model) if model else None,
    )
    rows = [{"input": i.source, "output": i.output, "ok": i.ok, "error": i.error} for i in report]
    rows += [{"input": m, "output": None, "ok": False, "error": "no such file or folder"} for m in missing]
    failed = [r for r in rows if not r["ok"]]
    if json:
        print_json({"items": rows, "succeeded": len(rows) - len(failed), "failed": len(failed)})
    else:
        for row in rows:
            if row["ok"]:
                print(f"ok      {row['input']} -> {row['output']}")
            else:
                print(f"failed  {row['input']}: {row['error']}", file=sys.stderr)
        print(f"{len(rows) - len(failed)} written, {len(failed)} failed")
    if not rows:
        raise InvalidArgumentError("no input images found (png, jpg, jpeg, webp)")
    if failed:
        # An error (not typer.Exit) so that main() maps it to exit code 1: with standalone_mode=False
        # click returns an Exit's code instead of raising it, and main() does not look at the return.
        raise ImageStudioError(f"{len(failed)} of {len(rows)} images failed; see the lines above")


def register(app: typer.Typer) -> None:
    """Add ``remove-bg`` to the ``imagestudio`` command."""
    app.command("remove-bg")(remove_bg)
