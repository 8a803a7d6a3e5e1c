"""Batch throughput against a stand-in that allows 10 requests a second, on a machine loaded on purpose.

Run: ``.venv/bin/python benchmarks/generation/bench_batch_throughput.py [--requests 100] [--repeats 5] [--busy 2]``

The stand-in (in a process of its own, see ``standin_process.py``) answers 429 (with ``Retry-After`` and
``retry-after-ms``) beyond 10 requests in any one-second window. ``--busy N`` starts N processes that spin
for the whole run (the artificial load). ``generate_batch`` runs ``--requests`` generations with concurrency 8
into a project, once per mode and repeat, the modes interleaved:

- ``adaptive@10``: this package's limiter told the service's true rate (10/s); its margin follows the
  lateness it observes and any 429 (``providers/pacing.py``);
- ``previous@9.5``: the reference, the limiter before that change (a token bucket with a fixed rate, copied
  below), at 9.5/s, the 5% margin it needed;
- ``previous@10``: the same at the true rate;
- ``429-driven``: no rate configured: only the 429s and their Retry-After slow the batch down;
- ``capacity`` (a reference, not a limiter): no limit anywhere, the stand-in unlimited: what the loaded machine
  sustains, so that a throughput below 10/s can be told apart from a limiter's doing.

Printed per mode: requests per second (requests / wall time, median over repeats), its ratio to the allowed
10/s (target: at least 0.9), the requests wasted on a 429 (median and worst; target: 0 in every run) and in how
many runs any was wasted; counted from the attempts each provenance record lists. The load average is printed
at the start and after every run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from imagestudio_nb.batch import generate_batch  # noqa: E402
from imagestudio_nb.config import Deployment, Endpoint, Settings  # noqa: E402
from imagestudio_nb.project import Project  # noqa: E402
from imagestudio_nb.providers import limiter as limiter_module  # noqa: E402
from imagestudio_nb.providers.limiter import limiter_key, reset_limiters, set_rate_limit  # noqa: E402
from imagestudio_nb.providers.registry import clear_cache  # noqa: E402
from standin_process import StandInProcess  # noqa: E402
from tests.standin.server import API_KEY  # noqa: E402

ALLOWED = 10.0
DEPLOYMENT = "gpt-image-1"


class PreviousLimiter:
    """The reference: the limiter as it was before the adaptive margin (a token bucket at a fixed rate whose
    waiting callers recompute from the actual time they wake; a pause holds everyone), copied verbatim in
    behaviour, without the rate learning, which no configured mode uses."""

    def __init__(self, key: str, rate: float):
        self.key, self.rate, self.burst = key, rate, 1
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._tokens, self._stamp = 1.0, time.monotonic()
        self.stats = {"acquired": 0, "pauses": 0, "waited_s": 0.0}
        self.margin = float("nan")  # it had none

    def accepted(self) -> None:
        pass

    def acquire(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                delay = self._paused_until - now
                if delay <= 0:
                    elapsed = max(0.0, now - self._stamp)
                    self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
                    self._stamp = max(self._stamp, now)
                    if self._tokens >= 1.0 - 1e-9:
                        self._tokens = max(0.0, self._tokens - 1.0)
                        self.stats["acquired"] += 1
                        return waited
                    delay = (1.0 - self._tokens) / self.rate
            time.sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        with self._lock:
            now = time.monotonic()
            self._paused_until = max(self._paused_until, now + max(0.0, seconds))
            self.stats["pauses"] += 1
            self._tokens = min(self._tokens, 1.0)
            self._stamp = max(self._stamp, self._paused_until)


def spin() -> None:
    while True:
        pass


def run(requests: int, mode: str) -> tuple[float, int, float]:
    reset_limiters()
    clear_cache()
    with StandInProcess(requests_per_second=None if mode == "capacity" else ALLOWED) as url:
        endpoint = Endpoint(name="bench", base_url=url, api_key=API_KEY, api_version="2025-04-01-preview",
                            deployments=[Deployment(name=DEPLOYMENT, model="gpt-image-1")])
        settings = Settings(endpoints=[endpoint], workspace=Path(tempfile.mkdtemp(prefix="bench-batch-")))
        if mode == "adaptive@10":
            set_rate_limit(url, DEPLOYMENT, requests_per_second=ALLOWED)
        elif mode.startswith("previous@"):
            key = limiter_key(url, DEPLOYMENT)
            limiter_module._limiters[key] = PreviousLimiter(key, float(mode.partition("@")[2]))
        project = Project.create("throughput", workspace=settings.workspace)
        items = [{"prompt": f"a red fox, study {i}", "model": DEPLOYMENT, "quality": "low"} for i in range(requests)]
        started, wall_start = time.perf_counter(), time.time()
        report = generate_batch(items, project=project, concurrency=8, progress=False, settings=settings)
        elapsed = time.perf_counter() - started
    if len(report.ok) != requests:
        raise SystemExit(f"{len(report.failed)} items failed: {report.failed[0].error}")
    attempts = [a for item in report.items for a in item.record["metadata"]["attempts"]]
    wasted = sum(1 for kind, _ in attempts if kind == "rate_limit")
    margin = limiter_module.limiter_stats().get(limiter_key(url, DEPLOYMENT), {}).get("margin", float("nan"))
    if os.environ.get("BENCH_VERBOSE"):
        offsets = [round(e.time - wall_start, 2) for e in limiter_module.rate_limit_events()]
        print(f"   429s at {offsets} s after the start; {elapsed:.1f} s in all")
    return requests / elapsed, wasted, margin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", type=int, default=2, help="processes spinning during the runs")
    parser.add_argument("--modes", default="adaptive@10,previous@9.5,previous@10,429-driven")
    args = parser.parse_args()
    modes = args.modes.split(",")
    busy = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for process in busy:
        process.start()
    loads: deque[float] = deque()
    try:
        time.sleep(2 if busy else 0)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores with {args.busy} busy processes "
              f"of ours; stand-in in its own process")
        results: dict[str, list[tuple[float, int, float]]] = {mode: [] for mode in modes}
        for repeat in range(args.repeats):
            for mode in modes:
                results[mode].append(run(args.requests, mode))
                rps, wasted, margin = results[mode][-1]
                loads.append(os.getloadavg()[0])
                print(f"repeat {repeat + 1} {mode:<13}{rps:6.2f} req/s  {wasted:3d} answered 429  "
                      f"margin {margin:6.3f}  load {loads[-1]:.1f}", flush=True)
    finally:
        for process in busy:
            process.terminate()
    print(f"\n{args.requests} requests, stand-in allows {ALLOWED:g}/s, concurrency 8, median of {args.repeats}, "
          f"load {min(loads):.1f}-{max(loads):.1f} during the runs")
    print(f"{'mode':<14}{'req/s':>7}{'ratio':>8}{'429 median':>12}{'429 worst':>11}{'runs with 429':>15}")
    for mode, rows in results.items():
        rps = statistics.median(r[0] for r in rows)
        wasted = [r[1] for r in rows]
        print(f"{mode:<14}{rps:7.2f}{rps / ALLOWED:8.3f}{statistics.median(wasted):12g}{max(wasted):11d}"
              f"{sum(w > 0 for w in wasted):>9d} of {len(rows)}")


if __name__ == "__main__":
    main()
