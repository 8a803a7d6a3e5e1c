"""``FilterPanel``: a filter chain editor whose controls are generated from the filter registry, with a live
preview the kernel renders at screen resolution and sends as binary JPEG (DESIGN.md D3).

The browser keeps at most one preview request in flight and sends only the latest parameters when it
returns, so dragging a slider never builds a queue. Apply stores the chain on the layer
(``Project.update_layer(filters=...)``); presets come from ``imaging.presets``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import traitlets

from ..errors import InvalidArgumentError
from ._base import Reply, StudioWidget, bundle, call_soon, open_project
from .rasters import layer_pixels

#: Longest side of a preview when the browser does not say (screen pixels).
DEFAULT_PREVIEW_SIDE = 768


class FilterPanel(StudioWidget):
    """Edit, preview and apply a layer's filter chain.

    Parameters
    ----------
    project : Project or str
        The project.
    canvas : Canvas, optional
        Follow this canvas's selected layer.
    layer : str, optional
        The layer to filter (when no canvas is given, or to start with).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from imagestudio_nb import Project
    >>> p = Project.create("FilterDoc", workspace=tempfile.mkdtemp(), width=32, height=32)
    >>> asset = p.assets.add(np.full((32, 32, 3), 100, np.uint8)).hash
    >>> panel = FilterPanel(p, layer=p.add_layer("image", asset=asset))
    >>> panel.chain = [{"filter": "brightness", "params": {"amount": 0.2}}]
    >>> panel.preview()[:2]
    b'\\xff\\xd8'
    >>> panel.apply()[0]["params"]["amount"], p.layers()[0]["filters"][0]["filter"]
    (0.2, 'brightness')
    """

    _esm = bundle("filter_panel")
    _calls = frozenset({"apply", "cancel", "load_preset", "save_preset"})

    filters = traitlets.List().tag(sync=True)
    presets = traitlets.List().tag(sync=True)
    layer = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    layer_name = traitlets.Unicode("").tag(sync=True)
    chain = traitlets.List().tag(sync=True)

    def __init__(self, project, *, canvas=None, layer: str | None = None, **kwargs: Any):
        from ..imaging.filters import list_filters
        from ..imaging.presets import list_presets

        self.project = open_project(project)
        self._source_key: str | None = None
        self._source = None
        self._alpha_key: str | None = None
        self._has_alpha = False
        super().__init__(filters=list_filters(), presets=list_presets(), **kwargs)
        self.canvas = canvas
        self._stored: list | None = None
        if canvas is not None:
            canvas.observe(self._follow_canvas, names="selected_layer")
            layer = layer or canvas.selected_layer
        self.layer = layer
        self._subscription = self.project.doc.observe(lambda event: call_soon(self._check_stored_chain))

    def _check_stored_chain(self) -> None:
        """When the layer's stored chain changes elsewhere (undo, another view), show it."""
        if not self.layer:
            return
        try:
            stored = list(self.project.layer(self.layer).get("filters") or [])
        except Exception:
            return
        if stored != self._stored:
            self._stored = stored
            self.chain = stored

    # --- which layer -----------------------------------------------------------------------------------
    def _follow_canvas(self, change) -> None:
        self.layer = change["new"]

    @traitlets.observe("layer")
    def _layer_changed(self, change) -> None:
        layer_id = change["new"]
        if layer_id is None:
            self.layer_name, self.chain = "", []
            return
        try:
            layer = self.project.layer(layer_id)
        except Exception:
            self.layer_name, self.chain = "", []
            return
        self.layer_name = f"{layer['name']} ({layer['kind']})"
        self._stored = list(layer.get("filters") or [])
        self.chain = list(self._stored)

    def _target(self, layer_id: str | None = None) -> dict:
        layer_id = layer_id or self.layer
        if not layer_id:
            raise InvalidArgumentError("no layer to filter: select an image, paint or text layer on the canvas")
        layer = self.project.layer(layer_id)
        if layer["kind"] == "mask":
            raise InvalidArgumentError(f"layer {layer['name']!r} is a mask; filters apply to image, paint and text layers")
        return layer

    def _source_pixels(self, layer_id: str | None = None):
        layer = self._target(layer_id)
        key = json.dumps([layer["id"], layer.get("kind"), layer.get("asset"), layer.get("strokes"), layer.get("text")],
                         sort_keys=True, default=str)
        if key != self._source_key:
            pixels = layer_pixels(self.project, {**layer, "filters": []})
            if pixels is None:
                raise InvalidArgumentError(f"layer {layer['name']!r} has no pixels yet")
            self._source_key, self._source = key, pixels
        return self._source

    def close(self) -> None:
        """Close the widget and stop observing the project."""
        try:
            self.project.doc.unobserve(self._subscription)
        except Exception:  # already unobserved
            pass
        super().close()

    # --- public actions --------------------------------------------------------------------------------
    def preview(self, chain: list | None = None, *, max_side: int = DEFAULT_PREVIEW_SIDE, layer: str | None = None) -> bytes:
        """Encoded preview of the layer with ``chain`` (default: the panel's), at most ``max_side`` pixels long
        (``imaging.chains.render_preview``): JPEG, or PNG when the layer has transparency (a paint or text
        layer, a cut-out), which JPEG would show as black. ``preview_format()`` says which."""
        from ..imaging.chains import render_preview

        return render_preview(self._source_pixels(layer), self.chain if chain is None else chain,
                              max_side=int(max_side), format=self.preview_format(layer), quality=85,
                              load_asset=lambda h: self.project.assets.read_array(h, mode="RGBA"))

    def preview_format(self, layer: str | None = None) -> str:
        """``"png"`` when the layer's pixels have any transparency, else ``"jpeg"`` (smaller and faster)."""
        pixels = self._source_pixels(layer)
        if self._source_key != self._alpha_key:
            self._alpha_key = self._source_key
            self._has_alpha = pixels.shape[2] == 4 and bool((pixels[..., 3] < 255).any())
        return "png" if self._has_alpha else "jpeg"

    def apply(self) -> list:
        """Store the panel's chain on the layer (``Project.update_layer(filters=...)``) and return it."""
        chain = self._store(self.chain)
        self._stored = chain
        self.chain = chain
        return chain

    def _store(self, chain: list, layer_id: str | None = None) -> list:
        """Check ``chain`` and store it on the layer (default: the panel's); return it as stored."""
        from ..imaging.chains import validate_chain

        layer = self._target(layer_id)
        checked = validate_chain(chain)
        self.project.update_layer(layer["id"], filters=checked)
        return checked

    def cancel(self) -> list:
        """Forget unapplied edits: back to the layer's stored chain."""
        layer = self._target()
        self.chain = list(layer.get("filters") or [])
        return self.chain

    def load_preset(self, name: str, *, merge: bool = False) -> list:
        """Replace the panel's chain with preset ``name`` (``imaging.presets.get_preset``), or with
        ``merge=True`` add the preset's steps after the chain's (one change: Cancel goes back to before)."""
        self.chain = _with_preset(self.chain, name, merge)
        return self.chain

    def save_preset(self, name: str, *, description: str = "") -> None:
        """Save the panel's chain as a user preset (``imaging.presets.save_preset``)."""
        self._save_preset(name, self.chain, description)

    def _save_preset(self, name: str, chain: list, description: str = "") -> None:
        from ..imaging.presets import list_presets, save_preset

        save_preset(name, chain, description=description, overwrite=True)
        self.presets = list_presets()

    # --- messages --------------------------------------------------------------------------------------
    def _msg_preview(self, content: dict, buffers: list[bytes]) -> Reply:
        started = time.perf_counter()
        chain = content.get("chain")
        if not isinstance(chain, list):
            raise InvalidArgumentError("a preview needs a chain (a list of steps)")
        side = content.get("max_side") or DEFAULT_PREVIEW_SIDE
        layer = content.get("layer") or None  # the browser view's own layer (views do not share it)
        data = self.preview(chain, max_side=max(16, min(4096, int(side))), layer=layer)
        return Reply(None, [data], seq=content.get("seq"), mime=f"image/{self.preview_format(layer)}",
                     kernel_ms=round((time.perf_counter() - started) * 1000, 2))

    # A browser view sends its own layer and chain: the calls answer it without changing the panel's traits,
    # which are the notebook's (another person's view on the same kernel keeps what it is editing).
    def _msg_layer_info(self, content: dict, buffers: list[bytes]) -> dict:
        layer_id = content.get("layer")
        if not layer_id:
            return {"layer": None, "name": "", "filters": []}
        layer = self.project.layer(str(layer_id))
        return {"layer": layer["id"], "name": f"{layer['name']} ({layer['kind']})", "filters": list(layer.get("filters") or [])}

    def _call_apply(self, buffers, chain: list | None = None, layer: str | None = None) -> list:
        if layer is None:
            if chain is not None:
                self.chain = chain
            return self.apply()
        return self._store(self.chain if chain is None else chain, layer)

    def _call_cancel(self, buffers, layer: str | None = None) -> list:
        if layer is None:
            return self.cancel()
        return list(self._target(layer).get("filters") or [])

    def _call_load_preset(self, buffers, name: str, merge: bool = False, chain: list | None = None) -> list:
        if chain is None:
            return self.load_preset(name, merge=bool(merge))
        return _with_preset(chain, name, bool(merge))

    def _call_save_preset(self, buffers, name: str, chain: list | None = None) -> None:
        if chain is None:
            return self.save_preset(name)
        self._save_preset(name, chain)


def _with_preset(chain: list, name: str, merge: bool) -> list:
    """Preset ``name``'s steps instead of ``chain``, or after it with ``merge``."""
    from ..imaging.presets import get_preset

    steps = list(get_preset(name)["chain"])
    return [*chain, *steps] if merge else steps
