"""Encoding 100 frames of 1024x1024 to H.264 MP4: this package's ``encode_clip`` (PyAV, in memory) against a plain
``imageio`` write through imageio-ffmpeg (an ffmpeg subprocess fed raw frames), side by side.

Run: ``.venv/bin/python benchmarks/video/bench_encode.py [--frames 100] [--repeats 5]`` (needs PyAV, and
imageio-ffmpeg for the reference: ``pip install imageio-ffmpeg``).

The frames are a smooth moving gradient with noise (compressible like a real clip, not a flat colour). Both
writers use libx264, preset veryfast, CRF 23, yuv420p; ``encode_clip`` uses one encoder thread (repeatable output),
imageio-ffmpeg lets ffmpeg pick its threads. Printed: median seconds over the repeats for each, the ratio, the
output sizes and the load average before and after (target: < 5 s for 100 frames).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imagestudio_nb.imaging.clips import clip_info, encode_clip  # noqa: E402


def frames(count: int, side: int = 1024) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, side, dtype=np.float32)
    out = []
    for i in range(count):
        t = i / count
        r = (x[None, :] + t) % 1
        g = (x[:, None] * 0.7 + t * 0.5) % 1
        b = np.abs(np.sin((x[None, :] + x[:, None]) * 6 + t * 6))
        frame = np.stack(np.broadcast_arrays(r, g, b), axis=2) * 255
        out.append(np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8))
    return out


def imageio_write(clip: list[np.ndarray], path: str) -> None:
    import imageio.v2 as imageio

    with imageio.get_writer(path, fps=24, codec="libx264", quality=None, pixelformat="yuv420p", macro_block_size=16,
                            ffmpeg_params=["-preset", "veryfast", "-crf", "23"]) as writer:
        for frame in clip:
            writer.append_data(frame)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    clip = frames(args.frames)
    ours, fastest, reference, sizes = [], [], [], {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "clip.mp4")
        for _ in range(args.repeats):  # interleaved so both see the same load
            started = time.perf_counter()
            data = encode_clip(clip, fps=24)
            ours.append(time.perf_counter() - started)
            sizes["encode_clip (PyAV)"] = len(data)
            started = time.perf_counter()
            sizes["encode_clip ultrafast"] = len(encode_clip(clip, fps=24, preset="ultrafast"))
            fastest.append(time.perf_counter() - started)
            try:
                started = time.perf_counter()
                imageio_write(clip, path)
                reference.append(time.perf_counter() - started)
                sizes["imageio (imageio-ffmpeg)"] = os.path.getsize(path)
            except ImportError as exc:
                print(f"reference skipped: {exc}; pip install imageio-ffmpeg")
        info = clip_info(data)
    print(f"{args.frames} frames of 1024x1024 -> H.264 MP4 ({info.frames} frames decoded back, {info.duration:.2f} s)")
    print(f"encode_clip (PyAV, 1 thread):       median {statistics.median(ours):.2f} s  runs {[round(v, 2) for v in ours]}")
    print(f"encode_clip preset=ultrafast:       median {statistics.median(fastest):.2f} s  "
          f"runs {[round(v, 2) for v in fastest]}")
    if reference:
        print(f"imageio + imageio-ffmpeg (ffmpeg):  median {statistics.median(reference):.2f} s  "
              f"runs {[round(v, 2) for v in reference]}")
        print(f"ratio ours / imageio: {statistics.median(ours) / statistics.median(reference):.2f}")
    print(f"bytes: {sizes}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
