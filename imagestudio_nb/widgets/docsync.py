"""The kernel end of the document sync (DESIGN.md D2 without a collaborative server): each project's
Y document is relayed to every Canvas view as binary Y updates, and the views' updates are applied
through ``Project.apply_update``, as this view's own edits, so they are saved and undoable.

It never interprets the document; the project layer owns the schema.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any, Protocol


class View(Protocol):
    def send_update(self, update: bytes) -> None: ...


class DocRelay:
    """Fans out a project's Y updates to its views and applies theirs."""

    def __init__(self, project):
        self.project = project
        self._views: weakref.WeakSet[Any] = weakref.WeakSet()
        self._source: Any = None
        self._lock = threading.RLock()
        self._subscription = project.doc.observe(self._on_transaction)

    def attach(self, view: View) -> None:
        self._views.add(view)

    def detach(self, view: View) -> None:
        self._views.discard(view)

    def _on_transaction(self, event) -> None:
        update = bytes(event.update)  # the event is only valid inside this callback
        if len(update) <= 2:  # an empty update (a read-only transaction)
            return
        for view in list(self._views):
            if view is not self._source:
                view.send_update(update)

    def state(self, state_vector: bytes | None = None) -> bytes:
        """The document as an update, or only what a peer with ``state_vector`` lacks."""
        return self.project.doc.get_update(state_vector) if state_vector else self.project.doc.get_update()

    def apply(self, update: bytes, source: View | None = None) -> None:
        """Apply a view's update as a local, undoable change and save; other views receive it."""
        with self._lock:
            self._source = source
            try:
                with self.project.batch():
                    self.project.apply_update(update)
            finally:
                self._source = None


_relays: dict[Path, DocRelay] = {}
_relays_lock = threading.Lock()


def relay_for(project) -> DocRelay:
    """The one relay of ``project`` (one per project folder and document in this process)."""
    key = Path(project.path).resolve()
    with _relays_lock:
        relay = _relays.get(key)
        if relay is None or relay.project is not project or relay.project.doc is not project.doc:
            if relay is not None:
                relay.project.doc.unobserve(relay._subscription)
            relay = DocRelay(project)
            _relays[key] = relay
        return relay
