"""``Gallery``: a project's assets and generations as a grid of thumbnails, with search and tags; a click
puts an image on the canvas (``Project.add_layer``), and two images can be compared side by side.

Thumbnails and full images travel as binary buffers; the grid's metadata is a small synced list.
"""

from __future__ import annotations

from typing import Any

import traitlets

from ..errors import InvalidArgumentError
from ._base import Reply, StudioWidget, bundle, call_soon, open_project

THUMB_SIDE = 192


class Gallery(StudioWidget):
    """The images of a project.

    Parameters
    ----------
    project : Project or str
        The project.
    canvas : Canvas, optional
        Where a clicked image goes (it becomes a layer of the project either way).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from imagestudio_nb import Project
    >>> p = Project.create("GalleryDoc", workspace=tempfile.mkdtemp())
    >>> asset = p.assets.add(np.zeros((8, 8, 3), np.uint8), tags=["dark"]).hash
    >>> gallery = Gallery(p)
    >>> [item["tags"] for item in gallery.items]
    [['dark']]
    >>> gallery.tag(asset, "night")
    ['dark', 'night']
    >>> gallery.search("dark") == [asset]
    True
    >>> p.layers()[0]["asset"] == asset if gallery.add_to_canvas(asset) else None
    True
    """

    _esm = bundle("gallery")
    _calls = frozenset({"thumbnails", "image", "search", "add_to_canvas", "tag", "untag"})

    items = traitlets.List().tag(sync=True)

    def __init__(self, project, *, canvas=None, **kwargs: Any):
        self.project = open_project(project)
        self.canvas = canvas
        super().__init__(items=self._items(), **kwargs)
        self._subscription = self.project.doc.observe(self._on_document)

    def _on_document(self, event) -> None:
        # Runs inside the transaction's callback, where the document cannot be read: refresh right after on
        # the kernel's event loop, and in any case before the next action (a script has no running loop).
        self._stale = True
        call_soon(self._refresh_if_stale)

    def _refresh_if_stale(self) -> None:
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Re-read the project's assets into the grid."""
        self._stale = False
        items = self._items()
        if items != self.items:
            self.items = items

    def _items(self) -> list[dict[str, Any]]:
        prompts: dict[str, dict[str, Any]] = {}
        for record in self.project.generations():
            for digest in record.get("assets") or []:
                prompts[digest] = {"prompt": (record.get("request") or {}).get("prompt"), "model": record.get("model"),
                                   "generation": record.get("id")}
        items = []
        for info in reversed(self.project.assets.list()):
            items.append({"hash": info.hash, "width": info.width, "height": info.height, "tags": list(info.tags),
                          "source": info.source, "created": info.created, **prompts.get(info.hash, {})})
        return items

    def close(self) -> None:
        """Close the widget and stop observing the project."""
        try:
            self.project.doc.unobserve(self._subscription)
        except Exception:  # already unobserved
            pass
        super().close()

    # --- public actions --------------------------------------------------------------------------------
    def search(self, query: str) -> list[str]:
        """Hashes of the assets matching ``query`` (``Project.search`` over tags, sources and prompts)."""
        if getattr(self, "_stale", False):
            self.refresh()
        found: list[str] = []
        for hit in self.project.search(query, limit=200):
            if hit["kind"] == "asset":
                refs = [hit["ref"]]
            elif hit["kind"] == "generation":
                try:
                    refs = self.project.generation(hit["ref"]).get("assets") or []
                except Exception:
                    refs = []
            else:
                refs = []
            found.extend(r for r in refs if r not in found)
        return found

    def add_to_canvas(self, asset: str) -> str:
        """Put an asset on the canvas as a new top layer (``Project.add_layer``) and return the layer id."""
        if getattr(self, "_stale", False):
            self.refresh()
        info = self.project.assets.info(asset)
        generated = (info.source or "").startswith("generation:")
        item = next((i for i in self.items if i["hash"] == info.hash), {})
        name = (item.get("prompt") or info.source or "Image")[:40]
        layer = self.project.add_layer("generated" if generated else "image", name=name, asset=info.hash)
        if self.canvas is not None:
            self.canvas.selected_layer = layer
        return layer

    def tag(self, asset: str, *tags: str) -> list[str]:
        """Add tags to an asset (``project.assets.tag``)."""
        info = self.project.assets.tag(asset, *tags)
        self.refresh()
        return list(info.tags)

    def untag(self, asset: str, *tags: str) -> list[str]:
        """Remove tags from an asset."""
        info = self.project.assets.untag(asset, *tags)
        self.refresh()
        return list(info.tags)

    # --- messages --------------------------------------------------------------------------------------
    def _call_thumbnails(self, buffers, assets: list) -> Reply:
        if len(assets) > 64:
            raise InvalidArgumentError("ask for at most 64 thumbnails at a time")
        return Reply(None, [self.project.assets.thumbnail(h, THUMB_SIDE) for h in assets])

    def _call_image(self, buffers, asset: str) -> Reply:
        info = self.project.assets.info(asset)
        return Reply({"mime": info.mime, "width": info.width, "height": info.height}, [self.project.assets.read(info.hash)])

    def _call_search(self, buffers, query: str) -> list:
        return self.search(query) if query.strip() else [i["hash"] for i in self.items]

    def _call_add_to_canvas(self, buffers, asset: str) -> str:
        return self.add_to_canvas(asset)

    def _call_tag(self, buffers, asset: str, tag: str) -> list:
        if not tag.strip():
            raise InvalidArgumentError("a tag must not be empty")
        return self.tag(asset, tag.strip())

    def _call_untag(self, buffers, asset: str, tag: str) -> list:
        return self.untag(asset, tag)
