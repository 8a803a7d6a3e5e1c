"""What every Image Studio widget shares: its front-end bundle, the request/reply protocol over custom
messages (bytes as binary buffers, never base64), and errors turned into one line shown in the panel.

A widget subclass lists the methods its front end may call in ``_calls``; each is ``_call_<name>`` and
does its work through the same public function a notebook user would call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from ..errors import ImageStudioError, InvalidArgumentError
from .docsync import caused_by

STATIC = Path(__file__).with_name("static")
_log = logging.getLogger(__name__)

_MISSING_BUNDLE = """
export default { render({ el }) {
  el.innerHTML = '<div style="padding:8px;border:1px solid #b91c1c;color:#b91c1c;border-radius:4px">' +
    'The Image Studio front end is not built (%s is missing). Run <code>make install</code> ' +
    '(or <code>npm --prefix labextension install && npm --prefix labextension run build</code>) and re-run the cell.</div>';
} };
"""


def bundle(name: str) -> Path | str:
    """The built ES module of widget ``name``, or a module that says how to build it when it is missing."""
    path = STATIC / f"{name}.js"
    if path.is_file():
        return path
    _log.warning("front-end bundle %s is missing; run `make install` to build it", path)
    return _MISSING_BUNDLE % f"{name}.js"


def stylesheet() -> Path | str:
    path = STATIC / "studio.css"
    return path if path.is_file() else ""


def describe_error(exc: BaseException) -> str:
    """One line for the panel: the toolkit's own message, or the type and message of anything else."""
    if isinstance(exc, ImageStudioError):
        return f"{type(exc).__name__}: {exc}"
    _log.exception("unexpected error in a widget action")
    return f"Unexpected error ({type(exc).__name__}): {exc}. This is a bug; please report it."


class Reply:
    """A call's result with binary buffers attached (e.g. an encoded image)."""

    def __init__(self, result: Any = None, buffers: Sequence[bytes] = (), **fields: Any):
        self.result = result
        self.buffers = list(buffers)
        self.fields = fields


def call_soon(callback) -> bool:
    """Schedule ``callback`` on the running event loop (the kernel's) once the current work is done, for
    document observers, which cannot read the document; ``False`` when no loop runs (a script)."""
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    loop.call_soon(callback)
    return True


def document_file(project) -> str:
    """The absolute path of a project's document file (``project.isproj``), as views name its room."""
    from ..project.workspace import DOCUMENT_NAME

    return str(Path(project.path).resolve() / DOCUMENT_NAME)


def open_project(project):
    """A ``Project`` from a Project, a name in the workspace, or a folder path."""
    from ..project import Project

    if isinstance(project, Project):
        return project
    if not isinstance(project, (str, Path)):
        raise InvalidArgumentError(f"project must be a Project, a project name or a folder; got {type(project).__name__}")
    return Project.open(project)


class StudioWidget(anywidget.AnyWidget):
    """Base of the widgets: dispatches ``{"type": ...}`` messages to ``_msg_<type>`` and calls to ``_call_<name>``."""

    _calls: ClassVar[frozenset[str]] = frozenset()
    _css = stylesheet()
    #: The last error shown in the panel (for notebooks and tests); empty when the last action worked.
    last_error = traitlets.Unicode("").tag(sync=False)
    #: Absolute path of the project's ``project.isproj``: the room a view joins, and the key by which the
    #: panels of one page find each other (the filter panel follows that page's canvas selection).
    document_path = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any):
        project = getattr(self, "project", None)
        if project is not None:
            kwargs.setdefault("document_path", document_file(project))
        super().__init__(**kwargs)
        self.on_msg(self._on_custom_message)

    def _on_custom_message(self, _widget, content: dict, buffers: Sequence) -> None:
        if not isinstance(content, dict):
            return
        kind = str(content.get("type", ""))
        msg_id = content.get("id")
        handler = getattr(self, "_msg_" + kind.replace("-", "_"), None)
        try:
            if handler is None:
                raise InvalidArgumentError(f"unknown message type {kind!r}")
            outcome = handler(content, [bytes(b) for b in buffers or ()])
        except Exception as exc:  # shown in the panel, never as a traceback
            message = describe_error(exc)
            self.last_error = message
            self.send({"type": "reply", "id": msg_id, "error": message} if msg_id is not None
                      else {"type": "error", "error": message})
            return
        self.last_error = ""
        if msg_id is None:
            return
        if isinstance(outcome, Reply):
            self.send({"type": "reply", "id": msg_id, "result": outcome.result, **outcome.fields}, outcome.buffers)
        else:
            self.send({"type": "reply", "id": msg_id, "result": outcome})

    def _msg_call(self, content: dict, buffers: list[bytes]) -> Any:
        method = content.get("method")
        if method not in self._calls:
            raise InvalidArgumentError(f"{type(self).__name__} has no action {method!r}; actions: {sorted(self._calls)}")
        args = content.get("args") or {}
        if not isinstance(args, dict):
            raise InvalidArgumentError("call arguments must be an object")
        # A change a view's call makes is made on its behalf and tagged with it (its own undo, not the kernel's).
        project = getattr(self, "project", None)
        view = content.get("view")
        with caused_by(project, str(view)) if project is not None and view else nullcontext():
            return getattr(self, f"_call_{method}")(buffers, **args)
