"""The ``isproj`` document type for jupyter-collaboration (registered as a ``jupyter_ydoc`` entry point).

Inside a collaborative JupyterLab the server's document is one more writer on the project's update log
(DESIGN.md D2): it starts from the log's state (never from a fresh copy of the JSON, whose Y items would
be strangers to every kernel's), appends what the room's clients change, merges what kernels and the CLI
append within a fraction of a second, and holds a lease that tells kernels not to write
``project.isproj`` while it does. ``set()`` never clears and refills: a file changed outside is merged
field by field, and a file this log wrote is recognised by its hash and ignored.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

# Importing jupyter_ydoc loads every `jupyter_ydoc` entry point, this module's among them. When this
# module is imported first, that re-enters it half-initialised: a placeholder keeps the import from
# failing, and the real class is registered at the end of the module.
YIsproj = None

import jupyter_ydoc  # noqa: E402
from jupyter_ydoc.ybasedoc import YBaseDoc  # noqa: E402
from pycrdt import Awareness, Decoder, Doc, get_state  # noqa: E402

from .document import ROOTS, doc_to_data, dumps_canonical, loads_document  # noqa: E402
from .merge import merge_data  # noqa: E402
from .ylog import LOG_NAME, UpdateLog, read_state, text_sha  # noqa: E402

log = logging.getLogger(__name__)

#: How often the server looks for rows kernels and the CLI appended (seconds). A look is one PRAGMA
#: data_version query; measured with one idle room: 0.35% of a core at 0.1 s, 0.50% at 0.05 s, 0.90% at
#: 0.025 s, for a kernel -> room median of 53, 30 and 17 ms (benchmarks/storage/RESULTS.md).
POLL_SECONDS = float(os.environ.get("IMAGESTUDIO_ROOM_POLL_SECONDS", "0.05"))
#: The lease kernels honour: renewed every third of it while the room is open.
LEASE_SECONDS = 10.0

#: Who sent the changes of each Yjs client id into this server's rooms, as the roles extension
#: (collab/enforce.py) lets an update in: the log then names the person behind a room's change. Bounded.
_authors: OrderedDict[int, str] = OrderedDict()
_AUTHORS_KEPT = 4096


def _client_ids(update: bytes) -> list[int]:
    """The Yjs client ids whose changes ``update`` carries (from its state vector)."""
    decoder = Decoder(get_state(update))
    clients = []
    for _ in range(decoder.read_var_uint()):
        clients.append(decoder.read_var_uint())
        decoder.read_var_uint()  # the clock
    return clients


def note_author(update: bytes, username: str) -> None:
    """Remember that ``username`` sent ``update`` (its client ids), for the log rows of the room's changes.

    Examples
    --------
    >>> from pycrdt import Array, Doc
    >>> doc = Doc(); doc.get("layers", type=Array).append("x")
    >>> note_author(doc.get_update(), "bo"); author_of(doc.get_update())
    'bo'
    """
    for client in _client_ids(update):
        _authors[client] = username
        _authors.move_to_end(client)
    while len(_authors) > _AUTHORS_KEPT:
        _authors.popitem(last=False)


def author_of(update: bytes) -> str | None:
    """Who sent ``update`` (several people joined by ", "), or ``None`` when nobody was noted for it."""
    names = sorted({_authors[client] for client in _client_ids(update) if client in _authors})
    return ", ".join(names) or None


# Folders whose room document was created, by project id: the loader's throwaway document (which has no
# path) finds the log through this when the room initialises from the file.
_folders_by_id: dict[str, Path] = {}
#: The same, by the SHA-256 of the project file's text when the room bound to it: a file the log itself
#: wrote is then loaded from the log without being parsed (35 ms of a 500-layer room's first join).
_folders_by_text: OrderedDict[str, Path] = OrderedDict()
_TEXTS_KEPT = 256


def server_root() -> Path:
    """The Jupyter server's root folder (room paths are relative to it)."""
    try:
        from jupyter_server.serverapp import ServerApp

        if ServerApp.initialized():
            return Path(ServerApp.instance().root_dir).expanduser()
    except Exception:  # not inside a server: paths are taken as they come
        pass
    return Path.cwd()


def _log_state(folder: Path, content: dict[str, Any] | None) -> bytes:
    """The log's state with the file's own edits merged in (creating the log from the file when missing).

    The merge runs on a document with a random client id: the loader's document has the fixed client
    id 0, and items made under it in two server sessions would collide.
    """
    log_ = UpdateLog(folder)
    try:
        updates, last = log_.read_all()
        doc = Doc()
        for update in updates:
            doc.apply_update(update)
        if not updates and content is not None:
            merge_data(doc, content, origin="import")
            log_.initialize(doc.get_update(), origin="room")
        elif content is not None:
            text = dumps_canonical(content)
            if log_.snapshot(text_sha(text)) is None:
                base = log_.nearest_snapshot(text)  # text is canonical here
                changes: list[bytes] = []
                subscription = doc.observe(lambda event: changes.append(bytes(event.update)))
                merge_data(doc, content, base=loads_document(base[1]) if base else None, origin="file")
                doc.unobserve(subscription)
                for change in changes:
                    log_.append(change, origin="file")
        return doc.get_update()
    finally:
        log_.close()


def _snapshot_state(folder: Path, sha: str) -> bytes | None:
    """The log's state (``read_state``) when it recorded a snapshot of this hash; ``None`` when it did not, or
    there is no log."""
    if not (folder / LOG_NAME).is_file():
        return None
    log_ = UpdateLog(folder, create=False)
    try:
        known = log_.snapshot(sha) is not None
    finally:
        log_.close()
    return read_state(folder) if known else None


class YIsproj(YBaseDoc):
    """A project document shared in a room ``text:isproj:<fileId>``."""

    def __init__(self, ydoc: Doc | None = None, awareness: Awareness | None = None):
        super().__init__(ydoc, awareness)
        self._roots = {name: self._ydoc.get(name, type=kind) for name, kind in ROOTS.items()}
        for name in ("meta", "layers", "comments"):
            self.undo_manager.expand_scope(self._roots[name])
        self._log: UpdateLog | None = None
        self._folder: Path | None = None
        self._seen = 0
        self._merging = False
        self._holder = f"room-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._tasks: list[asyncio.Task] = []
        self._log_subscription = None

    @property
    def version(self) -> str:
        return "1.0.0"

    # --- binding to the project's log ------------------------------------------------------------
    @property
    def path(self) -> str | None:
        return self._ystate.get("path")

    @path.setter
    def path(self, value: str) -> None:
        self._ystate["path"] = value
        try:
            self._bind(server_root() / value)
        except Exception as exc:  # the room still works as a plain document; say why the log is not used
            log.warning("isproj room for %s works without the update log: %s", value, exc)

    def _bind(self, document: Path) -> None:
        folder = document.parent.resolve()
        if self._folder == folder:
            return
        self._unbind()
        self._folder = folder
        self._log = UpdateLog(folder)
        self._seen = 0
        meta_id = _meta_id(folder)
        if meta_id:
            _folders_by_id[meta_id] = folder
        try:
            _folders_by_text[text_sha((folder / document.name).read_text(encoding="utf-8"))] = folder
            while len(_folders_by_text) > _TEXTS_KEPT:
                _folders_by_text.popitem(last=False)
        except (OSError, UnicodeDecodeError):  # no file yet, or not text: set() parses what it is given
            pass
        self._log_subscription = self._ydoc.observe(self._on_transaction)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._tasks = [loop.create_task(self._follow_log()), loop.create_task(self._hold_lease())]

    def _unbind(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if self._log_subscription is not None:
            self._ydoc.unobserve(self._log_subscription)
            self._log_subscription = None
        if self._log is not None:
            try:
                self._log.release_room(self._holder)
            except Exception:
                pass
            self._log.close()
            self._log = None

    def _on_transaction(self, event: Any) -> None:
        """Append what the room's clients changed (not what came from the log, not the initial load)."""
        if self._merging or self._log is None:
            return
        update = bytes(event.update)
        if len(update) <= 2 or bytes(event.before_state) in (b"", b"\x00"):
            return
        try:
            self._log.append(update, origin="room", user=author_of(update))
        except Exception as exc:  # the room keeps the change; the next save of the file carries it
            log.error("could not append a room change to %s: %s", self._log.path, exc)

    def catch_up(self) -> bool:
        """Merge the rows kernels and the CLI appended; the room sends them to its clients."""
        if self._log is None:
            return False
        if self._seen == 0:  # the first look: the newest keyframe and what follows it
            fresh, last = self._log.read_all()
        else:
            rows, last = self._log.read_since_rows(self._seen)
            fresh = [data for _, data in rows]
        self._merging = True
        try:
            with self._ydoc.transaction(origin="log"):
                for data in fresh:
                    self._ydoc.apply_update(data)
        finally:
            self._merging = False
        self._seen = last
        return bool(fresh)

    async def _follow_log(self) -> None:
        first = True
        while self._log is not None:
            try:
                if first or self._log.changed():
                    self.catch_up()
                    first = False
            except Exception as exc:
                log.warning("could not read the update log of %s: %s", self._folder, exc)
            await asyncio.sleep(POLL_SECONDS)

    async def _hold_lease(self) -> None:
        while self._log is not None:
            try:
                self._log.set_room_lease(self._holder, LEASE_SECONDS)
            except Exception as exc:
                log.warning("could not renew the room lease of %s: %s", self._folder, exc)
            await asyncio.sleep(LEASE_SECONDS / 3)

    # --- the YBaseDoc interface --------------------------------------------------------------------
    def get(self) -> str:
        """The document as canonical JSON text (recorded in the log as a snapshot it produced)."""
        text = dumps_canonical(doc_to_data(self._ydoc))
        if self._log is not None:
            try:
                self._log.record_snapshot(text_sha(text), self._seen, text)
            except Exception as exc:
                log.warning("could not record the snapshot of %s: %s", self._folder, exc)
        return text

    def set(self, value: str) -> None:
        """Load JSON text: from the project's log when it has one, merging only what the text changes."""
        if self._empty():
            sha = text_sha(value)
            folder = self._folder or _folders_by_text.get(sha)
            state = _snapshot_state(folder, sha) if folder is not None else None
            if state is not None:  # a file the log wrote: the log holds all of it, and what came after
                self._ydoc.apply_update(state)
                return
        data = loads_document(value, source=self.path or "isproj document")
        if self._empty():
            # The first load (often into the loader's throwaway document, which has no path): start from
            # the log's history, never from new items that no kernel's document would know.
            folder = self._folder or _folders_by_id.get(data.get("meta", {}).get("id"))
            if folder is not None and folder.is_dir():
                self._ydoc.apply_update(_log_state(folder, data))
            else:
                merge_data(self._ydoc, data, origin="load")
            return
        text = dumps_canonical(data)
        if self._log is not None and self._log.snapshot(text_sha(text)) is not None:
            return  # a file this log wrote: nothing new in it
        if self._log is not None:
            self.catch_up()
        base = self._log.nearest_snapshot(text) if self._log is not None else None
        merge_data(self._ydoc, data, base=loads_document(base[1]) if base else None, origin="file")

    def _empty(self) -> bool:
        return self._roots["meta"].get("id") is None

    def observe(self, callback: Callable[[str, Any], None]) -> None:
        """Call ``callback(root_name, event)`` on any change, including nested ones."""
        super().unobserve()
        self._subscriptions[self._ystate] = self._ystate.observe(partial(callback, "state"))
        for name, root in self._roots.items():
            self._subscriptions[root] = root.observe_deep(partial(callback, name))

    def unobserve(self) -> None:
        """Stop notifying; when the room stops, also stop following the log and release the lease."""
        super().unobserve()
        self._unbind()


def _meta_id(folder: Path) -> str | None:
    """The project id of a folder, from its log or its JSON (``None`` when neither says)."""
    from .workspace import DOCUMENT_NAME

    if (folder / LOG_NAME).exists():
        try:
            doc = Doc()
            doc.apply_update(read_state(folder))
            # The id alone: converting the whole document was 50 ms of a 500-layer room's first join.
            meta_id = doc.get("meta", type=ROOTS["meta"]).get("id")
            return meta_id if isinstance(meta_id, str) else None
        except Exception:
            pass
    try:
        return loads_document((folder / DOCUMENT_NAME).read_bytes())["meta"].get("id")
    except Exception:
        return None


_registry = getattr(jupyter_ydoc, "ydocs", None)  # absent while jupyter_ydoc itself is loading us
if _registry is not None and _registry.get("isproj") is None:
    _registry["isproj"] = YIsproj
