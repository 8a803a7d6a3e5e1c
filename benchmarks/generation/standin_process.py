"""Run the loopback Azure stand-in in a process of its own, as a service would be, for the benchmarks.

In the benchmark's own process the stand-in would compete with the client for the GIL, so its arrival times
(and its rate limit) would measure the client's thread scheduling rather than the wire.

Usage from a benchmark::

    with StandInProcess(requests_per_second=10, image_side=64) as url:
        ...

Run directly it prints the URL and serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class StandInProcess:
    """A stand-in server in a child process; the context value is its base URL."""

    def __init__(self, *, requests_per_second: float | None = None, image_side: int = 64):
        self.arguments = ["--image-side", str(image_side)]
        if requests_per_second:
            self.arguments += ["--requests-per-second", str(requests_per_second)]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen([sys.executable, __file__, *self.arguments], cwd=ROOT, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        url = self.process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the stand-in process did not start (said {url!r})")
        return url

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.standin.server import AzureStandIn

    parser = argparse.ArgumentParser()
    parser.add_argument("--requests-per-second", type=float, default=None)
    parser.add_argument("--image-side", type=int, default=64)
    args = parser.parse_args()
    standin = AzureStandIn(requests_per_second=args.requests_per_second).start()
    standin.state["image_side"] = args.image_side
    print(standin.url, flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
    standin.stop()


if __name__ == "__main__":
    main()
