"""A Python Y client for a jupyter-collaboration room holding a ``.isproj`` document.

``PUT /api/collaboration/session/<path>`` gives the file id; the room is
``/api/collaboration/room/text:isproj:<fileId>``; the Y sync protocol runs over its websocket through
``pycrdt.Provider``. The token travels in a header, never in a printed URL.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import quote

from pycrdt import Doc, Provider

from ..errors import ImageStudioError

ROOM_FORMAT = "text"
ROOM_TYPE = "isproj"


@dataclass
class RoomSession:
    """What the server answered for a document session."""

    file_id: str
    session_id: str
    path: str

    @property
    def room(self) -> str:
        return f"{ROOM_FORMAT}:{ROOM_TYPE}:{self.file_id}"


def open_collaboration_session(base_url: str, path: str, *, token: str | None = None) -> RoomSession:
    """Ask the server for the collaboration session of the ``.isproj`` file at ``path`` (server-relative)."""
    url = f"{base_url.rstrip('/')}/api/collaboration/session/{quote(path)}"
    body = json.dumps({"format": ROOM_FORMAT, "type": ROOM_TYPE}).encode()
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    except OSError as exc:
        raise ImageStudioError(f"cannot open a collaboration session for {path!r} at {base_url}: {exc}") from None
    return RoomSession(answer["fileId"], answer["sessionId"], path)


class _WebsocketChannel:
    """Adapts a ``websockets`` client connection to pycrdt's ``Channel`` protocol."""

    def __init__(self, websocket, path: str):
        self._websocket = websocket
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except Exception:
            raise StopAsyncIteration() from None

    async def send(self, message: bytes) -> None:
        await self._websocket.send(message)

    async def recv(self) -> bytes:
        while True:
            message = await self._websocket.recv()
            if isinstance(message, bytes):
                return message


@asynccontextmanager
async def join_project_room(base_url: str, path: str, *, token: str | None = None,
                            doc: Doc | None = None) -> AsyncIterator[Doc]:
    """Join the room of the ``.isproj`` file at ``path`` and yield its synchronised Y document.

    Edits made to the yielded document reach the server (and every other view) until the block ends.
    """
    import anyio
    import websockets

    session = open_collaboration_session(base_url, path, token=token)
    ws_url = base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1).rstrip("/")
    url = f"{ws_url}/api/collaboration/room/{session.room}?sessionId={session.session_id}"
    headers = {"Authorization": f"token {token}"} if token else {}
    doc = doc or Doc()
    async with websockets.connect(url, additional_headers=headers, max_size=None) as websocket:
        async with Provider(doc, _WebsocketChannel(websocket, session.room)) as provider:
            with anyio.fail_after(30):
                await provider.synced.wait()
            yield doc
