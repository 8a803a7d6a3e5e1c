"""The `imagestudio` command: the same functions as notebooks, --json for scripts, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagestudio_nb.project import Project

IMAGESTUDIO = Path(sys.executable).with_name("imagestudio")


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(IMAGESTUDIO), *args], capture_output=True, text=True, env=os.environ.copy(),
                            timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def test_generate_twice_offline_stores_identical_bytes(workspace):
    run("project", "create", "demo")
    first = json.loads(run("generate", "a red fox at dawn", "--seed", "7", "--project", "demo", "--json").stdout)
    second = json.loads(run("generate", "a red fox at dawn", "--seed", "7", "--project", "demo", "--json").stdout)
    assert first["assets"] == second["assets"]
    project = Project.open("demo")
    assert len(project.generations()) == 2
    assert len(project.assets.list()) == 1
    path = project.assets.path(first["assets"][0])
    assert path.read_bytes() == Project.open("demo").assets.read(second["assets"][0])


def test_generate_with_n_writes_files(workspace, tmp_path):
    out = tmp_path / "out"
    result = run("generate", "three pears", "-n", "3", "--size", "256x256", "--seed", "1", "--out", str(out))
    assert len(list(out.iterdir())) == 3
    assert result.stdout.count("seed=") == 3


@pytest.mark.parametrize("args, code, message", [
    (["generate", "x", "--size", "5x5"], 2, "UnsupportedParameterError"),
    (["generate", "x", "--model", "nope"], 3, "UnknownModelError"),
    (["generate", "x", "-n", "50"], 2, "from 1 to 10"),
    (["project", "checkpoints", "missing"], 3, "ProjectNotFoundError"),  # generate --project NEW creates it now
    (["project", "show", "missing"], 3, "ProjectNotFoundError"),
    (["project", "import", "/nonexistent.zip"], 6, "UnsafeArchiveError"),
])
def test_errors_are_one_line_with_documented_exit_codes(workspace, args, code, message):
    result = run(*args, check=False)
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in result.stderr


def test_project_commands_round_trip(workspace, tmp_path):
    run("project", "create", "Trip", "--width", "800", "--height", "600")
    run("generate", "a map", "--project", "Trip", "--seed", "2", "--size", "256x256")
    run("project", "checkpoint", "Trip", "v1", "--note", "first")
    listing = json.loads(run("project", "list", "--json").stdout)
    assert [(p["name"], p["generations"], p["assets"]) for p in listing] == [("Trip", 1, 1)]
    assert json.loads(run("project", "checkpoints", "Trip", "--json").stdout)[0]["note"] == "first"
    run("project", "fork", "Trip", "Trip B")
    assert json.loads(run("project", "show", "Trip B", "--json").stdout)["meta"]["forked_from"]["name"] == "Trip"
    archive = tmp_path / "trip.zip"
    run("project", "export", "Trip", str(archive))
    imported = json.loads(run("project", "import", str(archive), "--name", "Trip C", "--json").stdout)
    assert imported["name"] == "Trip C"
    assert "v1" in run("project", "diff", "Trip", "v1").stdout
    run("project", "restore", "Trip", "v1")
    run("project", "rename", "Trip C", "Trip D")
    run("project", "delete", "Trip D", "--yes")
    assert {p["name"] for p in json.loads(run("project", "list", "--json").stdout)} == {"Trip", "Trip B"}


def test_assets_commands(workspace, tmp_path):
    run("project", "create", "Lib")
    created = json.loads(run("generate", "an owl at night", "--project", "Lib", "--seed", "4", "--size", "256x256",
                             "--json").stdout)
    digest = created["assets"][0]
    run("assets", "tag", "Lib", digest[:10], "bird", "night")
    assert json.loads(run("assets", "list", "Lib", "--tag", "bird", "--json").stdout)[0]["hash"] == digest
    hits = json.loads(run("assets", "search", "Lib", "owl", "--json").stdout)
    assert {h["kind"] for h in hits} == {"generation", "prompt"}
    exported = json.loads(run("assets", "export", "Lib", digest[:12], str(tmp_path), "--json").stdout)
    assert Path(exported["path"]).read_bytes() == Project.open("Lib").assets.read(digest)
    orphan = Project.open("Lib").assets.add(Path(exported["path"]).read_bytes()[:0] or _tiny_png()).hash
    dry = json.loads(run("assets", "clean", "Lib", "--dry-run", "--json").stdout)
    assert [a["hash"] for a in dry["assets"]] == [orphan]
    assert Project.open("Lib").assets.path(orphan).exists()
    run("assets", "clean", "Lib")
    assert [a["hash"] for a in json.loads(run("assets", "list", "Lib", "--json").stdout)] == [digest]


def _tiny_png() -> bytes:
    import numpy as np

    from imagestudio_nb.imaging.codec import encode_image

    return encode_image(np.full((4, 4, 3), 7, np.uint8), "png")


def test_config_commands_mask_secrets(workspace, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://x.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "super-secret-key-42")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENTS", "gpt-image-1=img")
    shown = run("config", "show").stdout + run("config", "show", "--json").stdout
    assert "super-secret-key-42" not in shown and "img -> gpt-image-1" in shown
    assert run("config", "validate").returncode == 0
    monkeypatch.delenv("AZURE_OPENAI_API_KEY")
    invalid = run("config", "validate", check=False)
    assert invalid.returncode == 4 and "AZURE_OPENAI_API_KEY" in invalid.stdout
    run("config", "init")
    assert run("config", "init", check=False).returncode == 4
