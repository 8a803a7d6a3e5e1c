"""Comments as threads with pins and @mentions, resolved and reopened; the project's chat; both under roles."""

from __future__ import annotations

import json

import pytest

from imagestudio_nb.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from imagestudio_nb.project import Project


@pytest.fixture
def project(workspace, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    return Project.create("Talk", width=200, height=100)


def test_threads_pins_mentions_resolve_and_reopen(project):
    layer = project.add_layer("paint", name="sky")
    root = project.add_comment("@bo is this blue too cold? cc @cy", region=(10, 10, 50, 20))
    pinned = project.add_comment("this stroke wobbles", layer=layer)
    reply = project.add_comment("warmer please, @ana", reply_to=root)
    answer_to_reply = project.add_comment("agreed", reply_to=reply)  # joins the same thread
    threads = project.threads()
    assert [t["id"] for t in threads] == [root, pinned]
    assert [r["id"] for r in threads[0]["replies"]] == [reply, answer_to_reply]
    assert threads[0]["replies"][0]["region"] == [10, 10, 50, 20]  # a reply shares its thread's pin
    assert threads[0]["mentions"] == ["bo", "cy"]
    assert [c["id"] for c in project.mentions_of("ana")] == [reply]

    project.resolve_comment(reply)  # resolving any message of a thread resolves the thread
    assert [t["id"] for t in project.threads(include_resolved=False)] == [pinned]
    assert {c["id"] for c in project.comments(include_resolved=False)} == {pinned}
    resolved = project.threads()[0]
    assert resolved["resolved"] and resolved["resolved_by"] == "ana" and resolved["resolved_at"]
    project.reopen_comment(root)
    assert [t["id"] for t in project.threads(include_resolved=False)] == [root, pinned]

    with pytest.raises(NotFoundError):
        project.add_comment("to nobody", reply_to="c_missing")
    with pytest.raises(InvalidArgumentError, match="region"):
        project.add_comment("bad pin", region=(0, 0, -1, 5))
    project.save()
    on_disk = json.loads((project.path / "project.isproj").read_text())
    assert [c["id"] for c in on_disk["comments"]] == [root, pinned, reply, answer_to_reply]
    assert Project.open(project.path).threads()[0]["replies"][1]["id"] == answer_to_reply


def test_chat_attaches_layers_and_checkpoints_and_survives_reopening(project):
    layer = project.add_layer("paint", name="draft")
    project.checkpoint("v1")
    first = project.say("first pass is in, @bo have a look", layer=layer)
    second = project.say("compare with this one", checkpoint="v1")
    with pytest.raises(NotFoundError, match="no checkpoint"):
        project.say("with a missing version", checkpoint="v9")
    with pytest.raises(InvalidArgumentError):
        project.say("   ")
    messages = Project.open(project.path).messages()
    assert [m["id"] for m in messages] == [first, second]
    assert messages[0]["layer"] == layer and messages[1]["checkpoint"] == project.checkpoints()[0]["id"]
    assert [m["id"] for m in project.mentions_of("bo")] == [first]
    assert project.messages(last=1)[0]["id"] == second


def test_commenters_comment_and_chat_viewers_do_neither(project, monkeypatch):
    project.set_role("cy", "commenter")
    project.set_role("bo", "viewer")
    project.close()
    monkeypatch.setenv("IMAGESTUDIO_USER", "cy")
    as_commenter = Project.open(project.path)
    as_commenter.add_comment("fine by me")
    as_commenter.say("shipping it?")
    as_commenter.close()
    monkeypatch.setenv("IMAGESTUDIO_USER", "bo")
    as_viewer = Project.open(project.path)
    with pytest.raises(PermissionDeniedError):
        as_viewer.add_comment("can I?")
    with pytest.raises(PermissionDeniedError):
        as_viewer.say("hello?")
    assert [m["author"] for m in as_viewer.messages()] == ["cy"]
