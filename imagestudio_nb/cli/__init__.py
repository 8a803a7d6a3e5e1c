"""The ``imagestudio`` command: thin, it calls the same public functions notebooks call.

Each command group lives in its own module with a ``register(app)`` function, listed in
``COMMAND_MODULES``. Errors of the toolkit are printed as one line and mapped to exit codes.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from ..errors import ImageStudioError
from ._output import library_warnings_as_notes, tidy_help

#: Modules under ``imagestudio_nb.cli`` that add commands; each defines ``register(app)``.
COMMAND_MODULES = [
    "generate_cmd",
    "project_cmd",
    "layer_cmd",
    "team_cmd",
    "assets_cmd",
    "config_cmd",
    "remove_bg_cmd",
    "sync_cmd",
    "gallery_cmd",
    "filter_cmd",
    "enhance_cmd",
    "batch_cmd",
    "usage_cmd",
    "audit_cmd",
    "lab_cmd",
]

app = typer.Typer(
    name="imagestudio",
    help="Image Studio for Jupyter: generate, edit and manage images and projects from the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"imagestudio {version('imagestudio_nb')}")
        except PackageNotFoundError:  # running from a source tree that was never installed
            print("imagestudio (not installed: run `make install`)")
        raise typer.Exit(0)


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.",
                                                    callback=_version, is_eager=True)] = False) -> None:
    """Image Studio for Jupyter: generate, edit and manage images and projects from the terminal."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(app)
tidy_help()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return (and exit with) the documented exit code."""
    library_warnings_as_notes()
    try:
        # Without standalone mode click returns (rather than raises) the code of typer.Exit(n).
        result = app(args=argv, standalone_mode=False)
    except ImageStudioError as exc:
        from ._output import print_error

        print_error(exc)
        code = exc.exit_code
    except typer.Abort:
        print("Aborted.", file=sys.stderr)
        code = 1
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.TyperException as exc:  # usage errors (typer's bundled click) carry their own codes
        if not hasattr(exc, "show"):
            raise
        exc.show()
        code = getattr(exc, "exit_code", 2)
    else:
        code = result if isinstance(result, int) and not isinstance(result, bool) else 0
    if argv is None:
        sys.exit(code)
    return code
