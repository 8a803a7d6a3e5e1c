"""Batch and CLI speed of background removal, beside the bare model call, and cut-out encoders.

Run: ``.venv/bin/python benchmarks/background/bench_batch.py [--images 50] [--skip-cli]``

1. Encoders: a 1024x1024 cut-out per family written as PNG by Pillow's default (level 6, what the first
   version wrote), by OpenCV at level 1 (``encode_cutout``, now the default) and as lossless WebP.
2. Model batching: seconds per image of the bare U2-Net-p call with 1, 2 and 4 images per onnxruntime call.
3. ``remove_background_batch`` over N JPEG files (all six background families) written as PNG: the old way
   (one image after another: decode, remove, Pillow PNG) against the bounded pipeline, beside the bare
   model call over the same images in the same run.
4. ``imagestudio remove-bg DIR --out OUT`` in a subprocess, start-up included, per image.

Every figure is a median (or a total divided by the number of images) per 1024^2 image; the load average
is printed before and after, because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from scenes import FAMILIES, OBJECTS, make_scene  # noqa: E402

from imagestudio_nb.imaging.background import (  # noqa: E402
    encode_cutout, predict_mattes, remove_background, remove_background_batch, segmentation,
)
from imagestudio_nb.imaging.codec import decode_image, encode_image  # noqa: E402


def load():
    return "load average %.1f %.1f %.1f" % os.getloadavg()


def bare_runner():
    session = segmentation.get_session(segmentation.u2netp_model_path())
    mean, std = segmentation.resolve_normalization("imagenet")
    name, first = session.get_inputs()[0].name, session.get_outputs()[0].name

    def run(image):
        tensor = segmentation.prepare_input(image, (320, 320), mean, std)
        t = time.perf_counter()
        session.run([first], {name: tensor})
        return time.perf_counter() - t
    return run


def encoders():
    print("## Encoders (1024x1024 RGBA cut-out, one per family, medians of 3)\n")
    print("| family | Pillow PNG level 6 ms | KB | OpenCV PNG level 1 ms | KB | WebP lossless ms | KB |")
    print("|---|---|---|---|---|---|---|")
    for family in FAMILIES:
        cut = remove_background(make_scene("mug", family, size=1024, seed=0)[0]).image
        cells = []
        for encode in (lambda: encode_image(cut, "png"), lambda: encode_cutout(cut, "png"),
                       lambda: encode_cutout(cut, "webp")):
            times = []
            for _ in range(3):
                t = time.perf_counter()
                data = encode()
                times.append(time.perf_counter() - t)
            cells += [f"{statistics.median(times) * 1000:.0f}", f"{len(data) / 1024:.0f}"]
        print(f"| {family} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n{load()}\n")


def model_batching(repeats: int = 4):
    print("## Model batching (bare U2-Net-p, seconds per image, medians; calls alternate)\n")
    images = [make_scene(obj, "sweep", size=1024, seed=0)[0] for obj in OBJECTS[:4]]
    predict_mattes(images[:2], batch_size=2)  # builds the batch session
    rows = {1: [], 2: [], 4: []}
    for _ in range(repeats):
        for size in rows:
            t = time.perf_counter()
            predict_mattes(images, batch_size=size)
            rows[size].append((time.perf_counter() - t) / len(images))
    print("| images per call | s per image | vs 1 |")
    print("|---|---|---|")
    for size, times in rows.items():
        print(f"| {size} | {statistics.median(times):.3f} | {statistics.median(times) / statistics.median(rows[1]):.2f}x |")
    print(f"\n{load()}\n")


def make_inputs(folder: Path, count: int) -> list[Path]:
    paths = []
    for k in range(count):
        family, obj = FAMILIES[k % len(FAMILIES)], OBJECTS[(k // len(FAMILIES)) % len(OBJECTS)]
        path = folder / f"{k:03d}-{family}-{obj}.jpg"
        path.write_bytes(encode_image(make_scene(obj, family, size=1024, seed=k // 30)[0], "jpeg", quality=92))
        paths.append(path)
    return paths


def sequential_old_way(paths, out: Path):
    """One image after another: decode, remove, Pillow's default PNG (the first version's writing)."""
    for path in paths:
        result = remove_background(decode_image(path.read_bytes()))
        (out / f"{path.stem}.png").write_bytes(encode_image(result.image, "png"))


def run_cli(folder: Path, out: Path, source_tree: str | None = None) -> None:
    env = dict(os.environ)
    if source_tree:  # e.g. the code before this change: git archive <commit> imagestudio_nb | tar -x -C DIR
        env["PYTHONPATH"] = source_tree
    done = subprocess.run([sys.executable, "-c", "from imagestudio_nb.cli import main; main()", "remove-bg",
                           str(folder), "--out", str(out), "--json"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


def batches(paths, work: Path, skip_cli: bool, old_tree: str | None):
    n = len(paths)
    bare = bare_runner()
    images = [decode_image(p.read_bytes()) for p in paths]
    bare(images[0])
    remove_background(images[0])
    print(f"## {n} JPEG files of 1024x1024 (six background families) to PNG cut-outs\n")
    print(f"{load()} before\n")
    ref_before = statistics.median(bare(im) for im in images)
    rows = []
    out = work / "old"
    out.mkdir()
    t = time.perf_counter()
    sequential_old_way(paths, out)
    rows.append(("sequential: decode, remove, Pillow PNG (old way)", (time.perf_counter() - t) / n))
    for label, kwargs in (("remove_background_batch (pipeline, OpenCV PNG level 1)", {}),):
        out = work / f"batch{len(rows)}"
        t = time.perf_counter()
        report = remove_background_batch(paths, out_dir=out, progress=False, **kwargs)
        assert report.ok, report.failed
        rows.append((label, (time.perf_counter() - t) / n))
    if not skip_cli:
        for label, tree in (("CLI `imagestudio remove-bg DIR --out OUT`, start-up included", None),
                            ("the same CLI, code before this change (--old-tree)", old_tree)):
            if label.startswith("the same") and not tree:
                continue
            t = time.perf_counter()
            run_cli(paths[0].parent, work / f"cli{len(rows)}", tree)
            rows.append((label, (time.perf_counter() - t) / n))
    ref_after = statistics.median(bare(im) for im in images)
    ref = (ref_before + ref_after) / 2
    print(f"bare model call, median per image: {ref_before:.3f} s before, {ref_after:.3f} s after\n")
    print("| path | s per image | vs bare model (mean of before/after) |")
    print("|---|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} | {seconds / ref:.2f}x |")
    print(f"\n{load()} after\n")


def cli_ab(paths, work: Path, old_tree: str, rounds: int) -> None:
    """The current and the earlier CLI over the same folder, alternating, with the bare model between."""
    bare = bare_runner()
    images = [decode_image(p.read_bytes()) for p in paths[:5]]
    n = len(paths)
    times = {"current CLI": [], "earlier CLI (--old-tree)": [], "bare model": []}
    print(f"## CLI over {n} files, current and earlier code alternating ({rounds} rounds)\n\n{load()} before\n")
    for r in range(rounds):
        for label, tree in (("current CLI", None), ("earlier CLI (--old-tree)", old_tree)):
            t = time.perf_counter()
            run_cli(paths[0].parent, work / f"ab{r}-{tree is None}", tree)
            times[label].append((time.perf_counter() - t) / n)
            times["bare model"].append(statistics.median(bare(im) for im in images))
    ref = statistics.median(times["bare model"])
    print("| path | s per image, per round | median | vs bare model |")
    print("|---|---|---|---|")
    for label, values in times.items():
        cells = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {label} | {cells} | {statistics.median(values):.3f} | {statistics.median(values) / ref:.2f}x |")
    print(f"\n{load()} after\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--old-tree", help="a folder holding the previous imagestudio_nb, run as the CLI's reference")
    parser.add_argument("--only", choices=["encoders", "batching", "batches", "cli-ab"], default=None)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{load()} at start (2 cores shared with other people's jobs)\n")
    if args.only in (None, "encoders"):
        encoders()
    if args.only in (None, "batching"):
        model_batching()
    if args.only in (None, "batches"):  # noqa: SIM102
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "in").mkdir()
            paths = make_inputs(work / "in", args.images)
            batches(paths, work, args.skip_cli, args.old_tree)
    if args.only == "cli-ab":
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "in").mkdir()
            cli_ab(make_inputs(work / "in", args.images), work, args.old_tree, args.rounds)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
