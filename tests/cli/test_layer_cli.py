"""`imagestudio layer ...`: layers changed from the terminal go through the update log, deletes are restorable."""

from __future__ import annotations

import json

from imagestudio_nb.project import Project

from .test_cli import run


def test_layer_commands_add_remove_restore_and_move(workspace):
    run("project", "create", "Terminal")
    ink = json.loads(run("layer", "add", "Terminal", "paint", "--name", "ink", "--json").stdout)["id"]
    paper = run("layer", "add", "Terminal", "paint", "--name", "paper").stdout.strip()
    run("layer", "move", "Terminal", paper, "0")
    assert [l["name"] for l in json.loads(run("layer", "list", "Terminal", "--json").stdout)] == ["paper", "ink"]
    assert "restore it with" in run("layer", "remove", "Terminal", ink).stdout
    assert [l["id"] for l in json.loads(run("layer", "list", "Terminal", "--deleted", "--json").stdout)] == [ink]
    assert [l["name"] for l in Project.open("Terminal").layers()] == ["paper"]
    run("layer", "restore", "Terminal", ink)
    assert [l["name"] for l in Project.open("Terminal").layers()] == ["paper", "ink"]
    assert [row.origin for row in Project.open("Terminal").log.rows()][-1] == "cli"


def test_layer_commands_refuse_unknown_layers_and_kinds_in_one_line(workspace):
    run("project", "create", "Strict")
    missing = run("layer", "restore", "Strict", "l_nope", check=False)
    assert missing.returncode != 0 and "no layer 'l_nope'" in missing.stderr and "Traceback" not in missing.stderr
    bad_kind = run("layer", "add", "Strict", "sticker", check=False)
    assert bad_kind.returncode != 0 and "sticker" in bad_kind.stderr and "paint" in bad_kind.stderr
    not_deleted = run("layer", "restore", "Strict", run("layer", "add", "Strict").stdout.strip(), check=False)
    assert not_deleted.returncode != 0 and "not deleted" in not_deleted.stderr
