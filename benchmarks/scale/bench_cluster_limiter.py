"""One rate limit for a whole Dask cluster: an actor holding the slots vs a Semaphore vs a Variable + Lock.

Run: ``.venv/bin/python benchmarks/scale/bench_cluster_limiter.py [--requests 300] [--repeats 3] [--final 1000]``

A ``LocalCluster`` of 2 worker processes (4 threads each) runs ``generate_batch`` (concurrency 8) against the
loopback stand-in in a process of its own, which answers 429 beyond ``--rate`` (20) requests in any one-second
window. Three ways for the workers to share one limit, each plugged in as the workers' ``SharedPacers``:

- ``actor``: the package's way (``imagestudio_nb.scale.cluster_limiter``): one actor hands out wall-clock
  send slots, with the adaptive margin; one round trip per request.
- ``semaphore``: a ``distributed.Semaphore`` with one lease; each request takes the lease and gives it back
  ``1/rate`` seconds later (no margin is needed: spacing can only grow). Two scheduler round trips.
- ``variable``: the next free slot in a ``distributed.Variable``, read and advanced under a
  ``distributed.Lock`` (a fixed 2% margin). Four scheduler round trips.

Printed: the cost of one slot request with no rate (median and p95 over 8 threads x 100 calls); the capacity
reference (the same batch with no limiter against an unlimited stand-in: what the loaded machine sustains); then per
mechanism the throughput (median over repeats), its ratio to the allowed rate, and the requests answered 429
(median and worst); finally ``--final`` requests through the chosen mechanism (the issue's benchmark: at
20 req/s, at least 19 req/s and no 429).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from imagestudio_nb.batch import generate_batch  # noqa: E402
from imagestudio_nb.config import Deployment, Endpoint, Settings  # noqa: E402
from imagestudio_nb.providers.limiter import reset_limiters, use_shared_pacers  # noqa: E402
from imagestudio_nb.scale.cluster_limiter import SERVICE_NAME, pacer_service  # noqa: E402
from tests.scale.standin_service import StandInService  # noqa: E402
from tests.standin.server import API_KEY  # noqa: E402


class SemaphorePacers:
    """A Dask ``Semaphore`` of one lease, held ``1/rate`` seconds per request (and through a 429's pause)."""

    def __init__(self, name: str):
        self.name = name
        self._semaphore = None

    def __getstate__(self):
        return {"name": self.name, "_semaphore": None}

    def _lease(self, hold: float) -> None:
        from distributed import Semaphore

        if self._semaphore is None:
            self._semaphore = Semaphore(max_leases=1, name=self.name)
        self._semaphore.acquire()
        threading.Timer(hold, self._semaphore.release).start()

    def reserve(self, key, rate, burst, lateness, round_trips=()):
        self._lease(1.0 / rate if rate else 0.0)
        return time.time()

    def pause(self, key, seconds, rate, burst):
        self._lease(seconds)

    def accepted(self, key):
        pass


class VariablePacers:
    """The next free slot (wall clock) in a Dask ``Variable``, advanced under a Dask ``Lock``."""

    MARGIN = 0.02

    def __init__(self, name: str):
        self.name = name
        self._parts = None

    def __getstate__(self):
        return {"name": self.name, "_parts": None}

    def _variable_and_lock(self):
        from distributed import Lock, Variable

        if self._parts is None:
            self._parts = Variable(self.name), Lock(self.name + "-lock")
        return self._parts

    def reserve(self, key, rate, burst, lateness, round_trips=()):
        variable, lock = self._variable_and_lock()
        with lock:
            slot = max(time.time(), variable.get())
            variable.set(slot + ((1 + self.MARGIN) / rate if rate else 0.0))
        return slot

    def pause(self, key, seconds, rate, burst):
        variable, lock = self._variable_and_lock()
        with lock:
            variable.set(max(variable.get(), time.time() + seconds))

    def accepted(self, key):
        pass


def fresh_mechanism(client, name: str):
    """Forget every limiter; return what generate_batch should get as its executor for ``name``."""
    client.run(use_shared_pacers, None)
    client.run(reset_limiters)
    if SERVICE_NAME in client.list_datasets():
        client.unpublish_dataset(SERVICE_NAME)  # a new actor: no margin learned in an earlier run
    if name == "actor":
        return client
    if name == "semaphore":
        client.run(use_shared_pacers, SemaphorePacers(f"bench-semaphore-{time.time_ns()}"))
    else:
        from distributed import Variable

        variable_name = f"bench-variable-{time.time_ns()}"
        Variable(variable_name, client=client).set(0.0)
        client.run(use_shared_pacers, VariablePacers(variable_name))
    return client.get_executor()


def probe_slots(pacers, calls: int) -> list[float]:
    """Worker side: the cost of ``calls`` slot requests with no rate (pure coordination)."""
    costs = []
    for _ in range(calls):
        started = time.perf_counter()
        pacers.reserve("probe", None, 1, [], [])
        costs.append(time.perf_counter() - started)
    return costs[3:]


def slot_cost(client, name: str) -> tuple[float, float]:
    fresh_mechanism(client, name)
    if name == "actor":
        pacers = pacer_service(client)
    elif name == "semaphore":
        pacers = SemaphorePacers(f"probe-semaphore-{time.time_ns()}")
    else:
        from distributed import Variable

        pacers = VariablePacers(f"probe-variable-{time.time_ns()}")
        Variable(pacers.name, client=client).set(0.0)
    futures = [client.submit(probe_slots, pacers, 100, pure=False) for _ in range(8)]
    costs = sorted(c for future in futures for c in future.result())
    return statistics.median(costs) * 1000, costs[int(0.95 * (len(costs) - 1))] * 1000


CONCURRENCY = 8


def run_batch(client, standin, name: str, requests: int, rate: float | None) -> tuple[float, int]:
    """One batch through mechanism ``name`` (``"none"``: no limiter at all, for the capacity reference)."""
    executor = fresh_mechanism(client, name) if name != "none" else client.get_executor()
    if name == "none":
        client.run(use_shared_pacers, None)
        client.run(reset_limiters)
    standin.reset()
    deployment = Deployment(name="gpt-image-1", model="gpt-image-1",
                            requests_per_minute=rate * 60 if rate else None)
    endpoint = Endpoint(name="bench", base_url=standin.url, api_key=API_KEY, api_version="2025-04-01-preview",
                        deployments=[deployment])
    settings = Settings(endpoints=[endpoint], workspace=Path(tempfile.mkdtemp(prefix="bench-cluster-")),
                        default_model="gpt-image-1")
    items = [{"prompt": f"a red fox, study {i} {time.time_ns()}", "quality": "low"} for i in range(requests)]
    started = time.perf_counter()
    report = generate_batch(items, executor=executor, concurrency=CONCURRENCY, progress=False, settings=settings)
    elapsed = time.perf_counter() - started
    if len(report.ok) != requests:
        raise SystemExit(f"{name}: {len(report.failed)} items failed: {report.failed[0].error}")
    _, refused = standin.arrivals()
    if name == "actor" and os.environ.get("BENCH_VERBOSE"):
        print("   actor's view:", pacer_service(client).status())
    return requests / elapsed, refused


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--final", type=int, default=1000, help="requests of the final actor runs (0: none)")
    parser.add_argument("--mechanisms", default="actor,semaphore,variable")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (generate_batch)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--compare", action=argparse.BooleanOptionalAction, default=True,
                        help="measure slot costs and compare the mechanisms (else only capacity and final)")
    args = parser.parse_args()
    global CONCURRENCY
    CONCURRENCY = args.concurrency
    mechanisms = args.mechanisms.split(",")
    cluster = LocalCluster(n_workers=2, threads_per_worker=args.threads, processes=True, host="127.0.0.1",
                           dashboard_address=None, worker_dashboard_address=None)
    client = Client(cluster)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; 2 Dask workers x {args.threads} "
          f"threads; concurrency {args.concurrency}; stand-in in its own process allowing {args.rate:g}/s")
    if args.compare:
        print("\ncost of one slot request, no rate, 8 threads x 100 calls")
        for name in mechanisms:
            median, p95 = slot_cost(client, name)
            print(f"{name:<10} median {median:6.2f} ms   p95 {p95:6.2f} ms")
    with StandInService() as unlimited:  # the reference: what this machine sustains now with no limit at all
        capacity = [run_batch(client, unlimited, "none", args.requests, None)[0] for _ in range(2)]
        print(f"\ncapacity without any limit (stand-in unlimited): {max(capacity):.2f} req/s "
              f"(best of 2, load {os.getloadavg()[0]:.1f})")
    with StandInService(requests_per_second=args.rate) as standin:
        run_batch(client, standin, "actor", 40, args.rate)  # warm-up: workers import the provider stack
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in mechanisms}
        for repeat in range(args.repeats if args.compare else 0):
            for name in mechanisms:
                results[name].append(run_batch(client, standin, name, args.requests, args.rate))
                rps, refused = results[name][-1]
                print(f"repeat {repeat + 1} {name:<10} {rps:6.2f} req/s  {refused:3d} answered 429  "
                      f"(load {os.getloadavg()[0]:.1f})")
        print(f"\n{args.requests} requests, stand-in allows {args.rate:g}/s, concurrency {args.concurrency}, "
              f"median of {args.repeats}")
        print(f"{'mechanism':<11}{'req/s':>8}{'ratio':>8}{'429 median':>12}{'429 worst':>11}")
        for name, rows in results.items() if args.compare else ():
            rps = statistics.median(r[0] for r in rows)
            print(f"{name:<11}{rps:8.2f}{rps / args.rate:8.3f}{statistics.median(r[1] for r in rows):12g}"
                  f"{max(r[1] for r in rows):11d}")
        if args.final:
            print(f"\nfinal: {args.final} requests through the actor")
            for repeat in range(args.repeats):
                rps, refused = run_batch(client, standin, "actor", args.final, args.rate)
                print(f"actor {args.final} requests: {rps:6.2f} req/s ({rps / args.rate:.3f} of {args.rate:g}/s), "
                      f"{refused} answered 429 (load {os.getloadavg()[0]:.1f})")
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
