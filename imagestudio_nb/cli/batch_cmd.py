"""``imagestudio batch``: the CLI face of :func:`imagestudio_nb.batch.generate_batch`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._dask import dask_client
from ._output import JsonOption, print_json, print_table


def batch_command(
    file: Annotated[Path, typer.Argument(help="Requests: a .jsonl file (one JSON object a line) or a .csv file.")],
    project: Annotated[str, typer.Option(help="Store results in this project (created if missing); a re-run "
                                              "skips the items it already holds.")],
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once.")] = 4,
    dask: Annotated[Optional[str], typer.Option(
        "--dask", metavar="SCHEDULER", help="Run the requests on this Dask cluster (e.g. tcp://host:8786), "
                                            "one rate limit per deployment for all its workers; results are "
                                            "stored here. Needs the [dask] extra.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Generate every request of FILE into a project, resumably; report each item."""
    from ..batch import generate_batch, read_requests, report_as_json
    from ..errors import ProjectNotFoundError
    from ..project import Project

    items = read_requests(file)
    client = dask_client(dask) if dask else None
    try:
        target = Project.open(project)
    except ProjectNotFoundError:
        target = Project.create(project)
        if not json_output:
            print(f"created project {project!r}")
    try:
        report = generate_batch(items, project=target, concurrency=concurrency, progress=not json_output,
                                executor=client)
    finally:
        if client is not None:
            client.close()
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
        # An error (not typer.Exit) so that main() prints one line and maps it to its documented code:
        # 6 when every failure was bad input, 5 when the service refused or failed some.
        from .. import errors

        summary = f"{len(report.failed)} of {len(report.items)} items failed; see the table above"
        bad_input = (errors.DataError, errors.InvalidArgumentError)  # a corrupt image, an unsupported size...
        if all(isinstance(getattr(errors, item.error_type or "", None), type)
               and issubclass(getattr(errors, item.error_type), bad_input) for item in report.failed):
            raise errors.DataError(f"{summary} (bad inputs: fix them and run the batch again; done items are kept)")
        raise errors.PartialResultError(f"{summary}; run the same command again to retry only those")


def register(app: typer.Typer) -> None:
    app.command("batch")(batch_command)
