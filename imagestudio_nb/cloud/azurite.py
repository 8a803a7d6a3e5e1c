"""Start and stop Azurite, the local Azure Blob Storage emulator, for tests, notebooks and benchmarks.

It binds 127.0.0.1 only and uses the emulator's published development account; it must never be
pointed at a real storage account or reach anything beyond the loopback interface.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from ..errors import CloudError

#: Azurite's published development account (documented by Microsoft; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

INSTALL_HINT = ("Azurite is not installed: run `make test` or `scripts/install-system-deps.sh` "
                "(it installs a pinned azurite into .tools/azurite), or `npm install -g azurite`")

_LISTENING = re.compile(r"listens on https?://[^:\s]+:(\d+)")


def find_azurite() -> Path:
    """The ``azurite-blob`` program: ``$IMAGESTUDIO_AZURITE``, ``.tools/azurite`` of this checkout, or PATH.

    Raises
    ------
    CloudError
        Naming the install step, when it cannot be found.
    """
    explicit = os.environ.get("IMAGESTUDIO_AZURITE")
    if explicit:
        return Path(explicit)
    relative = Path(".tools/azurite/node_modules/.bin/azurite-blob")
    roots = [Path(__file__).resolve().parents[2], *Path.cwd().resolve().parents, Path.cwd().resolve()]
    for root in roots:
        if (root / relative).is_file():
            return root / relative
    found = shutil.which("azurite-blob")
    if found:
        return Path(found)
    raise CloudError(INSTALL_HINT)


class AzuriteServer:
    """A running Azurite blob service on 127.0.0.1. Use :func:`start_azurite` to get one.

    ``stop(kill=True)`` ends it abruptly (as a crash would) and ``start()`` brings it back on the same
    port and data folder, so that tests can interrupt a sync half-way.
    """

    def __init__(self, location: Path, *, port: int = 0, in_memory: bool = False, owns_location: bool = False):
        self.location = Path(location)
        self.port = port
        self.in_memory = in_memory
        self._owns_location = owns_location
        self._process: subprocess.Popen | None = None
        self._output: list[str] = []

    @property
    def blob_endpoint(self) -> str:
        """The blob service URL of the development account."""
        return f"http://127.0.0.1:{self.port}/{DEV_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        """A connection string for the development account on this server."""
        return (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
                f"BlobEndpoint={self.blob_endpoint};")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, *, timeout: float = 60.0) -> AzuriteServer:
        """Start the server (again, on the same port and folder if it ran before) and wait until it listens."""
        if self.running:
            return self
        command = [str(find_azurite()), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                   "--skipApiVersionCheck", "--disableTelemetry", "--silent", "--location", str(self.location)]
        if self.in_memory:
            command.append("--inMemoryPersistence")
        self.location.mkdir(parents=True, exist_ok=True)
        self._output = []
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        found = threading.Event()

        def read() -> None:
            # Keep draining the output for the process's life so that a full pipe never blocks it.
            assert self._process is not None and self._process.stdout is not None
            for line in self._process.stdout:
                self._output.append(line.rstrip())
                match = _LISTENING.search(line)
                if match:
                    self.port = int(match.group(1))
                    found.set()
            found.set()

        threading.Thread(target=read, name="azurite-output", daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.05):
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise CloudError(f"Azurite did not start within {timeout:.0f} s: {' | '.join(self._output[-5:])}")
        if not self.running or not self.port:
            raise CloudError(f"Azurite stopped at start: {' | '.join(self._output[-5:]) or 'no output'}")
        return self

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: gracefully, or with ``kill=True`` at once (SIGKILL), as a crash would."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        """Stop the server and delete its data folder if this object made it."""
        self.stop()
        if self._owns_location:
            shutil.rmtree(self.location, ignore_errors=True)

    def __enter__(self) -> AzuriteServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"AzuriteServer({self.blob_endpoint!r}, {state})"


def start_azurite(location: str | Path | None = None, *, port: int = 0, in_memory: bool = False,
                  timeout: float = 60.0) -> AzuriteServer:
    """Start Azurite's blob service on 127.0.0.1 and return it once it listens.

    Parameters
    ----------
    location : path, optional
        Data folder; a temporary one (deleted by ``close()``) when omitted.
    port : int
        0 lets the system choose a free port (read back from Azurite's output).
    in_memory : bool
        Keep data in memory only.

    Returns
    -------
    AzuriteServer
        With ``connection_string``, ``port``, ``stop()``, ``start()`` and ``close()``; it is also a
        context manager, and is stopped when Python exits.

    Raises
    ------
    CloudError
        When Azurite is not installed (naming the install step) or does not start.
    """
    owns = location is None
    folder = Path(tempfile.mkdtemp(prefix="azurite-")) if owns else Path(location)
    server = AzuriteServer(folder, port=port, in_memory=in_memory, owns_location=owns)
    try:
        server.start(timeout=timeout)
    except BaseException:
        server.close()
        raise
    atexit.register(server.close)
    return server
