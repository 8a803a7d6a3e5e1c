"""A Jupyter server extension that enforces project roles on the collaborative rooms of ``.isproj`` files.

Stock jupyter-collaboration lets anyone who can open a room write through it (the websocket handshake is
a GET, which Jupyter maps to "read"). This extension looks at every document update a client sends to an
``isproj`` room and drops those the sender's role forbids (``project/roles.py``): a viewer changes
nothing, a commenter only comments, only owners change roles. Sync requests and awareness pass. The
refused client is told why with a y-protocols permission-denied message. A user whom the Jupyter server
does not authorise to write contents is a viewer, whatever the document says.
Enable with ``{"ServerApp": {"jpserver_extensions": {"imagestudio_nb.collab.enforce": true}}}``
(installed by the package).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pycrdt import Decoder, Encoder, Map

from ..project.roles import UpdateGate, role_of
from ..project.ydoc import note_author

log = logging.getLogger(__name__)

_SYNC, _STEP2, _UPDATE = 0, 1, 2
_AUTH, _PERMISSION_DENIED = 2, 0

#: Enforcement cost per checked update, in seconds (kept for the benchmark and the server log).
TIMINGS: list[float] = []


def denial_message(reason: str) -> bytes:
    """A y-protocols auth message: permission denied, with the reason."""
    encoder = Encoder()
    encoder.write_var_uint(_AUTH)
    encoder.write_var_uint(_PERMISSION_DENIED)
    encoder.write_var_string(reason)
    return encoder.to_bytes()


def document_update(message: bytes) -> bytes | None:
    """The Y update a client message carries (sync step 2 or update), or ``None`` for anything else."""
    try:
        decoder = Decoder(message)
        if decoder.read_var_uint() != _SYNC:
            return None
        if decoder.read_var_uint() not in (_STEP2, _UPDATE):
            return None
        return decoder.read_message()
    except Exception:  # not a y-protocols message: the room's own handling deals with it
        return None


def _is_isproj_room(handler: Any) -> bool:
    room_id = getattr(handler, "_room_id", "") or ""
    return room_id.split(":")[1:2] == ["isproj"]


def _username(handler: Any) -> str | None:
    user = getattr(handler, "current_user", None)
    return getattr(user, "username", None)


async def _may_write_contents(handler: Any) -> bool:
    authorizer = getattr(handler, "authorizer", None)
    if authorizer is None:
        return True
    try:
        allowed = authorizer.is_authorized(handler, handler.current_user, "write", "contents")
        if hasattr(allowed, "__await__"):
            allowed = await allowed
        return bool(allowed)
    except Exception:
        return False


async def verdict(handler: Any, message: bytes) -> str | None:
    """``None`` when ``message`` may reach the room, else the reason it may not."""
    if not _is_isproj_room(handler):
        return None
    update = document_update(message)
    if update is None:
        return None
    room = getattr(handler, "room", None)
    doc = getattr(room, "ydoc", None)
    if doc is None:
        return None
    started = time.perf_counter()
    username = _username(handler)
    role = role_of(doc.get("roles", type=Map).to_py() or {}, username)
    if role != "viewer" and not await _may_write_contents(handler):
        role = "viewer"
    gate = getattr(room, "_imagestudio_gate", None)
    if gate is None or gate.doc is not doc:
        gate = room._imagestudio_gate = UpdateGate(doc)
    reason = gate.check(update, role, username)
    if reason is None and username:
        note_author(update, username)  # the room's log row for this change names them
    TIMINGS.append(time.perf_counter() - started)
    del TIMINGS[:-10000]
    return reason


def install() -> bool:
    """Wrap jupyter-collaboration's room websocket handler; ``False`` when it is not installed."""
    try:
        from jupyter_server_ydoc.handlers import YDocWebSocketHandler
    except ImportError:
        return False
    if getattr(YDocWebSocketHandler, "_imagestudio_roles", False):
        return True
    original = YDocWebSocketHandler.on_message

    async def on_message(self, message):
        try:
            reason = await verdict(self, message)
        except Exception:  # a failing check must not open the door: refuse, and say so in the log
            log.exception("role check failed for %s", getattr(self, "_room_id", "?"))
            reason = "the server could not check your role; the change was not applied"
        if reason is not None:
            log.info("refused an update from %s in %s: %s", _username(self), self._room_id, reason)
            try:
                await self.send(denial_message(reason))
            except Exception:
                pass
            return None
        return await original(self, message)

    YDocWebSocketHandler.on_message = on_message
    YDocWebSocketHandler._imagestudio_roles = True
    return True


def _jupyter_server_extension_points():
    return [{"module": "imagestudio_nb.collab.enforce"}]


def _load_jupyter_server_extension(serverapp) -> None:
    if install():
        serverapp.log.info("imagestudio_nb: project roles are enforced in .isproj rooms")
    else:
        serverapp.log.warning("imagestudio_nb: jupyter-collaboration is not installed; roles are not enforced")
