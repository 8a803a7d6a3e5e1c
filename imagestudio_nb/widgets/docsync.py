"""The kernel end of the document sync (DESIGN.md D2 without a collaborative server): each project's
Y document is relayed to every view of every Canvas as binary Y updates, the sender included, each
tagged with the view whose message caused it (``view``, else ``None``), so that a view applies its own
changes with its own origin and its Y UndoManager can undo them. Views' updates are applied through
``Project.apply_update`` inside ``Project.on_behalf_of(view)``, so they are saved but left out of the
kernel's own ``Project.undo()``. Presence (awareness updates) is re-broadcast to every view.

It never interprets the document; the project layer owns the schema.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol


class View(Protocol):
    """A widget whose front ends receive the document (a Canvas)."""

    def send_update(self, update: bytes, view: str | None) -> None: ...

    def send_awareness(self, update: bytes, view: str | None) -> None: ...


def acting_for(project, view: str | None):
    """``project.on_behalf_of(view)`` when a view caused the change, else nothing (the notebook's own change).

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb import Project
    >>> p = Project.create("Acting", workspace=tempfile.mkdtemp())
    >>> with acting_for(p, "view-1"):
    ...     _ = p.add_layer("paint", name="From a view")
    >>> with acting_for(p, None):
    ...     _ = p.add_layer("paint", name="From the notebook")
    >>> p.undo(), [l["name"] for l in p.layers()]
    (True, ['From a view'])
    """
    return project.on_behalf_of(str(view)) if view else nullcontext(project)


class DocRelay:
    """Fans out a project's Y updates to its views, tagged with the view that caused them, and applies theirs."""

    def __init__(self, project):
        self.project = project
        self._views: weakref.WeakSet[Any] = weakref.WeakSet()
        self._cause: str | None = None
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
            view.send_update(update, self._cause)

    @contextmanager
    def caused_by(self, view: str | None) -> Iterator[None]:
        """Changes made inside the block are tagged with ``view`` (and made on its behalf)."""
        with self._lock:
            previous, self._cause = self._cause, (str(view) if view else None)
            try:
                with acting_for(self.project, self._cause):
                    yield
            finally:
                self._cause = previous

    def state(self, state_vector: bytes | None = None) -> bytes:
        """The document as an update, or only what a peer with ``state_vector`` lacks."""
        return self.project.doc.get_update(state_vector) if state_vector else self.project.doc.get_update()

    def state_vector(self) -> bytes:
        """The kernel's state vector, so a view can send what the kernel lacks (its offline edits)."""
        return self.project.doc.get_state()

    def apply(self, update: bytes, view: str | None = None) -> None:
        """Apply a view's update as a saved change made on its behalf; every view receives it, tagged."""
        with self.caused_by(view), self.project.batch():
            self.project.apply_update(update)

    def broadcast_awareness(self, update: bytes, view: str | None) -> None:
        """Send a view's presence to every view (each front end ignores its own)."""
        for target in list(self._views):
            target.send_awareness(update, view)


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


def caused_by(project, view: str | None):
    """Tag the changes of a panel's call with the view (page) that made it: through the project's relay
    when a Canvas relays it, else only ``on_behalf_of``. Never creates or replaces a relay."""
    relay = _relays.get(Path(project.path).resolve())
    if relay is not None and relay.project is project:
        return relay.caused_by(view)
    return acting_for(project, view)
