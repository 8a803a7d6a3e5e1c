"""Issue 12's storage benchmark: the update log against the previous code (commit 514907b), side by side.

Run: ``.venv/bin/python benchmarks/storage/bench_storage.py [--changes 300] [--calls 100] [--repeats 3]
[--strokes 100000] [--skip SECTION ...]``

Every measurement runs in a fresh process of its own: the current code from this checkout, the previous
code exported with ``git archive 514907b imagestudio_nb`` and put first on ``PYTHONPATH``. New and old runs
alternate within each repeat, so that the machine's load (printed) hits both alike.

- ``changes``: a durable change. ``add_stroke`` and ``add_layer`` return once the change is committed to
  the log (new); the old code returned at once and wrote the document after a quiet spell, so its time
  until durable is measured as the call followed by ``save()``. Median and p95 (target: stroke median <= 1 ms).
- ``generate``: ``generate(project=)`` with the local model against the bare provider call, interleaved
  call by call (target: <= 1.2x).
- ``writers``: three processes x 1000 ``add_stroke`` into one project; throughput from the first change to
  the last, and the strokes a fresh process finds afterwards (target: zero loss).
- ``size``: the log after ``--strokes`` strokes (keyframes every 1000 updates; compaction with a replay window
  of 0 s, and with the default 7-day window) against the document's state size ``len(doc.get_update())``,
  with the median time of the first and of the last 1000 strokes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OLD_COMMIT = "514907b"
OLD_CODE = Path(tempfile.gettempdir()) / f"imagestudio-old-{OLD_COMMIT}"


def stroke(i: int) -> dict:
    """A realistic pen stroke: 32 points, colour and width."""
    return {"points": [round((i * 7 + k) % 1024 + 0.5, 1) for k in range(64)], "color": "#1f77b4", "width": 4}


# --- the workers: each runs in a fresh interpreter, with the code under test first on the path --------------

WORKER_PRELUDE = f"""
import json, os, statistics, sys, tempfile, time
from pathlib import Path
from imagestudio_nb.project import Project
def stroke(i):
    return {{"points": [round((i * 7 + k) % 1024 + 0.5, 1) for k in range(64)], "color": "#1f77b4", "width": 4}}
def ms(started):
    return (time.perf_counter() - started) * 1000
"""

CHANGES = """
n = int(sys.argv[1])
project = Project.create("changes", workspace=tempfile.mkdtemp(prefix="bench-storage-"))
layer = project.add_layer("paint", name="ink")
for i in range(20):  # warm up imports and caches
    project.add_stroke(layer, stroke(i))
times = {"stroke": [], "layer": [], "stroke+save": []}
for i in range(n):
    started = time.perf_counter(); project.add_stroke(layer, stroke(i)); times["stroke"].append(ms(started))
for i in range(n):
    started = time.perf_counter(); project.add_layer("paint", name=f"L{i}"); times["layer"].append(ms(started))
for i in range(n // 3):
    started = time.perf_counter(); project.add_stroke(layer, stroke(i)); project.save()
    times["stroke+save"].append(ms(started))
print(json.dumps(times))
"""

GENERATE = """
from imagestudio_nb import generate
from imagestudio_nb.providers.base import ImageRequest
from imagestudio_nb.providers.local import LocalProvider
n = int(sys.argv[1])
project = Project.create("generate", workspace=tempfile.mkdtemp(prefix="bench-storage-"), width=256, height=256)
provider = LocalProvider()
ways = {
    "bare provider": lambda seed: provider.generate(ImageRequest("a red fox at dawn", "local", "256x256", seed=seed)),
    "generate(project=)": lambda seed: generate("a red fox at dawn", model="local", size="256x256", seed=seed,
                                                project=project, progress=False),
}
for seed in range(5):
    for way in ways.values():
        way(10_000 + seed)
times = {name: [] for name in ways}
names = list(ways)
for call in range(n):
    for name in names[call % 2:] + names[:call % 2]:  # alternate which goes first
        started = time.perf_counter(); ways[name](call); times[name].append(ms(started))
print(json.dumps(times))
"""

WRITER = """
project = Project.open(sys.argv[1])
layer = project.add_layer("paint", name=sys.argv[2])
n = int(sys.argv[3])
started = time.time()
for i in range(n):
    project.add_stroke(layer, stroke(i))
print(json.dumps({"start": started, "end": time.time()}))
"""

COUNT = """
project = Project.open(sys.argv[1])
print(json.dumps({layer["name"]: len(layer["strokes"]) for layer in project.layers()}))
"""

SIZE = """
n = int(sys.argv[1])
project = Project.create("size", workspace=tempfile.mkdtemp(prefix="bench-storage-"))
layer = project.add_layer("paint", name="ink")
started = time.perf_counter()
each = []
for i in range(n):
    begun = time.perf_counter(); project.add_stroke(layer, stroke(i)); each.append(ms(begun))
project.save()
seconds = time.perf_counter() - started
folder = project.path
rows = project.log.rows(kinds=("update", "keyframe"))
print(json.dumps({
    "strokes": n, "seconds": seconds,
    "first_ms": statistics.median(each[:1000]), "last_ms": statistics.median(each[-1000:]),
    "log_bytes": project.log.size(),
    "state_bytes": len(project.doc.get_update()),
    "json_bytes": (folder / "project.isproj").stat().st_size,
    "update_rows": sum(r.kind == "update" for r in rows), "keyframe_rows": sum(r.kind == "keyframe" for r in rows),
}))
"""


def export_old_code() -> Path:
    if not (OLD_CODE / "imagestudio_nb" / "__init__.py").exists():
        OLD_CODE.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", OLD_COMMIT, "imagestudio_nb"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(OLD_CODE)], input=archive, check=True)
    return OLD_CODE


def start_worker(code: str, body: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    environment = {**os.environ, "IMAGESTUDIO_CONFIG": str(Path(tempfile.gettempdir()) / "bench-storage.toml"),
                   "IMAGESTUDIO_USER": "bench", **(env or {})}
    environment["PYTHONPATH"] = str(export_old_code() if code == "old" else ROOT)
    script = textwrap.dedent(WORKER_PRELUDE) + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", script, *args], env=environment, cwd=tempfile.gettempdir(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_worker(code: str, body: str, *args: str, env: dict[str, str] | None = None) -> dict:
    process = start_worker(code, body, *args, env=env)
    out, err = process.communicate(timeout=3600)
    if process.returncode:
        raise RuntimeError(f"{code} worker failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def load() -> str:
    return "load average " + " / ".join(f"{value:.1f}" for value in os.getloadavg()) + f" on {os.cpu_count()} cores"


# --- the sections ------------------------------------------------------------------------------------------

def bench_changes(changes: int, repeats: int) -> None:
    print(f"\n(a) a durable change: {changes} calls each, median of {repeats} repeats' medians and p95s ({load()})")
    results: dict[str, dict[str, list[tuple[float, float]]]] = {"new": {}, "old": {}}
    for _ in range(repeats):
        for code in ("new", "old"):
            for name, values in run_worker(code, CHANGES, str(changes)).items():
                results[code].setdefault(name, []).append((statistics.median(values), p95(values)))
    rows = [("add_stroke, durable on return", "new", "stroke"), ("add_layer, durable on return", "new", "layer"),
            ("add_stroke + save()", "new", "stroke+save"),
            ("add_stroke (returns, not durable)", "old", "stroke"), ("add_layer (returns, not durable)", "old", "layer"),
            ("add_stroke + save(): until durable", "old", "stroke+save")]
    print(f"{'code':<5}{'measure':<38}{'median ms':>11}{'p95 ms':>9}")
    for label, code, key in rows:
        pairs = results[code][key]
        print(f"{code:<5}{label:<38}{statistics.median(p[0] for p in pairs):11.2f}"
              f"{statistics.median(p[1] for p in pairs):9.2f}")
    stroke_median = statistics.median(p[0] for p in results["new"]["stroke"])
    print(f"target: durable stroke median <= 1 ms: {stroke_median:.2f} ms -> "
          f"{'met' if stroke_median <= 1.0 else 'MISSED'}")


def bench_generate(calls: int, repeats: int) -> None:
    print(f"\n(b) generate(project=) with the local model against the bare provider call, 256x256, "
          f"{calls} calls each, median of {repeats} repeats ({load()})")
    print(f"{'code':<5}{'bare provider ms':>18}{'generate(project=) ms':>23}{'ratio':>8}")
    for code in ("new", "old"):
        ratios, bare, full = [], [], []
        for _ in range(repeats):
            times = run_worker(code, GENERATE, str(calls))
            bare.append(statistics.median(times["bare provider"]))
            full.append(statistics.median(times["generate(project=)"]))
            ratios.append(full[-1] / bare[-1])
        print(f"{code:<5}{statistics.median(bare):18.2f}{statistics.median(full):23.2f}{statistics.median(ratios):8.2f}"
              f"   (ratios per repeat: {', '.join(f'{r:.2f}' for r in ratios)})")
        if code == "new":
            verdict = "met" if statistics.median(ratios) <= 1.2 else "MISSED"
            new_ratio = statistics.median(ratios)
    print(f"target: <= 1.2x with durability on return: {new_ratio:.2f}x -> {verdict} "
          "(the old code's figure is not durable on return)")


def bench_writers(per_writer: int, repeats: int) -> None:
    print(f"\n(c) three processes x {per_writer} add_stroke into one project, {repeats} repeats ({load()})")
    print(f"{'code':<5}{'changes/s':>11}{'found':>8}{'of':>6}{'lost':>6}")
    for _ in range(repeats):
        for code in ("new", "old"):
            workspace = Path(tempfile.mkdtemp(prefix="bench-writers-"))
            run_worker(code, 'Project.create("shared", workspace=sys.argv[1]); print("{}")', str(workspace))
            folder = workspace / "shared"
            writers = [start_worker(code, WRITER, str(folder), f"w{i}", str(per_writer)) for i in range(3)]
            spans, codes = [], []
            for writer in writers:
                out, err = writer.communicate(timeout=3600)
                codes.append(writer.returncode)
                if writer.returncode == 0:
                    spans.append(json.loads(out.strip().splitlines()[-1]))
                else:  # reported, not hidden: a writer of the old code that dies is part of the result
                    print(f"     {code} writer exited {writer.returncode}: {err.strip()[-300:]!r}")
            seconds = max(s["end"] for s in spans) - min(s["start"] for s in spans) if spans else float("nan")
            found = run_worker(code, COUNT, str(folder))
            total = sum(found.values())
            print(f"{code:<5}{3 * per_writer / seconds:11.0f}{total:8d}{3 * per_writer:6d}{3 * per_writer - total:6d}"
                  f"   per writer: {found}; exit codes {codes}")


def bench_size(strokes: int, delay: float, windows: list[str]) -> None:
    print(f"\n(d) log size after {strokes} strokes (keyframe every 1000 updates; snapshot written {delay} s after "
          f"changes) ({load()})")
    print(f"{'replay window':<15}{'log MB':>9}{'state MB':>10}{'ratio':>7}{'json MB':>9}{'update rows':>13}"
          f"{'keyframes':>11}{'s':>7}{'first 1000 ms':>15}{'last 1000 ms':>14}")
    for keep in windows:
        result = run_worker("new", SIZE, str(strokes),
                            env={"IMAGESTUDIO_LOG_KEEP_SECONDS": keep, "IMAGESTUDIO_AUTOSAVE_DELAY": str(delay)})
        mb = 1024 * 1024
        print(f"{keep + ' s':<15}{result['log_bytes'] / mb:9.2f}{result['state_bytes'] / mb:10.2f}"
              f"{result['log_bytes'] / result['state_bytes']:7.2f}{result['json_bytes'] / mb:9.2f}"
              f"{result['update_rows']:13d}{result['keyframe_rows']:11d}{result['seconds']:7.0f}"
              f"{result['first_ms']:15.2f}{result['last_ms']:14.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--writer-changes", type=int, default=1000)
    parser.add_argument("--strokes", type=int, default=100_000)
    parser.add_argument("--size-delay", type=float, default=0.2,
                        help="IMAGESTUDIO_AUTOSAVE_DELAY for (d); the default is the library's")
    parser.add_argument("--size-windows", nargs="+", default=["0", str(7 * 24 * 3600)],
                        help="IMAGESTUDIO_LOG_KEEP_SECONDS values for (d)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["changes", "generate", "writers", "size"])
    args = parser.parse_args()
    print(f"{load()}; new: {ROOT} (working tree), old: {OLD_COMMIT} exported to {export_old_code()}")
    if "changes" not in args.skip:
        bench_changes(args.changes, args.repeats)
    if "generate" not in args.skip:
        bench_generate(args.calls, args.repeats)
    if "writers" not in args.skip:
        bench_writers(args.writer_changes, args.repeats)
    if "size" not in args.skip:
        bench_size(args.strokes, args.size_delay, args.size_windows)
    print(f"\nend: {load()}")


if __name__ == "__main__":
    main()
