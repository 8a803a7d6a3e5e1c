"""``imagestudio filter`` and ``imagestudio preset``: files, folders with per-file failures, presets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imagestudio_nb.cli import main
from imagestudio_nb.imaging.chains import apply_chain
from imagestudio_nb.imaging.codec import decode_image, encode_image
from imagestudio_nb.imaging.filters import filter_names
from imagestudio_nb.imaging.presets import get_preset

IMAGESTUDIO = Path(sys.executable).with_name("imagestudio")
CHAIN = [
    {"filter": "contrast", "params": {"amount": 0.3}},
    {"filter": "gaussian_blur", "params": {"sigma": 1.0}},
]


def picture(seed: int = 0, alpha: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (24, 32, 4 if alpha else 3), dtype=np.uint8)


def write(path: Path, image: np.ndarray, fmt: str = "png") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_image(image, fmt))
    return path


@pytest.fixture
def presets_dir(tmp_path, monkeypatch):
    folder = tmp_path / "presets"
    monkeypatch.setenv("IMAGESTUDIO_PRESETS_DIR", str(folder))
    return folder


def test_filter_a_file_with_a_json_chain(tmp_path, presets_dir, capsys):
    src = write(tmp_path / "in.png", picture(alpha=True))
    assert main(["filter", str(src), str(tmp_path / "out.png"), "--chain", json.dumps(CHAIN)]) == 0
    out = decode_image((tmp_path / "out.png").read_bytes())
    np.testing.assert_array_equal(out, apply_chain(picture(alpha=True), CHAIN))
    assert "ok" in capsys.readouterr().out


def test_filter_with_a_preset_name_or_a_json_file(tmp_path, presets_dir):
    src = write(tmp_path / "in.png", picture())
    assert main(["filter", str(src), str(tmp_path / "v.png"), "--chain", "vintage"]) == 0
    expected = apply_chain(picture(), get_preset("Vintage")["chain"])
    np.testing.assert_array_equal(decode_image((tmp_path / "v.png").read_bytes()), expected)
    chain_file = tmp_path / "chain.json"
    chain_file.write_text(json.dumps({"name": "Mine", "chain": CHAIN}))
    assert main(["filter", "apply", str(src), str(tmp_path / "c.jpg"), "-c", str(chain_file)]) == 0
    assert (tmp_path / "c.jpg").read_bytes()[:3] == b"\xff\xd8\xff"


def test_filter_a_folder_reports_each_failure_and_exits_non_zero(tmp_path, presets_dir, capsys):
    src = tmp_path / "in"
    for i in range(3):
        write(src / f"img{i}.png", picture(i))
    write(src / "photo.jpg", picture(9), "jpeg")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (src / "notes.txt").write_text("ignored")
    out = tmp_path / "out"
    code = main(["filter", str(src), str(out), "--chain", "B&W"])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.png" in captured.err and "ImageDecodeError" not in captured.out
    assert "4 written, 1 failed" in captured.out
    assert sorted(p.name for p in out.iterdir()) == ["img0.png", "img1.png", "img2.png", "photo.jpg"]
    grey = decode_image((out / "img1.png").read_bytes())
    assert (grey[..., 0] == grey[..., 2]).all()


def test_filter_a_folder_as_json_with_format_and_recursion(tmp_path, presets_dir, capsys):
    src = tmp_path / "in"
    write(src / "a.png", picture(1))
    write(src / "sub" / "b.png", picture(2))
    assert (
        main(["filter", str(src), str(tmp_path / "out"), "-c", "Bright", "--format", "webp", "-r", "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["succeeded"] == 2 and report["failed"] == 0
    assert (tmp_path / "out" / "a.webp").exists() and (tmp_path / "out" / "sub" / "b.webp").exists()
    assert not [p for p in (tmp_path / "out").rglob("*.tmp")]


@pytest.mark.parametrize(
    "chain, code, message",
    [
        ("Sparkly", 3, "not a preset, JSON text or a .json file; presets: B&W, Bright"),
        ('[{"filter": "contrast", "params": {"amount": 7}}]', 2, "contrast.amount=7.*-1..1"),
        ('[{"filter": "glitter"}]', 2, "filter='glitter'.*gaussian_blur"),
        ("missing.json", 3, "does not exist"),
    ],
)
def test_bad_chains_fail_in_one_line_with_the_allowed_values(
    tmp_path, presets_dir, capsys, chain, code, message
):
    src = write(tmp_path / "in.png", picture())
    assert main(["filter", str(src), str(tmp_path / "out.png"), "--chain", chain]) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert re.search(message, err), err
    assert not (tmp_path / "out.png").exists()


def test_unsupported_output_suffix_is_refused(tmp_path, presets_dir, capsys):
    src = write(tmp_path / "in.png", picture())
    assert main(["filter", str(src), str(tmp_path / "out.bmp"), "-c", "Bright"]) == 2
    assert ".jpeg, .jpg, .png, .webp" in capsys.readouterr().err


def test_filter_list_gives_the_registry(capsys):
    assert main(["filter", "list", "--json"]) == 0
    schemas = json.loads(capsys.readouterr().out)
    assert sorted(s["name"] for s in schemas) == filter_names()
    assert main(["filter", "list", "--category", "vintage"]) == 0
    assert "film_grain" in capsys.readouterr().out


def test_preset_commands_round_trip(tmp_path, presets_dir, capsys):
    assert main(["preset", "save", "Crisp", "--chain", json.dumps(CHAIN), "--description", "sharp"]) == 0
    assert "saved preset 'Crisp'" in capsys.readouterr().out
    assert main(["preset", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"name": "Crisp", "description": "sharp", "source": "user", "steps": 2} in listed
    assert main(["preset", "show", "crisp"]) == 0
    assert json.loads(capsys.readouterr().out)["chain"][0]["params"] == {"amount": 0.3}
    exported = tmp_path / "exported.json"
    assert main(["preset", "export", "Crisp", str(exported)]) == 0
    assert main(["preset", "import", str(exported), "--name", "Crisp Copy"]) == 0
    assert main(["preset", "import", str(exported)]) == 2  # the name is taken
    assert "overwrite" in capsys.readouterr().err
    assert main(["preset", "delete", "Crisp"]) == 0
    assert sorted(p.name for p in presets_dir.iterdir()) == ["crisp_copy.json"]
    assert main(["preset", "show", "Crisp"]) == 3


def test_installed_command_filters_a_file(tmp_path, presets_dir):
    src = write(tmp_path / "in.png", picture())
    result = subprocess.run(
        [str(IMAGESTUDIO), "filter", str(src), str(tmp_path / "out.png"), "--chain", "Dramatic"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(
        decode_image((tmp_path / "out.png").read_bytes()),
        apply_chain(picture(), get_preset("Dramatic")["chain"]),
    )


def test_filter_output_follows_the_umask(tmp_path):
    import subprocess
    import sys

    import numpy as np

    from imagestudio_nb.imaging.codec import encode_image

    source = tmp_path / "in.png"
    source.write_bytes(encode_image(np.full((8, 8, 3), 128, np.uint8), "png"))
    modes = {}
    for umask in (0o022, 0o077):
        target = tmp_path / f"out-{umask:o}.png"
        script = (f"import os, sys; os.umask({umask}); from imagestudio_nb.cli import main; "
                  f"sys.exit(main(['filter', {str(source)!r}, {str(target)!r}, '--chain', 'Cinematic']))")
        subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
        modes[umask] = target.stat().st_mode & 0o777
    assert modes == {0o022: 0o644, 0o077: 0o600}
