"""Co-editing through the project's room: the package's server settings beside a stock server, same run.

Two real JupyterLabs with jupyter-collaboration on 127.0.0.1: one with the options ``imagestudio lab`` adds
(``server_settings``: TCP_NODELAY websockets, roles, the save delay, store squashing), one stock (the
package's TCP_NODELAY extension off and jupyter-collaboration's defaults; the isproj document type and the
role check stay, as in any lab with the package installed). Plain Yjs clients in node
(tests/collab/node/bench_client.mjs) measure, on each server, alternately, over ``ROUNDS`` rounds:

- client -> client through the server: one stroke from A seen by B (one way; target p95 < 5 ms), and a
  ping-pong (B answers each stroke of A; round trip);
- ten clients (ten node processes), each appending 10 strokes a second for 10 s to one shared layer: the
  latency of every stroke at each of the nine others, and a count (zero lost, zero doubled, also in the
  project's log afterwards);
- a fresh client joining the room of a 500-layer project: session PUT to synced document (target < 500 ms);
  the first join, which opens the room, apart.

Run from the repository root: ``.venv/bin/python benchmarks/collab/bench_room.py``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imagestudio_nb.cli.lab_cmd import server_settings  # noqa: E402
from imagestudio_nb.project import Project  # noqa: E402
from tests.servers import start_jupyter_lab  # noqa: E402

CLIENT = Path(__file__).resolve().parents[2] / "tests" / "collab" / "node" / "bench_client.mjs"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CLIENTS, RATE, SECONDS = 10, 10, 10
BIG_LAYERS = 500
STOCK = ["--ServerApp.jpserver_extensions", "imagestudio_nb.widgets.server=False"]
#: BENCH_NAGLE=1 adds a third server: the package's settings with TCP_NODELAY off (what the extension changes).
NAGLE = os.environ.get("BENCH_NAGLE") == "1"
#: Which measures to run (default all): pair, join, ten.
MEASURES = set(os.environ.get("BENCH_MEASURES", "pair,join,ten").split(","))


def node(mode: str, lab, path: str, options: dict) -> subprocess.Popen:
    return subprocess.Popen(["node", str(CLIENT), mode, lab.url, lab.token, path, json.dumps(options)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def answer(process: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"bench client failed: {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def make_project(root: Path, name: str, layers: int = 0) -> str:
    project = Project.create(name, workspace=root)
    with project.batch():
        project.add_layer("paint", name="base")
        for i in range(layers - 1):
            layer = project.add_layer("paint", name=f"L{i}")
            for j in range(4):
                project.add_stroke(layer, {"tool": "brush", "size": 5, "color": "#333333",
                                           "points": [j, i % 100, j + 40, i % 100 + 9, j + 80, i % 100 + 3]})
    project.close()
    return f"{name}/project.isproj"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ten_clients(lab, root: Path, name: str) -> dict:
    path = make_project(root, name)
    cpu_before = cpu_seconds(lab.process.pid)
    start_at = (time.time() + 8) * 1000  # every client has joined by then
    clients = [node("load", lab, path, {"party": party + 1, "rate": RATE, "seconds": SECONDS, "start_at": start_at,
                                        "expect": CLIENTS * RATE * SECONDS}) for party in range(CLIENTS)]
    results = [answer(client) for client in clients]
    server_cpu = cpu_seconds(lab.process.pid) - cpu_before
    made = CLIENTS * RATE * SECONDS
    in_log = len(next(layer for layer in Project.open(root / name).layers() if layer["name"] == "base")["strokes"])
    return {"latencies": [ms for r in results for ms in r["latencies"]],
            "expected_arrivals": made * (CLIENTS - 1), "made": made,
            "counts": [r["count"] for r in results], "unique": [r["unique"] for r in results], "in_log": in_log,
            "server_cpu_ms_per_update": server_cpu * 1000 / made}


def run(configs: dict) -> dict:
    figures: dict[str, dict[str, list]] = {label: {"one_way": [], "round_trip": [], "ten": [], "join_first": [],
                                                   "join": [], "loss": [], "cpu": []} for label in configs}
    labels = list(configs)
    for round_ in range(ROUNDS):
        # Alternate, and rotate who goes first: every server sees the same load over the run.
        for label in labels[round_ % len(labels):] + labels[:round_ % len(labels)]:
            lab, root = configs[label]
            run_measures(figures[label], lab, root, round_)
            print(f"round {round_ + 1} {label}: load average {os.getloadavg()[0]:.1f}", flush=True)
    return figures


def run_measures(figures: dict, lab, root: Path, round_: int) -> None:
    if "pair" in MEASURES:
        pair = answer(node("pair", lab, make_project(root, f"Pair{round_}"), {"count": 150, "pings": 80}))
        figures["one_way"] += pair["one_way"]
        figures["round_trip"] += pair["round_trip"]
        figures["loss"].append(("pair", pair["sent"], len(pair["one_way"])))
    if "join" in MEASURES:
        joins = answer(node("join", lab, f"Big{round_}/project.isproj", {"repeat": 12, "layers": BIG_LAYERS}))
        joins = joins["join_ms"]
        figures["join_first"].append(joins.pop(0))  # a fresh project: this join opens its room
        figures["join"] += joins
    if "ten" in MEASURES:
        load = ten_clients(lab, root, f"Load{round_}")
        figures["ten"] += load["latencies"]
        figures["cpu"].append(load["server_cpu_ms_per_update"])
        figures["loss"].append(("ten", load["expected_arrivals"], len(load["latencies"]),
                                load["made"], load["counts"], load["unique"], load["in_log"]))


def report(figures: dict, loads: list[float]) -> None:
    package, stock = figures["package"], figures["stock"]
    print(f"\nload average (1 min) before {loads[0]:.1f}, after {loads[1]:.1f} (2 cores, shared); rounds {ROUNDS}")
    rows = [("client -> client, one way", "one_way", "p95 < 5 ms", 5.0),
            ("client -> client, round trip", "round_trip", "", None),
            (f"{CLIENTS} clients x {RATE} edits/s, arrival", "ten", "p95 reported", None),
            (f"join a {BIG_LAYERS}-layer room (room open)", "join", "< 500 ms", 500.0),
            (f"join a {BIG_LAYERS}-layer room (first, opens it)", "join_first", "< 500 ms", 500.0)]
    print(f"{'measure':44s} {'package p50/p95 ms':>20s} {'stock p50/p95 ms':>20s} {'p95 stock/package':>18s}  target")
    for title, key, target, limit in rows:
        a, b = package[key], stock[key]
        if not a:
            continue
        verdict = "" if limit is None else ("met" if p95(a) < limit else "MISSED")
        print(f"{title:44s} {statistics.median(a):9.2f}/{p95(a):9.2f} {statistics.median(b):9.2f}/{p95(b):9.2f} "
              f"{p95(b) / p95(a):17.2f}x  {target} {verdict} (n={len(a)}/{len(b)})")
        if "package, Nagle" in figures:
            c = figures["package, Nagle"][key]
            print(f"{'  the same, package with TCP_NODELAY off':44s} {statistics.median(c):9.2f}/{p95(c):9.2f}")
    for label, data in figures.items():
        print(f"{label}: server CPU per stroke in the ten-client phase (its fan-out to nine included): "
              + ", ".join(f"{ms:.2f} ms" for ms in data["cpu"]))
        for entry in data["loss"]:
            if entry[0] == "pair":
                print(f"{label}: pair: {entry[2]} of {entry[1]} strokes arrived")
            else:
                _, expected, got, made, counts, unique, in_log = entry
                # Strokes made before a slow client finished joining reach it in its first sync, untimed.
                lossless = set(counts) == {made} and set(unique) == {made} and in_log == made
                print(f"{label}: ten clients: {got} of {expected} arrivals timed; every client holds "
                      f"{sorted(set(counts))} strokes ({sorted(set(unique))} distinct) of {made} made; "
                      f"the project's log {in_log}: {'zero loss, zero doubling' if lossless else 'LOSS OR DOUBLING'}")
                assert lossless, entry


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-collab-"))
    configs = {}
    try:
        for label in ("package", "stock", *(["package, Nagle"] if NAGLE else [])):
            root = base / label.replace(", ", "-") / "root"
            root.mkdir(parents=True)
            if "join" in MEASURES:
                for round_ in range(ROUNDS):
                    make_project(root, f"Big{round_}", BIG_LAYERS)
            extra = {"package": server_settings(root), "stock": STOCK}.get(label, [*server_settings(root), *STOCK])
            configs[label] = (start_jupyter_lab(root, extra_args=extra), root)
            log = configs[label][0].log.read_text()
            assert ("TCP_NODELAY" in log) == (label == "package"), f"{label} server: TCP_NODELAY setting not as meant"
        before = os.getloadavg()[0]
        figures = run(configs)
        report(figures, [before, os.getloadavg()[0]])
    finally:
        for lab, _ in configs.values():
            lab.stop()


if __name__ == "__main__":
    main()
