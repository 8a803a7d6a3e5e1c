"""Layer operations of a project: the ``Project`` methods that add, change, move and remove layers.

They are methods of ``Project`` (imported into its class body), kept here so that ``project.py`` holds the
project's life cycle and how changes reach the log. Each looks its layer up inside the change, after other
processes' rows were taken in, so it never acts on a stale position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycrdt import Map

from ..errors import InvalidArgumentError, NotFoundError, UnsupportedParameterError
from .document import (BLEND_MODES, LAYER_KINDS, in_stack_order, layer_to_y, new_id, new_layer, now_iso,
                       restore_ints, stack_key)

if TYPE_CHECKING:
    from .project import Project

LAYER_FIELDS = {"name", "kind", "asset", "visible", "locked", "opacity", "blend_mode", "transform", "filters",
                "strokes", "mask", "text", "source"}


def _find_layer(self: Project, layer_id: str) -> tuple[int, Map]:
    for index, layer in enumerate(self._layers):
        if layer["id"] == layer_id:
            return index, layer
    raise NotFoundError(f"no layer {layer_id!r} in project {self.name!r}; layers: "
                        f"{[l['id'] for l in self._layers] or 'none'}")

def layers(self: Project, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    """The layers as plain data, bottom first; deleted ones (see ``remove_layer``) only with ``include_deleted``."""
    self.refresh()
    every = in_stack_order(restore_ints(self._layers.to_py() or []))
    return every if include_deleted else [layer for layer in every if not layer.get("deleted")]

def deleted_layers(self: Project) -> list[dict[str, Any]]:
    """The deleted layers that can still be restored (``restore_layer``), bottom first.

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb import Project
    >>> p = Project.create("Bin", workspace=tempfile.mkdtemp())
    >>> ink = p.add_layer("paint", name="Ink")
    >>> p.remove_layer(ink)
    >>> [l["name"] for l in p.layers()], [l["name"] for l in p.deleted_layers()]
    ([], ['Ink'])
    >>> p.restore_layer(ink); [l["name"] for l in p.layers()]
    ['Ink']
    """
    return [layer for layer in self.layers(include_deleted=True) if layer.get("deleted")]

#: Closer than this, two neighbours' places leave no room between them: the stack is renumbered first.
_MIN_GAP = 1e-6


def _place_at(self: Project, index: int | None, moving: str | None = None) -> float:
    """The ``z`` that puts a layer at ``index`` among the shown layers (``moving`` left out), on top for None.

    Between its neighbours' places, so that no other layer changes; when they are too close, every layer is
    given a whole-number place first (in the same change).
    """
    keyed = [(stack_key(layer, i), layer) for i, layer in enumerate(self._layers)]
    keyed.sort(key=lambda pair: pair[0])
    live = [(key[0], layer) for key, layer in keyed if not layer.get("deleted") and layer["id"] != moving]
    if index is None or index >= len(live):
        return (max(key[0] for key, _ in keyed) + 1.0) if keyed else 0.0
    index = max(0, index)
    upper = live[index][0]
    lower = live[index - 1][0] if index > 0 else upper - 2.0
    if upper - lower < _MIN_GAP:
        for place, (_, layer) in enumerate(keyed):
            layer["z"] = float(place)
        return _place_at(self, index, moving)
    return (lower + upper) / 2

def layer(self: Project, layer_id: str) -> dict[str, Any]:
    """One layer as plain data."""
    return restore_ints(self._find_layer(layer_id)[1].to_py())

def check_layer_fields(props: dict[str, Any]) -> None:
    """Refuse unknown layer fields, kinds and blend modes, and an opacity outside 0..1 (naming what is allowed)."""
    unknown = set(props) - LAYER_FIELDS
    if unknown:
        raise UnsupportedParameterError("layer field", sorted(unknown), sorted(LAYER_FIELDS))
    if "kind" in props and props["kind"] not in LAYER_KINDS:
        raise UnsupportedParameterError("kind", props["kind"], LAYER_KINDS)
    if "blend_mode" in props and props["blend_mode"] not in BLEND_MODES:
        raise UnsupportedParameterError("blend_mode", props["blend_mode"], BLEND_MODES)
    if "opacity" in props and not (isinstance(props["opacity"], (int, float)) and 0 <= props["opacity"] <= 1):
        raise UnsupportedParameterError("opacity", props["opacity"], "a number from 0 to 1")

def add_layer(self: Project, kind: str = "image", *, name: str | None = None, asset: str | None = None,
              index: int | None = None, **props: Any) -> str:
    """Add a layer (on top, or at ``index``) and return its id.

    ``asset`` may be a hash (or unique prefix) of a stored asset. Other fields: visible, locked,
    opacity, blend_mode, transform, filters, strokes, mask, text.
    """
    check_layer_fields({"kind": kind, **props})
    if asset is not None:
        asset = self.assets.resolve(asset)
    layer = new_layer(kind, name=name, asset=asset, **props)
    with self._change():
        layer["z"] = _place_at(self, index)
        self._layers.append(layer_to_y(layer))
    return layer["id"]

def update_layer(self: Project, layer_id: str, **props: Any) -> dict[str, Any]:
    """Change fields of a layer; ``transform`` updates are merged key by key."""
    check_layer_fields(props)
    if props.get("asset") is not None:
        props["asset"] = self.assets.resolve(props["asset"])
    # Looked up inside the change: taking in others' rows first may have moved the layer.
    with self._change():
        _, layer = self._find_layer(layer_id)
        for key, value in props.items():
            if key == "transform":
                transform = layer["transform"]
                for t_key, t_value in (value or {}).items():
                    transform[t_key] = t_value
            elif key == "strokes":
                strokes = layer["strokes"]
                strokes.clear()
                strokes.extend(list(value or []))
            else:
                layer[key] = value
    return self.layer(layer_id)

def add_stroke(self: Project, layer_id: str, stroke: dict[str, Any]) -> None:
    """Append one stroke (a compact point list) to a paint or mask layer."""
    with self._change():
        _, layer = self._find_layer(layer_id)
        if layer["kind"] not in ("paint", "mask"):
            raise InvalidArgumentError(f"layer {layer_id!r} is a {layer['kind']} layer; strokes go on paint or "
                                       "mask layers")
        layer["strokes"].append(dict(stroke))

def remove_layer(self: Project, layer_id: str) -> None:
    """Delete a layer, softly: it leaves the stack but stays in the document, restorable with ``restore_layer``.

    Someone painting on it at that moment keeps their strokes (removing it from the document would drop
    every edit made to it concurrently). A mask layer that is deleted masks nothing.
    """
    with self._change():
        _, layer = self._find_layer(layer_id)
        layer["deleted"] = True
        layer["deleted_by"] = self._store.user
        layer["deleted_at"] = now_iso()

def restore_layer(self: Project, layer_id: str) -> None:
    """Bring a deleted layer back where it was, with every stroke made on it meanwhile."""
    with self._change():
        _, layer = self._find_layer(layer_id)
        if not layer.get("deleted"):
            raise InvalidArgumentError(f"layer {layer_id!r} is not deleted; deleted layers: "
                                       f"{[l['id'] for l in self._layers if l.get('deleted')] or 'none'}")
        for key in ("deleted", "deleted_by", "deleted_at"):
            if key in layer:
                del layer[key]

def purge_deleted_layers(self: Project, layer_ids: list[str] | None = None) -> list[str]:
    """Remove deleted layers for good (all, or those in ``layer_ids``): they can no longer be restored, and
    the images only they used can then be cleaned up (``clean_assets`` does this first). Returns their ids."""
    with self._change():
        purged = []
        for index in range(len(self._layers) - 1, -1, -1):
            layer = self._layers[index]
            if layer.get("deleted") and (layer_ids is None or layer["id"] in layer_ids):
                purged.append(layer["id"])
                del self._layers[index]
        for layer in self._layers:  # a mask that is gone for good masks nothing
            if layer.get("mask") in purged:
                layer["mask"] = None
    return purged[::-1]

def move_layer(self: Project, layer_id: str, index: int) -> None:
    """Move a layer to position ``index`` among the layers shown (0 is the bottom).

    Only the layer's place (``z``) changes: strokes someone adds to it while it moves are kept.
    """
    with self._change():
        _, found = self._find_layer(layer_id)
        found["z"] = _place_at(self, index, moving=layer_id)

def duplicate_layer(self: Project, layer_id: str, *, name: str | None = None) -> str:
    """Copy a layer just above itself and return the copy's id."""
    copy_id = new_id("l")
    with self._change():
        _, found = self._find_layer(layer_id)
        data = restore_ints(found.to_py())
        shown = [layer["id"] for layer in in_stack_order(list(self._layers)) if not layer.get("deleted")]
        above = shown.index(layer_id) + 1 if layer_id in shown else None
        data.update(id=copy_id, name=name or f"{data['name']} copy", z=_place_at(self, above))
        self._layers.append(layer_to_y(data))
    return copy_id
