"""Presets: built-ins are valid and distinct; user presets save, list, export, import, refuse bad data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from imagestudio_nb.errors import DataError, InvalidArgumentError, NotFoundError
from imagestudio_nb.imaging.chains import apply_chain
from imagestudio_nb.imaging.presets import (
    default_user_dir,
    delete_preset,
    export_preset,
    get_preset,
    import_preset,
    list_presets,
    save_preset,
)

SOFT = [
    {"filter": "gaussian_blur", "params": {"sigma": 1.5}},
    {"filter": "brightness", "params": {"amount": 0.05}},
]


def test_builtin_presets_include_the_issues_names_and_all_apply(tmp_path):
    presets = list_presets(tmp_path)
    names = {p["name"] for p in presets}
    assert {"Bright", "Dramatic", "Vintage", "B&W", "Cinematic"} <= names and len(names) >= 8
    assert all(p["source"] == "builtin" and p["description"] and p["steps"] >= 2 for p in presets)
    img = np.random.default_rng(0).integers(0, 256, (32, 40, 4), dtype=np.uint8)
    results = []
    for name in sorted(names):
        out = apply_chain(img, get_preset(name, tmp_path)["chain"])
        assert out.shape == img.shape and (out[..., 3] == img[..., 3]).all()
        assert not np.array_equal(out, img), name
        results.append(out)
    assert len({r.tobytes() for r in results}) == len(results)  # every preset looks different


def test_bw_preset_is_grey():
    img = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out = apply_chain(img, get_preset("b&w", user_dir="/nonexistent")["chain"])
    # film grain is monochrome, so the channels stay equal
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_save_list_get_and_delete_a_user_preset(tmp_path):
    path = save_preset("Soft Focus", SOFT, description="dreamy", user_dir=tmp_path)
    assert path == tmp_path / "soft_focus.json"
    stored = json.loads(path.read_text())
    assert stored["name"] == "Soft Focus" and stored["chain"][0]["params"]["sigma"] == 1.5
    listed = [p for p in list_presets(tmp_path) if p["source"] == "user"]
    assert listed == [{"name": "Soft Focus", "description": "dreamy", "source": "user", "steps": 2}]
    assert get_preset("soft focus", tmp_path)["chain"][1]["params"] == {"amount": 0.05}
    delete_preset("Soft Focus", tmp_path)
    assert not path.exists()
    with pytest.raises(NotFoundError, match="no preset named 'Soft Focus'; presets: Bright|B&W"):
        get_preset("Soft Focus", tmp_path)


def test_saving_refuses_taken_names_unless_overwriting(tmp_path):
    save_preset("Mine", SOFT, user_dir=tmp_path)
    with pytest.raises(InvalidArgumentError, match="overwrite=True"):
        save_preset("mine", SOFT[:1], user_dir=tmp_path)
    save_preset("Mine", SOFT[:1], user_dir=tmp_path, overwrite=True)
    assert len(get_preset("Mine", tmp_path)["chain"]) == 1
    with pytest.raises(InvalidArgumentError, match="built-in"):
        save_preset("Vintage", SOFT, user_dir=tmp_path)
    with pytest.raises(InvalidArgumentError, match="built-in"):
        delete_preset("Vintage", tmp_path)
    with pytest.raises(InvalidArgumentError, match="preset name"):
        save_preset("../evil", SOFT, user_dir=tmp_path)


def test_saving_validates_the_chain(tmp_path):
    with pytest.raises(InvalidArgumentError, match="filter='nope'"):
        save_preset("Bad", [{"filter": "nope"}], user_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_export_then_import_round_trips(tmp_path):
    exported = export_preset("Cinematic", tmp_path / "out" / "cine.json", user_dir=tmp_path / "user")
    data = json.loads(exported.read_text())
    assert data["name"] == "Cinematic" and data["chain"] == get_preset("Cinematic")["chain"]
    imported = import_preset(exported, user_dir=tmp_path / "user", name="My Cinema")
    assert imported["source"] == "user" and imported["chain"] == data["chain"]
    assert [p["name"] for p in list_presets(tmp_path / "user") if p["source"] == "user"] == ["My Cinema"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"chain": []}', "not a preset"),
        ('{"name": "X", "chain": [{"filter": "contrast", "params": {"amount": 9}}]}', "invalid chain.*-1..1"),
        ("[1, 2]", "not a preset"),
    ],
)
def test_import_refuses_bad_files(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(DataError, match=message):
        import_preset(bad, user_dir=tmp_path / "user")
    assert not (tmp_path / "user").exists()


def test_import_refuses_oversized_and_missing_files(tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"name": "Big", "description": "x" * 300_000, "chain": []}))
    with pytest.raises(DataError, match="larger than"):
        import_preset(big, user_dir=tmp_path / "user")
    with pytest.raises(NotFoundError, match="does not exist"):
        import_preset(tmp_path / "missing.json", user_dir=tmp_path / "user")


def test_a_corrupt_user_file_does_not_hide_the_others(tmp_path):
    save_preset("Good", SOFT, user_dir=tmp_path)
    (tmp_path / "broken.json").write_text("{")
    with pytest.warns(UserWarning, match="skipping user preset"):
        names = [p["name"] for p in list_presets(tmp_path) if p["source"] == "user"]
    assert names == ["Good"]


def test_default_user_dir_is_under_the_user_config_folder():
    path = default_user_dir()
    assert path.parts[-2:] == ("imagestudio", "presets")
