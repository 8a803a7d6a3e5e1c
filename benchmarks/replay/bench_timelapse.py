"""Replay of 10,000 updates into a 1024 px timelapse (issue 14: under 20 s on this machine).

A project of 1024x1024 with three paint layers receives 10,000 strokes (each its own change in the update
log); ``replay.timelapse`` then renders about 120 frames at 1024 px from the log and encodes an MP4. The
reference beside it: rendering the final state once with ``Project.render()`` (the cost of one frame).
Run from the repository root: ``.venv/bin/python benchmarks/replay/bench_timelapse.py [--updates 10000]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imagestudio_nb.imaging.clips import decode_frames  # noqa: E402
from imagestudio_nb.project import Project  # noqa: E402
from imagestudio_nb.project.replay import timeline, timelapse  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()
    os.environ.setdefault("IMAGESTUDIO_AUTOSAVE_DELAY", "5")
    project = Project.create("Replay", workspace=tempfile.mkdtemp(), width=1024, height=1024)
    layers = [project.add_layer("paint", name=f"paint {i}") for i in range(3)]
    started = time.perf_counter()
    for i in range(args.updates):
        x, y = (i * 37) % 1000, (i * 91) % 1000
        project.add_stroke(layers[i % 3], {"tool": "brush", "size": 6 + i % 10, "color": f"#{(i * 2654435761) % 0xFFFFFF:06x}",
                                            "points": [x, y, x + 20, y + 9, x + 31, y + 30]})
    writing = time.perf_counter() - started
    moments = len(timeline(project))
    started = time.perf_counter()
    project.render()
    one_frame = time.perf_counter() - started
    started = time.perf_counter()
    video = timelapse(project, frames=args.frames, max_side=1024, format="mp4")
    seconds = time.perf_counter() - started
    frames = len(decode_frames(video))
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"{moments} changes in the log (written in {writing:.1f} s); one render of the final state {one_frame:.2f} s")
    print(f"timelapse: {frames} frames at 1024 px, {len(video):,} bytes, in {seconds:.1f} s (target < 20 s): "
          f"{'met' if seconds < 20 else 'MISSED'}")


if __name__ == "__main__":
    main()
