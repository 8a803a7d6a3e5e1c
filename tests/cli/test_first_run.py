"""A first run of `imagestudio` as a new user meets it, through subprocesses: --version, help without
internal type labels, generate storing into a project it creates (or the default one) and saying where,
messages naming CLI commands, `assets export --all`, and library warnings as our own one-line notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from imagestudio_nb.project import Project

IMAGESTUDIO = Path(sys.executable).with_name("imagestudio")


def run(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(IMAGESTUDIO), *args], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "100", **(env or {})}, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def test_version_prints_the_installed_version():
    from importlib.metadata import version

    assert run("--version").stdout.strip() == f"imagestudio {version('imagestudio_nb')}"


def test_help_has_no_internal_type_labels():
    for args in (["--help"], ["generate", "--help"], ["assets", "export", "--help"], ["project", "create", "--help"]):
        text = run(*args).stdout
        assert "<bool>" not in text and "<str>" not in text and "<int>" not in text, (args, text)
        assert "{" not in text.split("\n", 3)[1] + text.split("Usage:")[1].split("\n")[0], (args, text)
    usage = run("generate", "--help").stdout
    assert "generate [OPTIONS] PROMPT" in usage and "--version" in run("--help").stdout


def test_generate_into_a_new_project_creates_it_and_says_so(workspace):
    result = run("generate", "a red kite", "--project", "Kites", "--size", "256x256", "--seed", "2")
    assert "created project 'Kites'" in result.stdout and str(workspace) in result.stdout
    assert "imagestudio project show Kites" in result.stdout and "Project.create" not in result.stdout + result.stderr
    assert len(Project.open("Kites").generations()) == 1
    # The second time the project exists: nothing is created, the result is added.
    again = run("generate", "a blue kite", "--project", "Kites", "--size", "256x256", "--seed", "3")
    assert "created project" not in again.stdout and len(Project.open("Kites").generations()) == 2


def test_generate_without_a_project_stores_in_the_default_project_and_prints_where(workspace):
    summary = json.loads(run("generate", "a green hill", "--size", "256x256", "--seed", "4", "--json").stdout)
    assert summary["project"] == "Default" and summary["created_project"] is True
    assert Path(summary["project_path"]) == workspace / "Default"
    stored = Project.open("Default")
    assert [a.hash for a in stored.assets.list()] == summary["assets"]
    text = run("generate", "a grey hill", "--size", "256x256", "--seed", "5").stdout
    assert "stored in project 'Default'" in text and str(workspace / "Default") in text


def test_assets_export_all_and_several_hashes(workspace, tmp_path):
    first = json.loads(run("generate", "one", "--project", "Lib", "--size", "256x256", "--seed", "1", "--json").stdout)
    second = json.loads(run("generate", "two", "--project", "Lib", "--size", "256x256", "--seed", "9", "--json").stdout)
    hashes = first["assets"] + second["assets"]
    result = run("assets", "export", "Lib", str(tmp_path / "all"), "--all")
    assert sorted(p.stem for p in (tmp_path / "all").iterdir()) == sorted(hashes)
    assert "exported 2 assets" in result.stdout
    exported = json.loads(run("assets", "export", "Lib", hashes[0][:12], hashes[1][:12], str(tmp_path / "two"),
                              "--json").stdout)
    assert len(exported["paths"]) == 2
    # Without a hash and without --all: a one-line error naming the CLI commands to use.
    failed = run("assets", "export", "Lib", str(tmp_path / "none"), check=False)
    assert failed.returncode != 0 and "imagestudio assets list Lib" in failed.stderr and "--all" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_library_warnings_become_one_line_notes(tmp_path):
    # A fake library in site-packages layout that warns on import, run through the CLI's own main().
    site = tmp_path / "site-packages" / "noisylib"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("import warnings\nwarnings.warn('numba is deprecated in\\n this path', "
                                      "DeprecationWarning)\n")
    code = ("import sys, warnings; warnings.simplefilter('default'); sys.path.insert(0, sys.argv[1]); "
            "from imagestudio_nb import cli; cli.library_warnings_as_notes(); import noisylib")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "site-packages")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["note: the noisylib library reports: numba is deprecated in this path (harmless; nothing to do)"]
