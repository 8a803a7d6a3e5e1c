"""Filter chains and background removal over folders on a real two-worker Dask cluster."""

from __future__ import annotations

import numpy as np
import pytest
from distributed import get_task_stream

from imagestudio_nb.filter_batch import filter_folder
from imagestudio_nb.imaging.chains import apply_chain
from imagestudio_nb.imaging.codec import decode_image, encode_image

pytestmark = pytest.mark.slow

CHAIN = [{"filter": "brightness", "params": {"amount": 0.1}}, {"filter": "gaussian_blur", "params": {"sigma": 2.0}}]


def write_images(folder, count: int) -> list[np.ndarray]:
    folder.mkdir()
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(count)]
    for k, image in enumerate(images):
        (folder / f"img-{k:02d}.png").write_bytes(encode_image(image, "png"))
    return images


def test_a_filter_chain_over_a_folder_on_the_cluster_equals_the_reference(cluster, tmp_path):
    images = write_images(tmp_path / "in", 12)
    (tmp_path / "in" / "img-99.png").write_bytes(b"\x89PNG broken")  # one bad file among good ones

    with get_task_stream(client=cluster) as tasks:
        done = filter_folder(tmp_path / "in", tmp_path / "out", CHAIN, executor=cluster, progress=False)

    assert [item.ok for item in done] == [True] * 12 + [False]
    assert done[-1].error_type == "ImageDecodeError"
    for k, image in enumerate(images):  # every worker's output is the reference renderer's, pixel for pixel
        written = decode_image((tmp_path / "out" / f"img-{k:02d}.png").read_bytes())
        assert np.array_equal(written, apply_chain(image, CHAIN))
    assert not list((tmp_path / "out").glob(".*.part"))  # nothing half-written
    assert len({task["worker"] for task in tasks.data}) == 2  # both workers filtered


def test_background_removal_over_a_folder_on_the_cluster(cluster, tmp_path):
    from imagestudio_nb.imaging.background.batch import remove_background_batch

    folder = tmp_path / "products"
    folder.mkdir()
    for k in range(4):
        image = np.full((96, 96, 3), 240, np.uint8)
        image[20 + k:70, 25:75] = (30, 60 + 20 * k, 200)
        (folder / f"p{k}.png").write_bytes(encode_image(image, "png"))

    report = remove_background_batch(folder, out_dir=tmp_path / "cut", executor=cluster.get_executor(),
                                     progress=False, method="classical")

    assert report.ok and len(report) == 4
    cut = decode_image((tmp_path / "cut" / "p0.png").read_bytes())
    assert cut.shape == (96, 96, 4) and cut[45, 50, 3] > 200 and cut[5, 5, 3] < 50
