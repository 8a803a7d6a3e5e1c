"""Output helpers shared by the command modules: one-line errors, JSON for scripts, tables for people."""

from __future__ import annotations

import json
import sys
from pathlib import Path
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


_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "file": "FILE", "dir": "FOLDER"}


def tidy_help() -> None:
    """Make typer's help read like a person wrote it: no ``<bool>`` beside flags, ``TEXT`` rather than
    ``<str>``, and ``PROMPT`` rather than ``{prompt}`` in the usage line.

    typer 0.29 prints its internal type labels; this adjusts only how parameters are displayed, and does
    nothing on versions without those hooks (the CLI tests check the help text either way).
    """
    from typer import core

    option_display = getattr(core.TyperOption, "display_type_rich", None)
    argument_usage = getattr(core.TyperArgument, "_usage_display_name", None)
    if option_display is None or argument_usage is None or getattr(core, "_imagestudio_tidy", False):
        return

    def display(self, ctx):
        if getattr(self, "is_flag", False) or getattr(self, "is_bool_flag", False):
            return None
        shown = option_display(self, ctx)
        if isinstance(shown, str) and shown.startswith("<") and ">" in shown:
            label, rest = shown[1:].split(">", 1)
            return _TYPE_NAMES.get(label, label.upper()) + rest
        return shown

    def argument_display(self, ctx):
        shown = core._TyperParameter.display_type_rich(self, ctx)
        if self.metavar is not None:
            return None
        if isinstance(shown, str) and shown.startswith("<") and shown.endswith(">"):
            return _TYPE_NAMES.get(shown[1:-1], shown[1:-1].upper())
        return shown

    def usage(self):
        name = (self.metavar or self.name or "").upper() if self.metavar is None else self.metavar
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 and self.metavar is None else "")

    core.TyperOption.display_type_rich = display
    core.TyperArgument.display_type_rich = argument_display
    core.TyperArgument._usage_display_name = usage
    core._imagestudio_tidy = True


def library_warnings_as_notes() -> None:
    """Show warnings raised inside libraries (pymatting, numba, onnxruntime...) as one line of ours on stderr,
    saying which library and that nothing needs doing, instead of a file path and a source line."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        parts = Path(filename).parts
        library = next((parts[i + 1] for i, part in enumerate(parts[:-1]) if part in ("site-packages", "dist-packages")),
                       None)
        text = " ".join(str(message).split())
        if library in (None, "imagestudio_nb"):
            print(f"warning: {text}", file=sys.stderr)
        else:
            print(f"note: the {library.split('.')[0]} library reports: {text} (harmless; nothing to do)", file=sys.stderr)

    warnings.showwarning = show
