"""Comments (pinned, threaded, with @mentions, resolved and reopened) and the project's chat.

Both live in the project document, so they travel with it (export, sync, fork), are enforced by the same
roles (a commenter may comment and chat, a viewer may not), are kept in the update log for replay, and
reach every view of a shared room live. Why the chat is a root of the document and not a jupyterlab-chat
``.chat`` file beside it: one document means one set of roles, one history and one file to move; a
separate chat file would need its own permissions (jupyter-collaboration enforces none) and could be
left behind when a project is copied. Messages are small; a long chat costs little next to layers.
These functions are methods of ``Project``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pycrdt import Array, Map

from ..errors import InvalidArgumentError, NotFoundError
from .document import new_id, now_iso, restore_ints

if TYPE_CHECKING:
    from .project import Project

_MENTION = re.compile(r"(?<![\w@])@([\w][\w.-]*[\w]|[\w])")


def mentions(text: str) -> list[str]:
    """The usernames ``@mentioned`` in ``text``, in order, each once.

    Examples
    --------
    >>> mentions("@ana could you check this with @bo.smith? (cc @ana, not me@example.com)")
    ['ana', 'bo.smith']
    """
    found: list[str] = []
    for name in _MENTION.findall(text):
        if name not in found:
            found.append(name)
    return found


def _check_text(text: str, what: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError(f"{what} text must be a non-empty string")
    if len(text) > 10_000:
        raise InvalidArgumentError(f"{what} text is {len(text):,} characters; at most 10,000")


def add_comment(self: Project, text: str, *, author: str | None = None, layer: str | None = None,
                x: float | None = None, y: float | None = None,
                region: tuple[float, float, float, float] | None = None, reply_to: str | None = None) -> str:
    """Add a comment and return its id.

    Pin it to a ``layer``, a point (``x``, ``y``) or a ``region`` ``(x, y, width, height)`` of the canvas,
    or answer another comment (``reply_to``: the reply joins that comment's thread and its pin).
    ``@username`` in the text mentions a collaborator (see :func:`mentions_of`).
    """
    _check_text(text, "comment")
    pin: dict[str, Any] = {"layer": layer, "x": x, "y": y, "region": list(region) if region is not None else None}
    if reply_to is not None:
        root = _thread_root(self, reply_to)
        pin = {k: root.get(k) for k in ("layer", "x", "y", "region")}
        reply_to = root["id"]
    if pin["layer"] is not None:
        self._find_layer(pin["layer"])
    if pin["region"] is not None:
        if len(pin["region"]) != 4 or any(not isinstance(v, (int, float)) for v in pin["region"]) \
                or pin["region"][2] <= 0 or pin["region"][3] <= 0:
            raise InvalidArgumentError("region must be (x, y, width, height) with a positive width and height")
    comment = {"id": new_id("c"), "text": text, "author": author or self._store.user or self.config().user,
               "created": now_iso(), **pin, "reply_to": reply_to, "mentions": mentions(text), "resolved": False}
    with self._change("comments"):
        self.doc.get("comments", type=Array).append(Map(comment))
    return comment["id"]


def comments(self: Project, *, include_resolved: bool = True) -> list[dict[str, Any]]:
    """Comments, oldest first (replies included; see :func:`threads` to read them as threads)."""
    self.refresh()
    items = restore_ints(self.doc.get("comments", type=Array).to_py() or [])
    resolved = {c["id"] for c in items if c.get("resolved")}
    return [c for c in items if include_resolved or (c["id"] not in resolved and c.get("reply_to") not in resolved)]


def threads(self: Project, *, include_resolved: bool = True) -> list[dict[str, Any]]:
    """Comments grouped as threads: each root comment with a ``replies`` list, oldest first."""
    items = comments(self)
    roots = [dict(c, replies=[]) for c in items if not c.get("reply_to")]
    by_id = {c["id"]: c for c in roots}
    for reply in items:
        if reply.get("reply_to") in by_id:
            by_id[reply["reply_to"]]["replies"].append(reply)
    return [t for t in roots if include_resolved or not t.get("resolved")]


def mentions_of(self: Project, username: str, *, include_resolved: bool = False) -> list[dict[str, Any]]:
    """Comments and chat messages that mention ``username`` (what a notification would list)."""
    found = [c for c in comments(self, include_resolved=include_resolved) if username in (c.get("mentions") or [])]
    found += [m for m in messages(self) if username in (m.get("mentions") or [])]
    return sorted(found, key=lambda item: item.get("created") or "")


def _thread_root(self: Project, comment_id: str) -> dict[str, Any]:
    for comment in restore_ints(self.doc.get("comments", type=Array).to_py() or []):
        if comment["id"] == comment_id:
            if comment.get("reply_to"):
                return _thread_root(self, comment["reply_to"])
            return comment
    raise NotFoundError(f"no comment {comment_id!r} in project {self.name!r}")


def resolve_comment(self: Project, comment_id: str, resolved: bool = True) -> None:
    """Resolve a comment's thread (or open it again with ``resolved=False``); who and when are kept."""
    with self._change("comments"):
        root = _thread_root(self, comment_id)
        for comment in self.doc.get("comments", type=Array):
            if comment["id"] == root["id"]:
                comment["resolved"] = resolved
                comment["resolved_by"] = self._store.user if resolved else None
                comment["resolved_at"] = now_iso() if resolved else None


def reopen_comment(self: Project, comment_id: str) -> None:
    """Open a resolved thread again."""
    resolve_comment(self, comment_id, resolved=False)


# --- chat --------------------------------------------------------------------------------------------

def say(self: Project, text: str, *, layer: str | None = None, checkpoint: str | None = None,
        author: str | None = None) -> str:
    """Post a chat message (optionally attaching a layer or a checkpoint) and return its id."""
    _check_text(text, "chat message")
    if layer is not None:
        self._find_layer(layer)
    if checkpoint is not None:
        checkpoint = next((c["id"] for c in self.checkpoints() if checkpoint in (c["id"], c["name"])), None) or \
            _no_checkpoint(self, checkpoint)
    message = {"id": new_id("m"), "text": text, "author": author or self._store.user or self.config().user,
               "created": now_iso(), "layer": layer, "checkpoint": checkpoint, "mentions": mentions(text)}
    with self._change("chat"):
        self.doc.get("chat", type=Array).append(Map(message))
    return message["id"]


def _no_checkpoint(self: Project, ref: str) -> str:
    names = [c["name"] for c in self.checkpoints()]
    raise NotFoundError(f"no checkpoint {ref!r} in project {self.name!r}; checkpoints: {', '.join(names) or 'none'}")


def messages(self: Project, *, last: int | None = None) -> list[dict[str, Any]]:
    """Chat messages, oldest first (the ``last`` few when given)."""
    self.refresh()
    items = restore_ints(self.doc.get("chat", type=Array).to_py() or [])
    return items[-last:] if last else items
