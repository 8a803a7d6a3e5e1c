"""`imagestudio sync ...`: the same functions from the terminal, --json for scripts, no secret in any output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagestudio_nb.cloud.azurite import DEV_KEY

from .conftest import container_name, make_project

IMAGESTUDIO = Path(sys.executable).with_name("imagestudio")


@pytest.fixture
def env(azurite, request, tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("AZURE_STORAGE_CONTAINER", container_name(request))
    return os.environ.copy()


def run(env, *args: str, workspace: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    environment = dict(env)
    if workspace is not None:
        environment["IMAGESTUDIO_WORKSPACE"] = str(workspace)
    result = subprocess.run([str(IMAGESTUDIO), "sync", *args], capture_output=True, text=True, env=environment,
                            timeout=180)
    assert DEV_KEY not in result.stdout + result.stderr
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def test_push_status_clone_versions_usage_share_clean_from_the_terminal(env, machines):
    a, b = machines
    make_project("Terminal", a, assets=3)
    pushed = json.loads(run(env, "push", "Terminal", "--json", workspace=a).stdout)
    assert pushed["uploaded_assets"] == 3 and pushed["document_uploaded"]
    assert json.loads(run(env, "status", "Terminal", "--json", workspace=a).stdout)["state"] == "in sync"
    listed = json.loads(run(env, "list", "--json").stdout)["projects"]
    assert [(p["name"], p["old_layout"]) for p in listed] == [("Terminal", False)]

    cloned = json.loads(run(env, "clone", "Terminal", "--json", workspace=b).stdout)
    assert cloned["assets"] == 3 and Path(cloned["path"]).parent == b and cloned["id"] == listed[0]["id"]
    versions = json.loads(run(env, "versions", "Terminal", "--json").stdout)
    assert len(versions) == 1
    usage = json.loads(run(env, "usage", "--json").stdout)
    assert usage["projects"][cloned["id"]]["asset_count"] == 3 and usage["projects"][cloned["id"]]["name"] == "Terminal"
    assert json.loads(run(env, "migrate", "--json").stdout) == []  # nothing stored under a name

    link = json.loads(run(env, "share", "Terminal", "--expires", "2h", "--json").stdout)
    assert link["revocable"] and "sig=" in link["url"]
    assert [s["id"] for s in json.loads(run(env, "shares", "--json").stdout)] == [link["id"]]
    assert json.loads(run(env, "revoke", link["id"], "--json").stdout)["revoked"]

    report = json.loads(run(env, "clean", "Terminal", "--json").stdout)
    assert report["dry_run"] is True
    text = run(env, "push", "Terminal", workspace=a).stdout
    assert "in sync" in text


def test_errors_are_one_line_with_their_exit_code(env, machines):
    result = run(env, "clone", "Nothing here", workspace=machines[0], check=False)
    assert result.returncode == 3 and result.stderr.startswith("error (ProjectNotFoundError)")
    assert len(result.stderr.strip().splitlines()) == 1
    bad = dict(env, AZURE_STORAGE_CONNECTION_STRING=env["AZURE_STORAGE_CONNECTION_STRING"].replace(
        DEV_KEY, "YmFkIGtleSBiYWQga2V5IGJhZCBrZXk="))
    result = run(bad, "list", check=False)
    assert result.returncode == 4 and "YmFkIGtleSBi" not in result.stderr


def test_auto_turns_backup_on_save_on_and_watches_a_project(env, machines):
    assert "off" in run(env, "auto").stdout
    assert "on" in run(env, "auto", "--enable").stdout
    assert json.loads(run(env, "auto", "--json").stdout)["auto_backup"] is True
    make_project("Watched", machines[0], assets=1)
    state = json.loads(run(env, "auto", "Watched", "--for", "1", "--delay", "0.1", "--json",
                           workspace=machines[0]).stdout)
    assert state["state"] == "backed up"
    assert json.loads(run(env, "status", "Watched", "--json", workspace=machines[0]).stdout)["state"] == "in sync"
    run(env, "auto", "--disable")
