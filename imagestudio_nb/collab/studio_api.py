"""The server side of a Studio tab in JupyterLab: answers the canvas's widget messages over HTTP.

A Studio tab (the JupyterLab extension in ``labextension/lab``) edits the project document through the
room; what the notebook widget asks its kernel for (asset bytes, layer rasters, calls such as add_layer or
remove_background) the tab asks this extension for. It dispatches each message to the ``Canvas`` widget
class's own handlers on a ``Canvas`` kept per project in the server process (a Canvas works without a
kernel), so there is no second copy of their logic. It enforces the caller's project role here, on the
server: viewers and commenters read (assets, rasters) but their calls are refused with 403. It never
reads outside the server root, never opens anything but a project's ``project.isproj`` folder, and serves
assets only through the project's content-addressed store.

Enable with ``{"ServerApp": {"jpserver_extensions": {"imagestudio_nb.collab.studio_api": true}}}``
(installed by the package). Wire format of ``POST <base>/imagestudio/studio?path=<project.isproj>``
(request and reply alike): a frame = 4-byte big-endian length of a JSON object, the JSON, then for each
binary buffer its 4-byte length and bytes (:func:`pack`, :func:`unpack`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ..errors import ImageStudioError, InvalidArgumentError, NotFoundError, PermissionDeniedError
from ..project.roles import role_of, who_is

log = logging.getLogger(__name__)

#: Message types any role may send (besides ``role``: which role the server gives the caller).
READS = frozenset({"asset", "layer-raster"})
#: Roles whose calls may change the project (everything a Canvas call does writes to it or its folder).
WRITERS = frozenset({"owner", "editor"})
DOCUMENT_NAME = "project.isproj"
ROUTE = "imagestudio/studio"
STATIC_ROUTE = r"imagestudio/static/([a-z_]+\.(?:js|css))"
#: The widget-bundle files a tab loads, and their content types.
BUNDLE_FILES = {"canvas.js": "text/javascript; charset=utf-8", "studio.css": "text/css; charset=utf-8"}


def pack(message: dict[str, Any], buffers: list[bytes] | tuple[bytes, ...] = ()) -> bytes:
    """A message and its binary buffers as one frame.

    Examples
    --------
    >>> unpack(pack({"type": "asset", "hash": "ab"}, [b"xyz"]))
    ({'type': 'asset', 'hash': 'ab'}, [b'xyz'])
    """
    head = json.dumps(message, separators=(",", ":")).encode()
    parts = [struct.pack(">I", len(head)), head]
    for buffer in buffers:
        parts += [struct.pack(">I", len(buffer)), bytes(buffer)]
    return b"".join(parts)


def unpack(frame: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The message and buffers of a frame; :class:`InvalidArgumentError` when it is not one."""
    try:
        (size,) = struct.unpack_from(">I", frame, 0)
        message = json.loads(frame[4:4 + size])
        offset, buffers = 4 + size, []
        while offset < len(frame):
            (length,) = struct.unpack_from(">I", frame, offset)
            if offset + 4 + length > len(frame):
                raise ValueError("a buffer runs past the end of the frame")
            buffers.append(frame[offset + 4:offset + 4 + length])
            offset += 4 + length
    except (struct.error, ValueError) as exc:
        raise InvalidArgumentError(f"not a Studio message frame ({exc}); the tab sends JSON plus buffers") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise InvalidArgumentError("a Studio message is a JSON object with a string 'type'")
    return message, buffers


def project_folder(root: Path, document_path: str) -> Path:
    """The project folder of ``document_path`` (relative to the server root), refusing anything else.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "P").mkdir(); _ = (root / "P" / "project.isproj").write_text("{}")
    >>> project_folder(root, "P/project.isproj") == (root / "P").resolve()
    True
    >>> project_folder(root, "../etc/project.isproj")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.PermissionDeniedError: '../etc/project.isproj' is outside the server's root folder
    """
    if not document_path or Path(document_path).name != DOCUMENT_NAME or Path(document_path).is_absolute():
        raise InvalidArgumentError(f"path must name a project's {DOCUMENT_NAME} relative to the server root, "
                                   f"not {document_path!r}")
    root = root.resolve()
    document = (root / document_path).resolve()  # symlinks followed: a link out of the root is refused too
    if not document.is_relative_to(root):
        raise PermissionDeniedError(f"{document_path!r} is outside the server's root folder")
    if not document.is_file():
        raise NotFoundError(f"no project at {document_path!r}: the file {DOCUMENT_NAME} does not exist")
    return document.parent


class StudioBackend:
    """One ``Canvas`` per open project folder, and the role check in front of its handlers."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._canvases: dict[Path, Any] = {}
        self._lock = threading.Lock()
        # Canvas work is synchronous (rendering, background removal): one worker keeps it off the server's
        # event loop and serialises it, as a kernel would.
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="imagestudio-studio")

    def canvas(self, folder: Path):
        """The server's ``Canvas`` on the project in ``folder`` (opened once, then kept)."""
        from ..project import Project

        with self._lock:
            canvas = self._canvases.get(folder)
            if canvas is None:
                canvas = self._canvases[folder] = _served_canvas_class()(Project.open(folder))
            return canvas

    def handle(self, document_path: str, username: str | None, may_write_contents: bool,
               message: dict[str, Any], buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        """Answer one widget message for ``username``: ``(reply, buffers)``; raises on refusal or failure."""
        from ..widgets._base import Reply

        kind = message["type"]
        if kind not in READS and kind not in ("call", "role"):
            raise InvalidArgumentError(f"a Studio tab may send {sorted(READS | {'call', 'role'})}, not {kind!r}")
        canvas = self.canvas(project_folder(self.root, document_path))
        role = role_of(canvas.project.roles(), username)
        if not may_write_contents:
            role = "viewer"  # the Jupyter server itself does not let this user write files
        if kind == "role":  # what the tab shows: the role this server enforces, computed here and only here
            return {"type": "reply", "result": {"role": role, "username": username, "writes": role in WRITERS}}, []
        if kind == "call" and role not in WRITERS:
            who = who_is(username, role)
            raise PermissionDeniedError(f"{who} of this project and cannot call {message.get('method')!r}; "
                                        "ask an owner for the editor role")
        handler = getattr(canvas, "_msg_" + kind.replace("-", "_"))
        canvas.outbox.clear()
        # The change is the caller's, not this server process's user's: their role, their name in the log.
        with canvas.project.as_user(username) if username else nullcontext():
            outcome = handler(message, buffers)
        reply, out = ({"type": "reply", "result": outcome.result, **outcome.fields}, list(outcome.buffers)) \
            if isinstance(outcome, Reply) else ({"type": "reply", "result": outcome}, [])
        # The document changes the call made for the asking view travel back with the reply (after its own
        # buffers): the tab applies them as its own edits, so its Undo takes back the layer its call added.
        view = message.get("view")
        mine = [update for update, cause in canvas.outbox if view and cause == view]
        canvas.outbox.clear()
        if mine:
            reply["updates"] = len(mine)
        return reply, out + mine

    def close(self) -> None:
        with self._lock:
            canvases, self._canvases = list(self._canvases.values()), {}
        for canvas in canvases:
            try:
                canvas.close()
                canvas.project.close()
            except Exception:  # closing at shutdown: log, never block the server's exit
                log.exception("could not close the Studio canvas of %s", canvas.project.path)
        self.executor.shutdown(wait=False)


@functools.cache
def _served_canvas_class():
    """``Canvas`` as the server holds it: no kernel comm, so the updates it would send are kept for the reply."""
    from ..widgets.canvas import Canvas

    class ServedCanvas(Canvas):
        def __init__(self, project, **kwargs: Any):
            self.outbox: list[tuple[bytes, str | None]] = []
            super().__init__(project, **kwargs)

        def send_update(self, update: bytes, view: str | None = None) -> None:
            self.outbox.append((update, view))

        def send_awareness(self, update: bytes, view: str | None) -> None:
            pass  # presence travels through the room

    return ServedCanvas


def status_of(exc: BaseException) -> int:
    """The HTTP status of an error a message raised."""
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ImageStudioError):
        return 400
    return 500


def _handler_class():
    from jupyter_server.base.handlers import APIHandler, JupyterHandler
    from tornado import web

    class StudioHandler(APIHandler):
        """``POST ?path=<project.isproj>``: one widget message in, its reply out (both framed)."""

        @web.authenticated
        async def post(self):
            backend: StudioBackend = self.settings["imagestudio_studio"]
            user = self.current_user
            username = getattr(user, "username", None)
            document_path = self.get_query_argument("path", "")
            try:
                message, buffers = unpack(self.request.body)
                may_write = await self._may_write_contents(user)
                loop = asyncio.get_running_loop()
                reply, out = await loop.run_in_executor(backend.executor, backend.handle, document_path,
                                                        username, may_write, message, buffers)
            except Exception as exc:  # the tab shows the message in its status line
                from ..widgets._base import describe_error

                status = status_of(exc)
                if status == 403:
                    log.info("Studio refused %s for %s on %s: %s", username, document_path, status, exc)
                self.set_status(status)
                self.set_header("Content-Type", "application/octet-stream")
                self.finish(pack({"type": "reply", "error": describe_error(exc)}))
                return
            self.set_header("Content-Type", "application/octet-stream")
            self.finish(pack(reply, out))

        async def _may_write_contents(self, user) -> bool:
            allowed = self.authorizer.is_authorized(self, user, "write", "contents")
            if hasattr(allowed, "__await__"):
                allowed = await allowed
            return bool(allowed)

    class BundleHandler(JupyterHandler):
        """``GET static/<canvas.js|studio.css>``: the widget bundle a Studio tab runs (the notebook widget's own)."""

        @web.authenticated
        def get(self, name: str):
            from ..widgets._base import STATIC

            if name not in BUNDLE_FILES:
                raise web.HTTPError(404)
            path = STATIC / name
            if not path.is_file():
                raise web.HTTPError(404, f"{path} is missing: run `make install` to build the front end")
            self.set_header("Content-Type", BUNDLE_FILES[name])
            self.set_header("Cache-Control", "no-cache")
            self.finish(path.read_bytes())

    return StudioHandler, BundleHandler


def _jupyter_server_extension_points():
    return [{"module": "imagestudio_nb.collab.studio_api"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join

    backend = StudioBackend(Path(serverapp.root_dir).expanduser())
    web_app = serverapp.web_app
    web_app.settings["imagestudio_studio"] = backend
    studio, bundle = _handler_class()
    base = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [(url_path_join(base, ROUTE), studio), (url_path_join(base, STATIC_ROUTE), bundle)])
    serverapp.log.info("imagestudio_nb: Studio tabs are served at /%s", ROUTE)
