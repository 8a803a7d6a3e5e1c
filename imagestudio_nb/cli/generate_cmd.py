"""``imagestudio generate``: the CLI face of :func:`imagestudio_nb.generate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._output import JsonOption, print_json

#: Where `imagestudio generate` stores results when no --project is given, so nothing generated is lost.
DEFAULT_PROJECT = "Default"


def _project_for(name: str | None) -> tuple[object, bool]:
    """The project to store in (``DEFAULT_PROJECT`` without a name) and whether it was created now."""
    from ..errors import ProjectNotFoundError
    from ..project import Project

    name = name or DEFAULT_PROJECT
    try:
        return Project.open(name), False
    except ProjectNotFoundError:
        return Project.create(name), True


def generate_command(
    prompt: Annotated[str, typer.Argument(help="What to draw.")],
    model: Annotated[Optional[str], typer.Option(help="Model or deployment; 'local' works offline.")] = None,
    size: Annotated[Optional[str], typer.Option(help="WIDTHxHEIGHT, one of the model's sizes.")] = None,
    n: Annotated[int, typer.Option("--n", "-n", help="Number of images.")] = 1,
    seed: Annotated[Optional[int], typer.Option(help="Seed, for models that take one.")] = None,
    project: Annotated[Optional[str], typer.Option(
        help=f"Store results and provenance in this project (created when new; default: {DEFAULT_PROJECT!r}).")] = None,
    quality: Annotated[Optional[str], typer.Option(help="Model quality, e.g. low|medium|high|auto.")] = None,
    background: Annotated[Optional[str], typer.Option(help="transparent|opaque|auto.")] = None,
    output_format: Annotated[Optional[str], typer.Option("--format", help="png|jpeg|webp.")] = None,
    style: Annotated[Optional[str], typer.Option(help="vivid|natural (dall-e-3).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Also write the images into this folder.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Generate images from a prompt (offline with --model local)."""
    from ..generation import generate

    store, created = _project_for(project)
    if created and not json_output:
        print(f"created project {store.name!r} in {store.path}")
    results = generate(prompt, model=model, size=size, n=n, seed=seed, project=store, quality=quality,
                       background=background, output_format=output_format, style=style, progress=not json_output)
    written = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            extension = result.mime.split("/")[1].replace("jpeg", "jpg")
            path = out / f"{result.asset[:16]}.{extension}"
            result.save(path)
            written.append(str(path))
    summary = {"generation": results.record["id"], "model": results.record["model"], "project": store.name,
               "project_path": str(store.path), "created_project": created,
               "assets": [r.asset for r in results], "seeds": [r.seed for r in results], "files": written}
    if json_output:
        print_json(summary)
        return
    for result in results:
        h, w = result.image.shape[:2]
        print(f"{result.asset}  {w}x{h}  seed={result.seed}")
    print(f"stored in project {store.name!r} ({store.path}) as generation {results.record['id']}; "
          f"see it with `imagestudio project show {_quoted(store.name)}`")
    for path in written:
        print(f"wrote {path}")


def _quoted(name: str) -> str:
    import shlex

    return shlex.quote(name)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
