"""The ``isproj`` document type for jupyter-collaboration (registered as a ``jupyter_ydoc`` entry point).

The collaborative server loads ``project.isproj`` as text and calls :meth:`YIsproj.set`; it saves by
calling :meth:`YIsproj.get`. Both go through the same canonical JSON functions as ``Project``, so a
file saved by the server and one saved by the kernel are byte for byte the same format.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

# Importing jupyter_ydoc loads every `jupyter_ydoc` entry point, this module's among them. When this
# module is imported first, that re-enters it half-initialised: a placeholder keeps the import from
# failing, and the real class is registered at the end of the module.
YIsproj = None

import jupyter_ydoc  # noqa: E402
from jupyter_ydoc.ybasedoc import YBaseDoc  # noqa: E402
from pycrdt import Array, Awareness, Doc, Map  # noqa: E402

from .document import doc_to_data, dumps_canonical, fill_doc, loads_document


class YIsproj(YBaseDoc):
    """A project document shared in a room ``text:isproj:<fileId>``."""

    def __init__(self, ydoc: Doc | None = None, awareness: Awareness | None = None):
        super().__init__(ydoc, awareness)
        self._roots = {
            "meta": self._ydoc.get("meta", type=Map),
            "layers": self._ydoc.get("layers", type=Array),
            "generations": self._ydoc.get("generations", type=Array),
            "comments": self._ydoc.get("comments", type=Array),
            "checkpoints": self._ydoc.get("checkpoints", type=Array),
            "roles": self._ydoc.get("roles", type=Map),
            "assets": self._ydoc.get("assets", type=Map),
        }
        for name in ("meta", "layers", "comments"):
            self.undo_manager.expand_scope(self._roots[name])

    @property
    def version(self) -> str:
        return "1.0.0"

    def get(self) -> str:
        """The document as canonical JSON text."""
        return dumps_canonical(doc_to_data(self._ydoc))

    def set(self, value: str) -> None:
        """Load JSON text into the document (a no-op when nothing would change)."""
        data = loads_document(value, source=self.path or "isproj document")
        if self._roots["meta"].get("id") is not None and dumps_canonical(data) == self.get():
            return
        fill_doc(self._ydoc, data)

    def observe(self, callback: Callable[[str, Any], None]) -> None:
        """Call ``callback(root_name, event)`` on any change, including nested ones."""
        self.unobserve()
        self._subscriptions[self._ystate] = self._ystate.observe(partial(callback, "state"))
        for name, root in self._roots.items():
            self._subscriptions[root] = root.observe_deep(partial(callback, name))


_registry = getattr(jupyter_ydoc, "ydocs", None)  # absent while jupyter_ydoc itself is loading us
if _registry is not None and _registry.get("isproj") is None:
    _registry["isproj"] = YIsproj
