"""`imagestudio enhance`, `imagestudio templates ...` and `imagestudio styles ...`."""

from __future__ import annotations

import json
import os

from imagestudio_nb.cli import main
from imagestudio_nb.config import write_config_file
from tests.standin.server import API_KEY


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_enhance_prints_the_prompt_changes_and_scores(capsys):
    code, out, _ = run(capsys, "enhance", "a cat on a windowsill", "--style", "watercolor", "--engine", "local",
                       "--score")
    assert code == 0
    assert out.splitlines()[0].startswith("a cat on a windowsill, watercolor painting")
    assert "+ medium: watercolor painting" in out
    assert "suggested filters (watercolor): gaussian_blur, saturation, brightness" in out
    assert "score: " in out and "lighting" in out


def test_enhance_json_is_machine_readable(capsys):
    code, out, _ = run(capsys, "enhance", "a cat", "--engine", "local", "--score", "--json")
    data = json.loads(out)
    assert code == 0 and data["engine"] == "local"
    assert data["score"]["after"]["total"] > data["score"]["before"]["total"]
    assert data["filters"] and data["alternatives"]


def test_enhance_errors_are_one_line_with_exit_codes(capsys):
    code, _, err = run(capsys, "enhance", "a cat", "--style", "nope")
    assert code == 2 and err.count("\n") == 1 and "allowed: general" in err
    code, _, err = run(capsys, "enhance", "a cat", "--engine", "llm")
    assert code == 4 and "chat_deployment" in err


def test_enhance_uses_the_configured_chat_deployment(capsys, azure_standin):
    write_config_file({"chat_deployment": "gpt-4o-mini", "endpoints": [{
        "name": "standin", "base_url": azure_standin.url, "api_version": "2024-10-21", "api_key": API_KEY,
        "deployments": [{"name": "gpt-4o-mini", "model": "gpt-4o-mini"}]}]})
    assert os.environ["IMAGESTUDIO_CONFIG"].endswith("config.toml")
    code, out, _ = run(capsys, "enhance", "a fox", "--json")
    data = json.loads(out)
    assert code == 0 and data["engine"] == "llm" and data["prompt"] == "a fox, enhanced by the stand-in"
    assert API_KEY not in out


def test_templates_list_show_render_save_delete(capsys, tmp_path):
    code, out, _ = run(capsys, "templates", "list", "--json")
    assert code == 0 and "product_shot" in {t["name"] for t in json.loads(out)}
    code, out, _ = run(capsys, "templates", "show", "portrait")
    assert code == 0 and "{person}" in out and "example:" in out
    code, out, _ = run(capsys, "templates", "render", "logo", "--var", "brand=a tea shop called Leaf")
    assert code == 0 and out.startswith("flat vector logo for a tea shop called Leaf")
    code, _, err = run(capsys, "templates", "render", "logo")
    assert code == 2 and "brand" in err
    code, _, err = run(capsys, "templates", "render", "logo", "--var", "brand")
    assert code == 2 and "name=value" in err
    folder = str(tmp_path / "mine")
    code, out, _ = run(capsys, "templates", "save", "pet", "a portrait of {pet}", "--folder", folder)
    assert code == 0 and "pet.toml" in out
    code, out, _ = run(capsys, "templates", "render", "pet", "-v", "pet=a pug", "--folder", folder)
    assert out.strip() == "a portrait of a pug"
    code, _, _ = run(capsys, "templates", "delete", "pet", "--folder", folder)
    assert code == 0
    code, _, err = run(capsys, "templates", "show", "pet", "--folder", folder)
    assert code == 3 and "no template called 'pet'" in err


def test_user_templates_default_to_the_config_folder(capsys):
    code, out, _ = run(capsys, "templates", "save", "mine", "a {thing} in a box")
    assert code == 0
    config_dir = os.path.dirname(os.environ["IMAGESTUDIO_CONFIG"])
    assert os.path.exists(os.path.join(config_dir, "templates", "mine.toml"))


def test_styles_list_and_show(capsys):
    code, out, _ = run(capsys, "styles", "list", "--json")
    names = [s["name"] for s in json.loads(out)]
    assert code == 0 and {"photographic", "watercolor", "anime", "isometric", "pixel_art"} <= set(names)
    code, out, _ = run(capsys, "styles", "show", "pixel art")
    assert code == 0 and "filter: posterize" in out and "clashes with:" in out
