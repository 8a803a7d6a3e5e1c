"""Roles in a project (owner, editor, commenter, viewer) and what each may change, checked on Y updates.

One policy serves the Python API, the CLI and the collaborative server, which drops room updates a
sender's role forbids (DESIGN.md D6). The ``roles`` root maps a Jupyter username to a role; the key
``"*"`` gives the role of everyone not listed (``editor`` when absent, so a project without roles stays
open to all, as before roles existed). This module knows Y documents, never Jupyter or files.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc

from ..errors import PermissionDeniedError, UnsupportedParameterError
from .schema import ROOTS

ROLES = ("owner", "editor", "commenter", "viewer")
EVERYONE = "*"
DEFAULT_ROLE = "editor"

#: The document roots each role may change.
WRITABLE: dict[str, frozenset[str]] = {
    "owner": frozenset(ROOTS),
    "editor": frozenset(ROOTS) - {"roles"},
    "commenter": frozenset({"comments", "chat"}),
    "viewer": frozenset(),
}


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else an error naming them."""
    if role not in ROLES:
        raise UnsupportedParameterError("role", role, ROLES)
    return role


def role_of(roles: dict[str, Any], username: str | None) -> str:
    """The role of ``username`` under the ``roles`` map.

    Examples
    --------
    >>> role_of({"ana": "owner", "*": "viewer"}, "ana"), role_of({"ana": "owner", "*": "viewer"}, "bo")
    ('owner', 'viewer')
    >>> role_of({}, "anyone")
    'editor'
    """
    role = roles.get(username) if username is not None else None
    if role not in ROLES:
        role = roles.get(EVERYONE)
    return role if role in ROLES else DEFAULT_ROLE


def who_is(username: str | None, role: str) -> str:
    """The start of a refusal: ``'bo' is an editor`` (or ``an editor`` when nobody is named).

    >>> who_is("bo", "owner"), who_is(None, "viewer")
    ("'bo' is an owner", 'a viewer')
    """
    article = "an" if role[:1] in "aeiou" else "a"
    return f"{username!r} is {article} {role}" if username else f"{article} {role}"


def refusal(role: str, roots: set[str] | frozenset[str], username: str | None) -> str | None:
    """Why ``role`` may not change ``roots`` (one line), or ``None`` when it may."""
    forbidden = set(roots) - WRITABLE[role]
    if not forbidden:
        return None
    who = who_is(username, role)
    if role == "viewer":
        return f"{who} of this project and cannot change it; ask an owner for the editor role"
    if role == "commenter":
        return f"{who} of this project and can only comment and chat; ask an owner for the editor role"
    return f"{who} of this project and cannot change {', '.join(sorted(forbidden))}; only owners can"


def require(roles: dict[str, Any], username: str | None, roots: set[str] | frozenset[str]) -> None:
    """Raise :class:`PermissionDeniedError` when ``username`` may not change ``roots``."""
    reason = refusal(role_of(roles, username), roots, username)
    if reason:
        raise PermissionDeniedError(reason)


class UpdateGate:
    """Decides whether a Y update from a client may enter a document, by the roots it would change.

    It keeps a shadow of the document, brought up to date before each check (only what the shadow lacks
    is copied). The update is applied to the shadow while the roots it touches are noted; when it is
    refused, the shadow is rebuilt from the document, which never received it.
    """

    def __init__(self, doc: Doc):
        self.doc = doc
        self._shadow = Doc()
        self._touched: set[str] = set()
        self._subscriptions = [self._observe(name, kind) for name, kind in ROOTS.items()]

    def _observe(self, name: str, kind: type) -> Any:
        def touched(*_: Any) -> None:  # pycrdt passes the events (and the transaction)
            self._touched.add(name)

        return self._shadow.get(name, type=kind).observe_deep(touched)

    def roots_changed(self, update: bytes) -> set[str]:
        """The roots ``update`` changes (the shadow then holds it)."""
        self._shadow.apply_update(self.doc.get_update(self._shadow.get_state()))
        self._touched = set()
        self._shadow.apply_update(update)
        return set(self._touched)

    def check(self, update: bytes, role: str, username: str | None = None) -> str | None:
        """``None`` to let ``update`` in, or the reason it is refused."""
        if role == "owner" or len(update) <= 2:  # owners may change anything; an empty update changes nothing
            return None
        reason = refusal(role, self.roots_changed(update), username)
        if reason:
            self._rebuild()
        return reason

    def _rebuild(self) -> None:
        self._shadow = Doc()
        self._subscriptions = [self._observe(name, kind) for name, kind in ROOTS.items()]
