"""Output helpers shared by the command modules: one-line errors, JSON for scripts, tables for people."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from ..errors import ImageStudioError

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def print_error(exc: ImageStudioError) -> None:
    """Print an error as one line on stderr, prefixed with its type."""
    message = " ".join(str(exc).split())
    print(f"error ({type(exc).__name__}): {message}", file=sys.stderr)


def print_json(data: Any) -> None:
    """Print ``data`` as JSON (sorted keys) on stdout."""
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def print_table(rows: list[dict[str, Any]], columns: list[str], *, title: str | None = None) -> None:
    """Print rows as a rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    Console().print(table)
