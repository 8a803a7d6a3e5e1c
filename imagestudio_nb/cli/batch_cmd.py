"""``imagestudio batch``: the CLI face of :func:`imagestudio_nb.batch.generate_batch`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._output import JsonOption, print_json, print_table


def batch_command(
    file: Annotated[Path, typer.Argument(help="Requests: a .jsonl file (one JSON object a line) or a .csv file.")],
    project: Annotated[str, typer.Option(help="Store results in this project (created if missing); a re-run "
                                              "skips the items it already holds.")],
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once.")] = 4,
    json_output: JsonOption = False,
) -> None:
    """Generate every request of FILE into a project, resumably; report each item."""
    from ..batch import generate_batch, read_requests, report_as_json
    from ..errors import ProjectNotFoundError
    from ..project import Project

    items = read_requests(file)
    try:
        target = Project.open(project)
    except ProjectNotFoundError:
        target = Project.create(project)
        if not json_output:
            print(f"created project {project!r}")
    report = generate_batch(items, project=target, concurrency=concurrency, progress=not json_output)
    if json_output:
        print_json(report_as_json(report))
    else:
        rows = [{**row, "prompt": row["prompt"][:40], "assets": len(row["assets"]),
                 "error": (row["error"] or "")[:80]} for row in report.as_dicts()]
        print_table(rows, ["index", "status", "prompt", "model", "assets", "error"], title=str(file))
        summary = report.summary()
        print(f"{summary['ok']} ok, {summary['skipped']} skipped, {summary['partial']} partial, "
              f"{summary['failed']} failed in {summary['seconds']} s")
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch_command)
