"""``imagestudio audit PROJECT``: the CLI face of :func:`imagestudio_nb.audit.audit`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ._output import JsonOption, print_json, print_table


def audit_command(
    project: Annotated[str, typer.Argument(help="The project's name or folder.")],
    since: Annotated[Optional[str], typer.Option(help="From this time on (ISO, e.g. 2026-12-01).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Who changed what and when in PROJECT, from its update log."""
    from ..audit import audit_entries

    entries = audit_entries(project, since=since)
    if json_output:
        print_json({"project": project, "entries": [vars(e) for e in entries]})
        return
    print_table([vars(e) for e in entries], ["seq", "time", "user", "origin", "action"], title=f"audit {project}")


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
