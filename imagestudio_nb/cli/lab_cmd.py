"""``imagestudio lab``: JupyterLab with real-time collaboration and the package's server settings.

It builds a ``jupyter lab`` command line (DESIGN.md D2, D6) and replaces this process with it; it never
edits the user's Jupyter configuration files, so a plain ``jupyter lab`` keeps the stock behaviour.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ConfigError, InvalidArgumentError

#: Server extensions turned on whatever the configuration files say, and what each one is for.
SERVER_EXTENSIONS = {
    "jupyter_server_ydoc": "real-time collaboration (jupyter-collaboration's rooms)",
    "imagestudio_nb.widgets.server": "websockets without Nagle's delay (TCP_NODELAY)",
    "imagestudio_nb.collab.enforce": "project roles enforced in .isproj rooms",
}

#: jupyter-collaboration settings (``YDocExtension``) that ``imagestudio lab`` sets (the store: ``ystore_path``).
COLLABORATION_SETTINGS = {
    # The room writes project.isproj from the server's event loop, after this many seconds without a
    # change (each change restarts the wait). The update log is the truth (D1), so the file can wait for
    # a quiet spell: saving a large project's JSON after every burst stalls every client in the room.
    "YDocExtension.document_save_delay": 2.0,
}
# Store compaction is left off on purpose. The room's store (SQLiteYStore) repeats what a project's log
# keeps (the log compacts itself, D1), and its own squashing (``squash_after_inactivity_of``) empties a
# document's history in pycrdt-store 0.1.5: it replays the old updates only when a decompressor is set, then
# deletes them (benchmarks/collab/check_ystore_squash.py shows it). Turn it on when that check passes.

#: The modules the ``lab`` extra installs: (module, distribution to name in the error).
REQUIRED_MODULES = (("jupyterlab", "jupyterlab"), ("jupyter_server_ydoc", "jupyter-collaboration"),
                    ("jupyter_collaboration", "jupyter-collaboration"))


def require_lab_extra() -> None:
    """Raise :class:`~imagestudio_nb.errors.ConfigError` naming the install step when JupyterLab or
    jupyter-collaboration is missing from this environment.

    >>> require_lab_extra()  # the test environment has the `lab` extra
    """
    missing = sorted({dist for module, dist in REQUIRED_MODULES if importlib.util.find_spec(module) is None})
    if missing:
        raise ConfigError(f"imagestudio lab needs {' and '.join(missing)}, which this Python ({sys.executable}) "
                          "does not have: install the `lab` extra with "
                          f"`{sys.executable} -m pip install 'imagestudio_nb[lab]'` (or run `make lab`)")


def ystore_path(root: Path) -> Path:
    """Where the room store's database lives: beside jupyter-collaboration's session file in ``root``."""
    return Path(root) / ".jupyter" / "imagestudio_ystore.db"


def lab_command(path: str | Path | None = None, *, root: str | Path | None = None, ip: str = "127.0.0.1",
                port: int = 8888, open_browser: bool = True, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``jupyter lab`` command line ``imagestudio lab`` runs, as a list of arguments.

    ``path`` is a folder to serve, or a file (a notebook, a ``project.isproj``) to open; the server's root
    is ``root``, else the folder itself, else the current folder (which must then hold the file).
    ``extra`` arguments go to ``jupyter lab`` last, so they override these settings.

    >>> argv = lab_command("/tmp", port=9999, open_browser=False)
    >>> "--ServerApp.ip=127.0.0.1" in argv and "--ServerApp.root_dir=/tmp" in argv
    True
    >>> "imagestudio_nb.widgets.server=True" in argv
    True
    """
    base, opened = _root_and_file(path, root)
    if not 0 <= port <= 65535:
        raise InvalidArgumentError(f"--port {port} is not a TCP port (0-65535; 0 picks a free one)")
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.ip={ip}", f"--ServerApp.port={port}",
            f"--ServerApp.root_dir={base}", f"--ServerApp.open_browser={open_browser}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers run as root; Jupyter refuses without this
        argv.append("--ServerApp.allow_root=True")
    return [*argv, *server_settings(base), *extra, *([opened] if opened else [])]


def server_settings(root: str | Path) -> list[str]:
    """The ``jupyter lab`` options that make a server the package's: its extensions and collaboration settings.

    (Benchmarks start a server with these and one without, side by side.)

    >>> server_settings("/srv")[-1]
    '--SQLiteYStore.db_path=/srv/.jupyter/imagestudio_ystore.db'
    """
    argv: list[str] = []
    for extension in SERVER_EXTENSIONS:
        argv += ["--ServerApp.jpserver_extensions", f"{extension}=True"]
    argv += [f"--{name}={value}" for name, value in COLLABORATION_SETTINGS.items()]
    return [*argv, f"--SQLiteYStore.db_path={ystore_path(Path(root))}"]


def _root_and_file(path: str | Path | None, root: str | Path | None) -> tuple[Path, str | None]:
    """The server's root folder and the file to open in it (relative), if any."""
    target = Path(path).expanduser().resolve() if path is not None else None
    if target is not None and not target.exists():
        raise InvalidArgumentError(f"{path} does not exist: give a folder to serve or a file to open")
    if root is not None:
        base = Path(root).expanduser().resolve()
        if not base.is_dir():
            raise InvalidArgumentError(f"--root {root} is not a folder")
    else:
        base = target if target is not None and target.is_dir() else Path.cwd().resolve()
    if target is None or target == base:
        return base, None
    if not target.is_relative_to(base):
        raise InvalidArgumentError(f"{target} is outside the server's root {base}: pass --root with a folder "
                                   "that holds it")
    return base, str(target.relative_to(base))


def lab(ctx: typer.Context,
        path: Annotated[Optional[Path], typer.Argument(help="A folder to serve, or a notebook or project.isproj "
                                                            "to open (default: the current folder).")] = None,
        root: Annotated[Optional[Path], typer.Option(help="The server's root folder (default: PATH if it is a "
                                                          "folder, else the current folder).")] = None,
        ip: Annotated[str, typer.Option(help="Address to listen on; anything but loopback exposes the server "
                                             "to the network.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8888,
        browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a web browser.")] = True,
        print_only: Annotated[bool, typer.Option("--print", help="Print the jupyter lab command, do not run it.")]
        = False):
    """Start JupyterLab with real-time collaboration, TCP_NODELAY websockets, project roles enforced,
    and the rooms' save delay, on 127.0.0.1. Other options (e.g. --IdentityProvider.token=...)
    go to jupyter lab unchanged."""
    require_lab_extra()
    argv = lab_command(path, root=root, ip=ip, port=port, open_browser=browser, extra=list(ctx.args))
    if print_only:  # a token given on the command line stays out of what is printed
        print(" ".join(re.sub(r"(?i)(token=).+", r"\1***", arg) for arg in argv))
        return
    settings = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in COLLABORATION_SETTINGS.items())
    print(f"imagestudio lab: {'; '.join(SERVER_EXTENSIONS.values())}; {settings}", file=sys.stderr, flush=True)
    ystore_path(_root_and_file(path, root)[0]).parent.mkdir(parents=True, exist_ok=True)
    os.execv(sys.executable, argv)  # Jupyter takes this process over: Ctrl-C and signals reach it directly


def register(app: typer.Typer) -> None:
    app.command("lab", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(lab)
