"""``imagestudio remove-bg`` run as a person runs it: a subprocess, real files, a real full disk and a real
Dask cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from imagestudio_nb.imaging.codec import decode_image, encode_image

CLI = [sys.executable, "-c", "from imagestudio_nb.cli import main; main()"]


def run_cli(*args, cwd=None):
    return subprocess.run([*CLI, "remove-bg", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={**os.environ, "IMAGESTUDIO_ORT_THREADS": "1"})


@pytest.fixture
def shots(tmp_path, scene):
    folder = tmp_path / "shots"
    folder.mkdir()
    for k, kind in enumerate(["bottle", "mug"]):
        image = scene(kind, "white", seed=k)[0]
        (folder / f"{kind}.jpg").write_bytes(encode_image(image, "jpeg", quality=92))
    return folder


def test_writes_cutouts_beside_inputs_by_default(shots):
    done = run_cli(shots)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in shots.iterdir()) == ["bottle.cutout.png", "bottle.jpg", "mug.cutout.png",
                                                       "mug.jpg"]
    assert "2 written, 0 failed" in done.stdout
    cut = decode_image((shots / "mug.cutout.png").read_bytes())
    assert cut.shape[2] == 4 and cut[..., 3].min() == 0 and cut[..., 3].max() == 255
    again = run_cli(shots, "--json")  # a second run skips its own outputs and overwrites only them
    data = json.loads(again.stdout)
    assert again.returncode == 0 and data["succeeded"] == 2 and data["warnings"] == []


def test_out_folder_still_works_and_webp_is_an_option(shots, tmp_path):
    done = run_cli(shots / "bottle.jpg", "--out", tmp_path / "o", "--format", "webp")
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["bottle.webp"]
    assert decode_image((tmp_path / "o" / "bottle.webp").read_bytes()).shape[2] == 4


def test_bad_inputs_exit_6_with_a_line_per_item(shots):
    (shots / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    done = run_cli(shots, shots / "missing.jpg")
    assert done.returncode == 6, done.stderr
    assert "2 written, 2 failed" in done.stdout
    # the per-item report (the progress bar writes "failed:" lines of its own)
    lines = [line for line in done.stderr.splitlines() if line.startswith("failed  ")]
    assert len(lines) == 2
    assert any("broken.png" in x for x in lines) and any("missing.jpg" in x for x in lines)
    assert "error (DataError): 2 of 4 images failed" in done.stderr and "Traceback" not in done.stderr
    assert not (shots / "broken.cutout.png").exists()


@pytest.fixture
def full_disk(tmp_path):
    """A small tmpfs filled up to its last byte by a filler file: every write into it fails with ENOSPC."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 1024)
        except OSError:  # ENOSPC: the disk is full
            pass
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_exits_5_and_leaves_no_partial_file(shots, full_disk):
    done = run_cli(shots, "--out", full_disk)
    assert done.returncode == 5, done.stderr
    assert "No space left" in done.stderr and "error (PartialResultError)" in done.stderr
    assert [p.name for p in full_disk.iterdir()] == ["filler"]  # nothing half-written


def test_runs_on_a_dask_cluster(shots, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://", host="127.0.0.1",
                      scheduler_port=0, dashboard_address=":0") as cluster:
        done = run_cli(shots, "--out", tmp_path / "d", "--dask", cluster.scheduler_address, "--json")
        assert done.returncode == 0, done.stderr
        prefixes = set(cluster.scheduler.task_prefixes)
    assert json.loads(done.stdout)["succeeded"] == 2
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["bottle.png", "mug.png"]
    assert "process_one" in prefixes  # the images were processed by the cluster's worker


def test_an_unreachable_dask_scheduler_is_a_one_line_error(shots):
    done = run_cli(shots, "--dask", "tcp://127.0.0.1:9")
    assert done.returncode == 4 and "no Dask scheduler answered" in done.stderr  # as `imagestudio batch --dask`
    assert "Traceback" not in done.stderr and not list(shots.glob("*.cutout.png"))


def test_library_warnings_become_one_line_messages():
    from pymatting.util.util import sanity_check_image

    from imagestudio_nb.cli.remove_bg_cmd import warning_line

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sanity_check_image(np.full((4, 4, 3), 2.0))  # pymatting's own warning about values above 1
    lines = [warning_line(w) for w in caught]
    assert lines and all(line.startswith("warning: ") and "\n" not in line for line in lines)
    assert any("image.max() is 2.0" in line for line in lines)
    long = warnings.WarningMessage("x " * 200, UserWarning, str(Path("site-packages/pymatting/util.py")), 1)
    assert warning_line(long).startswith("warning: edge matting") and len(warning_line(long)) < 220
