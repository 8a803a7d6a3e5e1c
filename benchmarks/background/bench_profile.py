"""Per-stage profile of ``remove_background`` per background family, beside the bare model call.

Run: ``.venv/bin/python benchmarks/background/bench_profile.py [--repeats 2] [--seed 0] [--before DIR]``

With ``--before DIR`` (a folder holding a package ``imagestudio_before`` made of an earlier commit's
``imaging/`` and ``errors.py``, see RESULTS.md) the earlier ``remove_background`` runs beside the current one
on every image, so before and after see the same load.

For every family (white, solid, gradient, sweep, textured, photo) the five objects of ``scenes.py`` at
1024x1024 go through ``remove_background`` with its stages timed: network (resize, model, upsampling),
guided filter, plate fit, fusion (without the plate fit), foreground estimate, the rest (checks, cut-out
assembly); then the cut-out is encoded as PNG by Pillow's default (level 6) and by OpenCV at level 1.
The bare model call (``session.run`` on a prepared tensor) alternates with every call, so both medians see
the same load. Stages are timed by wrapping the module functions ``remove_background`` calls, so a stage
the code skips shows as 0. Figures are medians per 1024^2 image, in milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scenes import FAMILIES, OBJECTS, make_scene  # noqa: E402

from imagestudio_nb.imaging.background import fusion, refine, removal, segmentation  # noqa: E402
from imagestudio_nb.imaging.background.writing import encode_cutout  # noqa: E402
from imagestudio_nb.imaging.codec import encode_image  # noqa: E402

#: (stage label, module, attribute) of the functions timed; the plate fit is inside the fusion call.
STAGES = [
    ("network", segmentation, "predict_matte"),
    ("guided", refine, "refine_guided"),
    ("plate fit", fusion, "fit_plate"),
    ("fusion", fusion, "studio_matte"),
    ("foreground", refine, "estimate_foreground"),
]


@contextlib.contextmanager
def timed_stages(record: dict[str, float]):
    """Wrap the stage functions so each call adds its seconds to ``record[label]``."""
    originals = []
    for label, module, attr in STAGES:
        if not hasattr(module, attr):
            continue
        original = getattr(module, attr)
        originals.append((module, attr, original))

        def wrapper(*args, _label=label, _original=original, **kwargs):
            t = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                record[_label] = record.get(_label, 0.0) + time.perf_counter() - t

        setattr(module, attr, wrapper)
    try:
        yield
    finally:
        for module, attr, original in originals:
            setattr(module, attr, original)


def bare_model(image):
    """A function running the bare U2-Net-p call on ``image``'s prepared tensor (the reference)."""
    session = segmentation.get_session(segmentation.u2netp_model_path())
    mean, std = segmentation.resolve_normalization("imagenet")
    tensor = segmentation.prepare_input(image, (320, 320), mean, std)
    name, first = session.get_inputs()[0].name, session.get_outputs()[0].name
    return lambda: session.run([first], {name: tensor})


def profile(repeats: int, seed: int, before_dir: str | None = None) -> None:
    before = None
    if before_dir:
        sys.path.insert(0, before_dir)
        from imagestudio_before.imaging.background.removal import remove_background as before
    print(f"load average before: {os.getloadavg()}")
    columns = ["total", "bare model", "network", "guided", "plate fit", "fusion", "foreground", "rest",
               "PNG Pillow-6", "PNG cv2-1", "fused"]
    if before is not None:
        columns.insert(1, "before: total")
    print("\n| family | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    warm = make_scene("bottle", "white", size=1024, seed=seed)[0]
    removal.remove_background(warm)
    if before is not None:
        before(warm)
    for family in FAMILIES:
        rows: dict[str, list[float]] = {c: [] for c in columns}
        for obj in OBJECTS:
            image = make_scene(obj, family, size=1024, seed=seed)[0]
            bare = bare_model(image)
            for _ in range(repeats):
                record: dict[str, float] = {}
                with timed_stages(record):
                    t = time.perf_counter()
                    result = removal.remove_background(image)
                    total = time.perf_counter() - t
                t = time.perf_counter()
                bare()
                rows["bare model"].append(time.perf_counter() - t)
                if before is not None:
                    t = time.perf_counter()
                    before(image)
                    rows["before: total"].append(time.perf_counter() - t)
                t = time.perf_counter()
                encode_image(result.image, "png")
                rows["PNG Pillow-6"].append(time.perf_counter() - t)
                t = time.perf_counter()
                encode_cutout(result.image, "png")
                rows["PNG cv2-1"].append(time.perf_counter() - t)
                fusion_only = record.get("fusion", 0.0) - record.get("plate fit", 0.0)
                stages = {"network": record.get("network", 0.0), "guided": record.get("guided", 0.0),
                          "plate fit": record.get("plate fit", 0.0), "fusion": fusion_only,
                          "foreground": record.get("foreground", 0.0)}
                rows["total"].append(total)
                rows["rest"].append(total - sum(stages.values()))
                for key, value in stages.items():
                    rows[key].append(value)
                rows["fused"].append(1.0 if "plate" in result.method else 0.0)
        cells = [f"{statistics.median(rows[c]) * 1000:.1f}" for c in columns[:-1]]
        cells.append(f"{sum(rows['fused']) / len(rows['fused']):.0%}")
        print(f"| {family} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nload average after: {os.getloadavg()}  (milliseconds, medians over {len(OBJECTS)} objects x "
          f"{repeats} repeats per family; 'fusion' excludes the plate fit; 'fused' = share of calls fused)")


def after_network(repeats: int, seed: int, before_dir: str) -> None:
    """Everything ``remove_background`` does besides the network, before against after, on the same coarse
    mattes: each version's model call is replaced by the matte computed once, and the two versions alternate.
    Wall and CPU (process) time: on a loaded machine CPU time is the steadier of the two."""
    sys.path.insert(0, before_dir)
    from imagestudio_before.imaging.background import removal as old_removal
    from imagestudio_before.imaging.background import segmentation as old_segmentation

    print(f"load average before: {os.getloadavg()}")
    print("\n| family | before: wall ms | after: wall ms | before: CPU ms | after: CPU ms | after/before (CPU) |")
    print("|---|---|---|---|---|---|")
    saved = (segmentation.predict_matte, old_segmentation.predict_matte)
    try:
        for family in FAMILIES:
            rows = {"old wall": [], "new wall": [], "old cpu": [], "new cpu": []}
            for obj in OBJECTS:
                image = make_scene(obj, family, size=1024, seed=seed)[0]
                coarse = saved[0](image)
                segmentation.predict_matte = old_segmentation.predict_matte = lambda rgb, **_: coarse.copy()
                for _ in range(repeats):
                    for label, run in (("old", old_removal.remove_background), ("new", removal.remove_background)):
                        wall, cpu = time.perf_counter(), time.process_time()
                        run(image)
                        rows[f"{label} cpu"].append(time.process_time() - cpu)
                        rows[f"{label} wall"].append(time.perf_counter() - wall)
                segmentation.predict_matte, old_segmentation.predict_matte = saved
            m = {k: statistics.median(v) * 1000 for k, v in rows.items()}
            print(f"| {family} | {m['old wall']:.1f} | {m['new wall']:.1f} | {m['old cpu']:.1f} | {m['new cpu']:.1f} "
                  f"| {m['new cpu'] / m['old cpu']:.2f} |", flush=True)
    finally:
        segmentation.predict_matte, old_segmentation.predict_matte = saved
    print(f"\nload average after: {os.getloadavg()} (medians over {len(OBJECTS)} objects x {repeats} repeats)")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before", help="folder holding the earlier code as the package imagestudio_before")
    parser.add_argument("--after-network", action="store_true",
                        help="with --before: only the work besides the network, before against after")
    args = parser.parse_args()
    if args.after_network:
        after_network(args.repeats, args.seed, args.before)
    else:
        profile(args.repeats, args.seed, args.before)


if __name__ == "__main__":
    main()
