"""The loopback Azure stand-in in a process of its own, as a real service is, with its log readable.

In the test's process the stand-in would stamp arrivals late whenever the test's own threads (storing a
batch's results into a project) hold the interpreter, and then count bunches the clients never sent.

Protocol on stdin, one command a line: ``arrivals`` prints ``{"arrivals": [...], "rate_limited": n}`` as one
JSON line (monotonic seconds of every image request); ``reset`` forgets the log; end of input stops it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class StandInService:
    """A stand-in in a child process allowing ``requests_per_second``; ``url`` once started."""

    def __init__(self, requests_per_second: float | None = None):
        self.requests_per_second = requests_per_second
        self.process: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> StandInService:
        command = [sys.executable, "-m", "tests.scale.standin_service"]
        if self.requests_per_second:
            command.append(str(self.requests_per_second))
        self.process = subprocess.Popen(command, cwd=ROOT, text=True, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError(f"the stand-in process did not start (said {self.url!r})")
        return self

    def _ask(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline()

    def arrivals(self) -> tuple[list[float], int]:
        """Arrival times of the image requests so far, and how many were answered 429."""
        data = json.loads(self._ask("arrivals"))
        return data["arrivals"], data["rate_limited"]

    def reset(self) -> None:
        self._ask("reset")

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def main() -> None:
    from tests.standin.server import AzureStandIn

    rate = float(sys.argv[1]) if len(sys.argv) > 1 else None
    standin = AzureStandIn(requests_per_second=rate).start()
    print(standin.url, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "arrivals":
            times = sorted(e.time for e in list(standin.log) if "/images/" in e.path)
            print(json.dumps({"arrivals": times, "rate_limited": standin.state.get("rate_limited", 0)}),
                  flush=True)
        elif command == "reset":
            standin.reset()
            standin.requests_per_second = rate
            print("{}", flush=True)
    standin.stop()


if __name__ == "__main__":
    main()
