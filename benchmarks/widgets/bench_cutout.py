"""One-click background removal on a 1024x1024 image layer, kernel side: from the Cut out call until the
mask layer is in the document (``Canvas.remove_background``: read the layer, ``remove_background``, store the
matte as an asset, add the linked mask layer). Beside it, in the same run and alternating with it: the bare
``imagestudio_nb.remove_background`` call on the same pixels, the floor this path cannot beat. The browser
then fetches the matte asset and draws it (not measured here). Target: until the mask shows < 1 s.

Run: ``.venv/bin/python benchmarks/widgets/bench_cutout.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

BUDGET_S = 1.0


def studio_image(seed: int) -> np.ndarray:
    """A product shot: a soft-edged bottle shape on a light gradient, different per seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:1024, 0:1024].astype(np.float32)
    image = np.empty((1024, 1024, 3), np.float32)
    image[...] = (235 - yy[..., None] * 0.03) + rng.normal(0, 1.5, (1024, 1024, 1))
    cx, w = 512 + rng.integers(-60, 60), 150 + rng.integers(0, 60)
    body = (np.abs(xx - cx) < w) & (yy > 300) & (yy < 900)
    neck = (np.abs(xx - cx) < w / 3) & (yy > 160) & (yy <= 300)
    image[body | neck] = (40 + rng.integers(0, 120), 90, 60 + rng.integers(0, 120))
    return np.clip(image, 0, 255).astype(np.uint8)


def main() -> None:
    from imagestudio_nb import Project, remove_background
    from imagestudio_nb.widgets import Canvas

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    project = Project.create("bench-cutout", workspace=tempfile.mkdtemp(), width=1024, height=1024)
    canvas = Canvas(project)
    remove_background(studio_image(99))  # load the model once, outside the timings
    ours, bare = [], []
    for seed in range(args.repeats):
        pixels = studio_image(seed)
        layer = project.add_layer("image", name=f"Shot {seed}", asset=project.assets.add(pixels).hash)
        started = time.perf_counter()
        remove_background(pixels)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        (mask,) = canvas.remove_background(layer)
        ours.append(time.perf_counter() - started)
        assert project.layer(layer)["mask"] == mask
    load = os.getloadavg()
    median, reference = statistics.median(ours), statistics.median(bare)
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"one-click cut-out, kernel side, 1024x1024: median {median * 1000:.0f} ms over {len(ours)} "
          f"(min {min(ours) * 1000:.0f}, max {max(ours) * 1000:.0f})")
    print(f"bare remove_background on the same pixels:  median {reference * 1000:.0f} ms "
          f"(min {min(bare) * 1000:.0f}, max {max(bare) * 1000:.0f})")
    print(f"ratio {median / reference:.2f}x; target < {BUDGET_S:.1f} s: {'met' if median < BUDGET_S else 'MISSED'}")


if __name__ == "__main__":
    main()
