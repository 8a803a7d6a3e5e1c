"""Batch throughput against a stand-in that allows 10 requests a second.

Run: ``.venv/bin/python benchmarks/generation/bench_batch_throughput.py [--requests 100] [--repeats 3]``

The stand-in (in a process of its own, see ``standin_process.py``) answers 429 (with ``Retry-After`` and
``retry-after-ms``) beyond 10 requests in any one-second window. ``generate_batch`` runs ``--requests`` generations with concurrency 8 into a project, twice per repeat:

- ``configured``: the deployment's limiter set to ``--rate`` requests a second (default 9.5: a 5% margin for
  the jitter between leaving the client and being counted by the server);
- ``429-driven`` (the reference): no rate configured, so only the service's 429s and their Retry-After slow
  the batch down.

Printed per mode: requests per second achieved (requests / wall time, median over repeats), its ratio to the
allowed 10/s (target: at least 0.9) and the requests wasted on a 429 (target: 0), counted from the attempts
each provenance record lists.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from imagestudio_nb.batch import generate_batch  # noqa: E402
from imagestudio_nb.config import Deployment, Endpoint, Settings  # noqa: E402
from imagestudio_nb.project import Project  # noqa: E402
from imagestudio_nb.providers.limiter import reset_limiters, set_rate_limit  # noqa: E402
from imagestudio_nb.providers.registry import clear_cache  # noqa: E402
from standin_process import StandInProcess  # noqa: E402
from tests.standin.server import API_KEY  # noqa: E402

ALLOWED = 10.0


def run(requests: int, rate: float | None) -> tuple[float, int, int]:
    reset_limiters()
    clear_cache()
    with StandInProcess(requests_per_second=ALLOWED) as url:
        endpoint = Endpoint(name="bench", base_url=url, api_key=API_KEY, api_version="2025-04-01-preview",
                            deployments=[Deployment(name="gpt-image-1", model="gpt-image-1")])
        settings = Settings(endpoints=[endpoint], workspace=Path(tempfile.mkdtemp(prefix="bench-batch-")))
        if rate is not None:
            set_rate_limit(url, "gpt-image-1", requests_per_second=rate)
        project = Project.create("throughput", workspace=settings.workspace)
        items = [{"prompt": f"a red fox, study {i}", "model": "gpt-image-1", "quality": "low"}
                 for i in range(requests)]
        started = time.perf_counter()
        report = generate_batch(items, project=project, concurrency=8, progress=False, settings=settings)
        elapsed = time.perf_counter() - started
    if len(report.ok) != requests:
        raise SystemExit(f"{len(report.failed)} items failed: {report.failed[0].error}")
    attempts = [a for item in report.items for a in item.record["metadata"]["attempts"]]
    wasted = sum(1 for kind, _ in attempts if kind == "rate_limit")
    return requests / elapsed, wasted, len(attempts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=9.5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; stand-in in its own process")
    results: dict[str, list[tuple[float, int, int]]] = {"configured": [], "429-driven": []}
    for repeat in range(args.repeats):
        for mode, rate in (("configured", args.rate), ("429-driven", None)):
            results[mode].append(run(args.requests, rate))
            rps, wasted, sent = results[mode][-1]
            print(f"repeat {repeat + 1} {mode:<11} {rps:6.2f} req/s  {wasted:3d} answered 429  {sent} sent")
    print(f"\n{args.requests} requests, stand-in allows {ALLOWED:g}/s, concurrency 8, median of {args.repeats}")
    print(f"{'mode':<12}{'req/s':>8}{'ratio to 10/s':>15}{'wasted on 429':>15}")
    for mode, rows in results.items():
        rps = statistics.median(r[0] for r in rows)
        wasted = statistics.median(r[1] for r in rows)
        print(f"{mode:<12}{rps:8.2f}{rps / ALLOWED:15.3f}{wasted:15g}")


if __name__ == "__main__":
    main()
