"""``imagestudio filter IN OUT --chain ...`` (a file or a folder), ``filter list``, and ``preset ...``.

Thin: it resolves the chain (a preset name, JSON text or a .json file), then calls ``apply_chain``
and the preset functions, the same ones notebooks call. Outputs are written atomically.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from ..errors import ImageStudioError, InvalidArgumentError, NotFoundError, UnsupportedParameterError
from ..project.files import write_atomic
from ._output import JsonOption, print_json, print_table

IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
OUTPUT_FORMATS = ("png", "jpeg", "webp")
_SUFFIX_OF = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
_MAX_CHAIN_FILE = 256 * 1024

PresetsDir = Annotated[
    Optional[Path],
    typer.Option(
        "--presets-dir",
        envvar="IMAGESTUDIO_PRESETS_DIR",
        help="Folder of user presets (default: <user config>/imagestudio/presets).",
    ),
]


class _DefaultApplyGroup(TyperGroup):
    """``filter IN OUT`` means ``filter apply IN OUT``: anything that is not a subcommand goes to apply."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["apply", *args]
        return super().parse_args(ctx, args)


filter_app = typer.Typer(
    cls=_DefaultApplyGroup,
    no_args_is_help=True,
    add_completion=False,
    help="Apply filter chains and presets to images; list the filters.",
)
preset_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="List, show, save, export and import filter presets."
)


def resolve_chain(value: str, presets_dir: Path | None = None) -> list[dict[str, Any]]:
    """A ``--chain`` value as a validated chain: JSON text, a .json file (chain or preset), a preset name."""
    from ..imaging.chains import validate_chain
    from ..imaging.presets import get_preset, list_presets

    text = value.strip()
    if text.startswith(("[", "{")):
        return validate_chain(text)
    path = Path(value)
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise NotFoundError(f"--chain file {value!r} does not exist")
        if path.stat().st_size > _MAX_CHAIN_FILE:
            raise InvalidArgumentError(
                f"--chain file {value!r} is over {_MAX_CHAIN_FILE // 1024} KB; not a chain"
            )
        return validate_chain(path.read_text(encoding="utf-8"))
    try:
        return get_preset(value, presets_dir)["chain"]
    except NotFoundError:
        names = ", ".join(p["name"] for p in list_presets(presets_dir))
        raise NotFoundError(
            f"--chain {value!r} is not a preset, JSON text or a .json file; presets: {names}"
        ) from None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)  # whole or not at all, with the permissions the user's umask gives


def _format_for(path: Path, override: str | None) -> str:
    if override:
        return override
    fmt = IMAGE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedParameterError("output suffix", path.suffix or "(none)", sorted(IMAGE_SUFFIXES))
    return fmt


def _filter_one(source: Path, target: Path, chain: list, fmt: str, quality: int) -> None:
    from ..imaging.chains import apply_chain
    from ..imaging.codec import decode_image, encode_image

    image = decode_image(source.read_bytes())
    _write_atomic(target, encode_image(apply_chain(image, chain), fmt, quality=quality))


def _folder_jobs(src: Path, dst: Path, recursive: bool, fmt: str | None) -> list[tuple[Path, Path]]:
    found = src.rglob("*") if recursive else src.iterdir()
    jobs = []
    for path in sorted(found):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            rel = path.relative_to(src)
            jobs.append((path, dst / (rel.with_suffix(_SUFFIX_OF[fmt]) if fmt else rel)))
    return jobs


@filter_app.command("apply")
def apply(
    input: Annotated[
        Path, typer.Argument(help="An image file, or a folder of images (png, jpg, jpeg, webp).")
    ],
    output: Annotated[
        Path, typer.Argument(help="The output file (its suffix picks the format), or a folder.")
    ],
    chain: Annotated[
        str, typer.Option("--chain", "-c", help="A preset name, a JSON chain, or a .json file.")
    ],
    format: Annotated[
        Optional[str],
        typer.Option(
            "--format",
            "-f",
            help="png, jpeg or webp for folder output (default: each file keeps its format).",
        ),
    ] = None,
    quality: Annotated[int, typer.Option(help="JPEG/WebP quality.", min=1, max=100)] = 90,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Include sub-folders.")] = False,
    workers: Annotated[int, typer.Option(help="Images filtered in parallel.", min=1)] = 2,
    presets_dir: PresetsDir = None,
    json: JsonOption = False,
) -> None:
    """Apply a filter chain to an image, or to every image of a folder (with progress)."""
    if format is not None and format not in OUTPUT_FORMATS:
        raise UnsupportedParameterError("--format", format, OUTPUT_FORMATS)
    steps = resolve_chain(chain, presets_dir)
    if not input.exists():
        raise NotFoundError(f"input {str(input)!r} does not exist")
    if input.is_file():
        target = output / input.name if output.is_dir() else output
        if format and not output.is_dir():
            raise InvalidArgumentError("--format applies to folder output; a file's suffix sets its format")
        _filter_one(input, target, steps, _format_for(target, format), quality)
        if json:
            print_json(
                {
                    "items": [{"input": str(input), "output": str(target), "ok": True, "error": None}],
                    "succeeded": 1,
                    "failed": 0,
                }
            )
        else:
            print(f"ok      {input} -> {target}")
        return
    jobs = _folder_jobs(input, output, recursive, format)
    if not jobs:
        raise InvalidArgumentError(f"no images (png, jpg, jpeg, webp) in folder {str(input)!r}")
    rows = _run_batch(jobs, steps, format, quality, workers, progress=not json)
    failed = [r for r in rows if not r["ok"]]
    if json:
        print_json({"items": rows, "succeeded": len(rows) - len(failed), "failed": len(failed)})
    else:
        for row in failed:
            print(f"failed  {row['input']}: {row['error']}", file=sys.stderr)
        print(f"{len(rows) - len(failed)} written, {len(failed)} failed")
    if failed:
        raise ImageStudioError(f"{len(failed)} of {len(rows)} images failed; see the lines above")


def _run_batch(jobs, steps, fmt, quality, workers, *, progress: bool) -> list[dict[str, Any]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    def work(job):
        source, target = job
        try:
            _filter_one(source, target, steps, _format_for(target, fmt), quality)
            return {"input": str(source), "output": str(target), "ok": True, "error": None}
        except ImageStudioError as exc:
            return {"input": str(source), "output": None, "ok": False, "error": str(exc)}
        except OSError as exc:
            return {
                "input": str(source),
                "output": None,
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
            }

    rows = []
    columns = (TextColumn("filtering"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        Progress(*columns, disable=not progress, transient=False) as bar,
        ThreadPoolExecutor(workers) as pool,
    ):
        task = bar.add_task("filter", total=len(jobs))
        for row in pool.map(work, jobs):
            rows.append(row)
            bar.advance(task)
    return rows


@filter_app.command("list")
def list_cmd(
    category: Annotated[Optional[str], typer.Option(help="Only this category.")] = None,
    json: JsonOption = False,
) -> None:
    """List the filters, their categories and parameters (with ranges and defaults)."""
    from ..imaging.filters import list_filters

    schemas = list_filters(category)
    if json:
        print_json(schemas)
        return
    rows = []
    for s in schemas:
        params = []
        for p in s["params"]:
            rng = f" {p['min']:g}..{p['max']:g}" if p["type"] in ("float", "int") else f" ({p['type']})"
            params.append(f"{p['name']}={p['default']!r}{rng}{' ' + p['unit'] if p['unit'] else ''}")
        rows.append({"filter": s["name"], "category": s["category"], "parameters": "; ".join(params)})
    print_table(rows, ["filter", "category", "parameters"], title="Filters")


@preset_app.command("list")
def preset_list(presets_dir: PresetsDir = None, json: JsonOption = False) -> None:
    """List built-in and user presets."""
    from ..imaging.presets import list_presets

    presets = list_presets(presets_dir)
    if json:
        print_json(presets)
    else:
        print_table(presets, ["name", "source", "steps", "description"], title="Presets")


@preset_app.command("show")
def preset_show(
    name: Annotated[str, typer.Argument(help="Preset name (case-insensitive).")],
    presets_dir: PresetsDir = None,
) -> None:
    """Print a preset as JSON (its chain can be passed to ``filter --chain``)."""
    from ..imaging.presets import get_preset

    preset = get_preset(name, presets_dir)
    print_json({k: preset[k] for k in ("name", "description", "source", "chain")})


@preset_app.command("save")
def preset_save(
    name: Annotated[str, typer.Argument(help="Name of the new user preset.")],
    chain: Annotated[str, typer.Option("--chain", "-c", help="A preset name, JSON chain or .json file.")],
    description: Annotated[str, typer.Option(help="One line saying what it does.")] = "",
    overwrite: Annotated[bool, typer.Option(help="Replace a user preset of that name.")] = False,
    presets_dir: PresetsDir = None,
) -> None:
    """Save a chain as a user preset."""
    from ..imaging.presets import save_preset

    path = save_preset(
        name,
        resolve_chain(chain, presets_dir),
        description=description,
        user_dir=presets_dir,
        overwrite=overwrite,
    )
    print(f"saved preset {name!r} to {path}")


@preset_app.command("export")
def preset_export(
    name: Annotated[str, typer.Argument(help="Preset to export.")],
    path: Annotated[Path, typer.Argument(help="JSON file to write.")],
    presets_dir: PresetsDir = None,
) -> None:
    """Write a preset (built-in or user) to a JSON file."""
    from ..imaging.presets import export_preset

    print(f"exported {name!r} to {export_preset(name, path, user_dir=presets_dir)}")


@preset_app.command("import")
def preset_import(
    path: Annotated[Path, typer.Argument(help="Preset JSON file to import.")],
    name: Annotated[Optional[str], typer.Option(help="Save under this name instead.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a user preset of that name.")] = False,
    presets_dir: PresetsDir = None,
) -> None:
    """Validate a preset JSON file and add it to the user presets."""
    from ..imaging.presets import import_preset

    preset = import_preset(path, user_dir=presets_dir, name=name, overwrite=overwrite)
    print(f"imported preset {preset['name']!r} ({len(preset['chain'])} steps)")


@preset_app.command("delete")
def preset_delete(
    name: Annotated[str, typer.Argument(help="User preset to delete.")], presets_dir: PresetsDir = None
) -> None:
    """Delete a user preset."""
    from ..imaging.presets import delete_preset

    delete_preset(name, presets_dir)
    print(f"deleted preset {name!r}")


def register(app: typer.Typer) -> None:
    """Add ``filter`` and ``preset`` to the ``imagestudio`` command."""
    app.add_typer(filter_app, name="filter")
    app.add_typer(preset_app, name="preset")
