"""Team commands on a project: roles, comments and chat, history and replay, suggestions.

They are ``imagestudio project ...`` commands, defined here to keep ``project_cmd.py`` to the project's
own life cycle; each calls the public function a notebook would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._output import JsonOption, print_json, print_table
from .project_cmd import project_app


@project_app.command("role")
def role(name: str, user: Annotated[Optional[str], typer.Argument(help="A Jupyter username, or * for everyone else.")] = None,
         new_role: Annotated[Optional[str], typer.Argument(metavar="ROLE", help="owner, editor, commenter, viewer or none.")] = None,
         json_output: JsonOption = False):
    """Show the project's roles, or give USER a ROLE (owners only; the server enforces roles in shared rooms)."""
    from ..project import Project

    project = Project.open(name)
    if user is not None and new_role is None:
        raise typer.BadParameter("give a ROLE too: owner, editor, commenter, viewer or none")
    roles = project.set_role(user, None if new_role == "none" else new_role) if user is not None else project.roles()
    if json_output:
        print_json({"roles": roles, "you": project.role()})
    else:
        print_table([{"user": u, "role": r} for u, r in sorted(roles.items())], ["user", "role"], title=name)


@project_app.command("history")
def history(name: str, json_output: JsonOption = False):
    """List the changes kept for replay: who changed the project, from where, and when."""
    from datetime import datetime, timezone

    from ..project import Project
    from ..project.replay import timeline

    moments = timeline(Project.open(name))
    rows = [{"seq": m.seq, "time": datetime.fromtimestamp(m.time, timezone.utc).isoformat(timespec="seconds"),
             "user": m.user or "", "origin": m.origin} for m in moments]
    if json_output:
        print_json(rows)
    else:
        print_table(rows[-50:], ["seq", "time", "user", "origin"], title=f"{name}: last {min(50, len(rows))} of {len(rows)} changes")


@project_app.command("timelapse")
def timelapse_command(name: str, out: Path,
                      frames: Annotated[int, typer.Option(help="About this many frames.")] = 120,
                      fps: Annotated[int, typer.Option(help="Frames per second.")] = 12,
                      size: Annotated[int, typer.Option(help="Longest side in pixels.")] = 512):
    """Render the project's history into an animation (.gif, .mp4 or .webm) from its update log."""
    from ..project import Project
    from ..project.replay import timelapse

    data = timelapse(Project.open(name), out, frames=frames, fps=fps, max_side=size, progress=True)
    print(f"wrote {out} ({len(data):,} bytes)")


@project_app.command("restore-moment")
def restore_moment(name: str, seq: int, label: str):
    """Keep the project as it was right after change SEQ as checkpoint LABEL (see `project history`)."""
    from ..project import Project
    from ..project.replay import checkpoint_at

    checkpoint_at(Project.open(name), seq, label)
    print(f"checkpoint {label!r} holds {name!r} as it was after change {seq}; "
          f"bring it back with `imagestudio project restore {name} {label}`")


@project_app.command("suggest")
def suggest_command(name: str, fork_name: Annotated[Optional[str], typer.Argument(help="Name of the fork.")] = None):
    """Fork a project to propose changes in it (you own the fork, whatever your role in the project)."""
    from ..project import Project
    from ..project.suggestions import suggest

    fork = suggest(Project.open(name), fork_name)
    print(f"edit {fork.name!r}, then ask an owner to run `imagestudio project review {name} {fork.name!r}`")


@project_app.command("review")
def review_command(name: str, fork_name: str, json_output: JsonOption = False):
    """What a suggestion (a fork of NAME) changes, and whether merging it would still change NAME."""
    from ..project import Project
    from ..project.suggestions import review

    seen = review(Project.open(name), Project.open(fork_name))
    if json_output:
        print_json({**seen.changes, "pending": seen.pending, "status": seen.status})
        return
    c = seen.changes
    print(f"{fork_name!r} ({seen.status or 'open'}): {len(c['layers_added'])} layers added, "
          f"{len(c['layers_removed'])} removed, {len(c['layers_changed'])} changed, "
          f"{len(c['comments_added'])} comments; merging {'would change' if seen.pending else 'changes nothing in'} {name!r}")


@project_app.command("merge")
def merge_command(name: str, fork_name: str):
    """Take a suggestion's edits into NAME (editor or owner), keeping what changed in NAME since."""
    from ..project import Project
    from ..project.suggestions import merge

    merge(Project.open(name), Project.open(fork_name))
    print(f"merged {fork_name!r} into {name!r}")


@project_app.command("reject")
def reject_command(name: str, fork_name: str,
                   reason: Annotated[Optional[str], typer.Option(help="Why, for the suggestion's author.")] = None):
    """Mark a suggestion rejected; NAME is not changed."""
    from ..project import Project
    from ..project.suggestions import reject

    reject(Project.open(name), Project.open(fork_name), reason=reason)
    print(f"rejected {fork_name!r}")


@project_app.command("comment")
def comment_command(name: str, text: str,
                    layer: Annotated[Optional[str], typer.Option(help="Pin to this layer id.")] = None,
                    reply_to: Annotated[Optional[str], typer.Option(help="Answer this comment id.")] = None,
                    x: Annotated[Optional[float], typer.Option(help="Pin to this point (with --y).")] = None,
                    y: Annotated[Optional[float], typer.Option(help="Pin to this point (with --x).")] = None):
    """Add a comment (@username mentions someone); see `project comments`."""
    from ..project import Project

    comment_id = Project.open(name).add_comment(text, layer=layer, reply_to=reply_to, x=x, y=y)
    print(comment_id)


@project_app.command("comments")
def comments_command(name: str, open_only: Annotated[bool, typer.Option("--open", help="Unresolved threads only.")] = False,
                     json_output: JsonOption = False):
    """Comment threads, oldest first."""
    from ..project import Project

    threads = Project.open(name).threads(include_resolved=not open_only)
    if json_output:
        print_json(threads)
        return
    rows = []
    for thread in threads:
        for depth, item in enumerate([thread, *thread["replies"]]):
            rows.append({"id": item["id"], "author": item.get("author") or "", "text": ("  > " if depth else "") + item["text"][:70],
                         "state": ("resolved" if thread.get("resolved") else "open") if not depth else ""})
    print_table(rows, ["id", "author", "text", "state"], title=f"{name}: {len(threads)} threads")


@project_app.command("chat")
def chat_command(name: str, text: Annotated[Optional[str], typer.Argument(help="Say this; without it, list the chat.")] = None,
                 layer: Annotated[Optional[str], typer.Option(help="Attach this layer id.")] = None,
                 checkpoint: Annotated[Optional[str], typer.Option(help="Attach this checkpoint.")] = None,
                 json_output: JsonOption = False):
    """Post to the project's chat, or show its last 50 messages."""
    from ..project import Project

    project = Project.open(name)
    if text is not None:
        print(project.say(text, layer=layer, checkpoint=checkpoint))
        return
    messages = project.messages(last=50)
    if json_output:
        print_json(messages)
    else:
        print_table([{"when": m.get("created") or "", "author": m.get("author") or "", "text": m["text"][:80]}
                     for m in messages], ["when", "author", "text"], title=f"{name}: chat")


def register(app: typer.Typer) -> None:
    """The commands are added to the ``project`` group when this module is imported."""
