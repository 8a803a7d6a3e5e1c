"""Batches over folders and lists on any executor, and the ``imagestudio remove-bg`` command."""

from __future__ import annotations

from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np
import pytest

from imagestudio_nb.errors import UnsupportedParameterError
from imagestudio_nb.imaging.background import remove_background_batch
from imagestudio_nb.imaging.codec import decode_image, encode_image


@pytest.fixture
def folder(tmp_path, scene):
    src = tmp_path / "in"
    src.mkdir()
    for k, kind in enumerate(["bottle", "box"]):
        image, _ = scene(kind, "white", seed=k)
        (src / f"{kind}.jpg").write_bytes(encode_image(image, "jpeg", quality=95))
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # a truncated PNG
    (src / "notes.txt").write_text("not an image")
    return src


def test_folder_batch_writes_outputs_and_reports_the_failure(folder, tmp_path):
    out = tmp_path / "out"
    report = remove_background_batch(folder, out_dir=out, progress=False)
    assert [i.name for i in report] == ["bottle", "box", "broken"]  # sorted, images only
    assert [i.ok for i in report] == [True, True, False]
    assert report.failed[0].error_type == "ImageDecodeError" and "PNG" in report.failed[0].error
    assert sorted(p.name for p in out.iterdir()) == ["bottle.png", "box.png"]  # no partial files
    decoded = decode_image((out / "bottle.png").read_bytes())
    assert decoded.shape[2] == 4 and decoded[..., 3].min() == 0 and decoded[..., 3].max() == 255


def test_webp_output_keeps_alpha(folder, tmp_path):
    report = remove_background_batch([folder / "box.jpg"], out_dir=tmp_path / "w", format="webp", progress=False)
    assert report.ok and report.items[0].output.endswith("box.webp")
    decoded = decode_image(open(report.items[0].output, "rb").read())
    assert decoded.shape[2] == 4 and decoded[..., 3].min() == 0


def test_list_of_arrays_in_memory_keeps_results_in_order(scene):
    images = [scene(kind, "gradient")[0] for kind in ("bottle", "box", "mug")]
    report = remove_background_batch(images + [np.zeros((3, 3), np.uint8)], progress=False, refine=None)
    assert [i.name for i in report] == ["image-0001", "image-0002", "image-0003", "image-0004"]
    assert [i.ok for i in report] == [True, True, True, False]
    for item, image in zip(report.items[:3], images):
        assert item.result.image.shape == (*image.shape[:2], 4) and item.output is None
        assert item.result.params["refine"] is None


class CountingExecutor(Executor):
    """Runs inline and counts submissions: any Executor must do."""

    def __init__(self):
        self.calls = 0

    def submit(self, fn, /, *args, **kwargs):
        self.calls += 1
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def test_any_executor_is_used(scene):
    executor = CountingExecutor()
    report = remove_background_batch([scene()[0], scene("mug")[0]], executor=executor, progress=False)
    assert executor.calls == 2 and report.ok
    with ThreadPoolExecutor(1) as pool:
        assert remove_background_batch([scene()[0]], executor=pool, progress=False).ok


def test_duplicate_output_names_fail_instead_of_overwriting(tmp_path, scene):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    image = encode_image(scene()[0], "png")
    (a / "shot.png").write_bytes(image)
    (b / "shot.png").write_bytes(image)
    report = remove_background_batch([a, b], out_dir=tmp_path / "out", progress=False)
    assert [i.ok for i in report] == [True, False] and "already used" in report.items[1].error


def test_progress_bar_is_shown_on_stderr(scene, capsys):
    remove_background_batch([scene()[0]], progress=True)
    assert "remove background" in capsys.readouterr().err


def test_bad_format_is_refused_before_any_work(folder):
    with pytest.raises(UnsupportedParameterError, match="png, webp"):
        remove_background_batch(folder, out_dir=folder / "x", format="jpeg")


def test_cli_remove_bg_writes_files_and_exits_6_on_a_bad_input(folder, tmp_path, capsys):
    from imagestudio_nb.cli import main

    out = tmp_path / "cli-out"
    code = main(["remove-bg", str(folder / "bottle.jpg"), str(folder / "broken.png"), "--out", str(out),
                 "--format", "webp", "--background", "studio-grey", "--shadow"])
    captured = capsys.readouterr()
    assert code == 6  # the only failure is a corrupt input
    assert sorted(p.name for p in out.iterdir()) == ["bottle.webp"]
    assert "failed" in captured.err and "broken.png" in captured.err
    assert "1 written, 1 failed" in captured.out
    opaque = decode_image((out / "bottle.webp").read_bytes())
    assert opaque.shape[2] == 3 or opaque[..., 3].min() == 255  # a replaced background is opaque


def test_cli_remove_bg_folder_json_and_options(folder, tmp_path, capsys):
    import json

    from imagestudio_nb.cli import main

    (folder / "broken.png").unlink()
    code = main(["remove-bg", str(folder), "--out", str(tmp_path / "o"), "--refine", "none",
                 "--method", "classical", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["succeeded"] == 2 and data["failed"] == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["bottle.png", "box.png"]


def test_cli_remove_bg_refuses_unknown_options(folder, tmp_path, capsys):
    from imagestudio_nb.cli import main

    assert main(["remove-bg", str(folder), "--out", str(tmp_path), "--refine", "sharp"]) == 2
    assert "guided, matting, none" in capsys.readouterr().err
    assert main(["remove-bg", str(folder), "--out", str(tmp_path), "--background", "beach"]) == 2
