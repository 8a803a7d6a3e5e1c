"""The audit trail replayed from a project's update log, written by two users in two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from imagestudio_nb.audit import audit
from imagestudio_nb.project import Project

IMAGESTUDIO = Path(sys.executable).with_name("imagestudio")


def run_cli(*args: str, user: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(IMAGESTUDIO), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "IMAGESTUDIO_USER": user})


def test_the_audit_names_who_did_what_and_when_across_processes(workspace):
    project = Project.create("audited", workspace=workspace)  # as "tester", this process
    layer = project.add_layer("paint", name="sketch")
    made = run_cli("generate", "a red fox at dawn", "--seed", "7", "--project", "audited", "--json", user="bob")
    assert made.returncode == 0, made.stderr
    project.refresh()
    project.add_comment("the fox is too small", author="tester")

    trail = audit("audited", workspace=workspace)

    assert list(trail.columns) == ["seq", "time", "user", "origin", "kind", "action"]
    assert trail["seq"].is_monotonic_increasing and trail["time"].is_monotonic_increasing
    mine = trail[trail["action"].str.startswith("layers +1")]
    assert len(mine) == 1 and mine["user"].item() == "tester" and layer in mine["action"].item()
    generated = trail[trail["action"].str.contains("generations +1", regex=False)]
    assert generated["user"].tolist() == ["bob"] and generated["origin"].tolist() == ["cli"]
    assert "(local, 'a red fox at dawn')" in generated["action"].item()
    assert trail["action"].iloc[-1].startswith("comments +1") and trail["user"].iloc[-1] == "tester"


def test_cli_audit_prints_json_and_refuses_an_unknown_project(workspace):
    project = Project.create("shown", workspace=workspace)
    project.add_layer("text", name="title")
    shown = run_cli("audit", "shown", "--json", user="ann")
    assert shown.returncode == 0, shown.stderr
    entries = json.loads(shown.stdout)["entries"]
    assert entries[-1]["action"].startswith("layers +1") and entries[-1]["user"] == "tester"
    missing = run_cli("audit", "no-such-project", user="ann")
    assert missing.returncode == 3 and "Traceback" not in missing.stderr
