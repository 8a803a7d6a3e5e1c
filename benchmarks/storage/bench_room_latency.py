"""How soon a change a kernel commits to the update log reaches a client in the project's room.

A real JupyterLab with jupyter-collaboration (started here on 127.0.0.1), a Y client in the room (pycrdt's
websocket provider), and a separate Python process adding layers through ``Project`` one at a time; each
layer's name carries the wall time of its commit. The server merges log rows every
``IMAGESTUDIO_ROOM_POLL_SECONDS`` (0.05 s; it was 0.1 s), so the expected latency is about half of that plus the
transport. The reference beside it: the same layer sent by another room client (no log in between).
Run from the repository root: ``.venv/bin/python benchmarks/storage/bench_room_latency.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pycrdt import Array  # noqa: E402

from imagestudio_nb.collab import join_project_room  # noqa: E402
from imagestudio_nb.project import Project  # noqa: E402
from imagestudio_nb.project.document import layer_to_y, new_layer  # noqa: E402
from tests.servers import start_jupyter_lab  # noqa: E402

COUNT = 40


async def measure(lab, path: str, folder: Path) -> tuple[list[float], list[float]]:
    via_log: list[float] = []
    via_room: list[float] = []
    async with join_project_room(lab.url, path, token=lab.token) as watcher:
        layers = watcher.get("layers", type=Array)
        seen: set[str] = set()

        def arrived(event, *_):
            now = time.time()
            for layer in layers:
                name = layer["name"]
                if name not in seen:
                    seen.add(name)
                    kind, _, sent = name.partition("@")
                    if kind in ("kernel", "room"):
                        (via_log if kind == "kernel" else via_room).append(now - float(sent))

        layers.observe_deep(arrived)
        writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
            import time
            from imagestudio_nb.project import Project
            p = Project.open({str(folder)!r})
            for i in range({COUNT}):
                p.add_layer("paint", name=f"kernel@{{time.time()!r}}")
                time.sleep(0.137)
        """)])
        async with join_project_room(lab.url, path, token=lab.token) as sender:
            sent_layers = sender.get("layers", type=Array)
            await asyncio.sleep(1.0)
            for _ in range(COUNT):
                sent_layers.append(layer_to_y(new_layer("paint", name=f"room@{time.time()!r}")))
                await asyncio.sleep(0.129)
            deadline = time.monotonic() + 60
            while (len(via_log) < COUNT or len(via_room) < COUNT) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        writer.wait(timeout=120)
    return via_log, via_room


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="room-latency-")) / "root"
    root.mkdir()
    lab = start_jupyter_lab(root)
    try:
        project = Project.create("Latency", workspace=root)
        project.close()
        via_log, via_room = asyncio.run(measure(lab, "Latency/project.isproj", project.path))
    finally:
        lab.stop()
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    for label, values in (("kernel -> log -> room client", via_log), ("room client -> room client", via_room)):
        values = sorted(values)
        print(f"{label:30s}: {len(values)} of {COUNT} arrived; median {statistics.median(values) * 1e3:.0f} ms, "
              f"p95 {values[int(len(values) * 0.95) - 1] * 1e3:.0f} ms, max {values[-1] * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
