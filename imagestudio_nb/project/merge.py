"""Merging plain document data (a JSON file changed by hand, or by a server) into a live Y document.

Clearing and refilling a root would replace every Y item, and a peer that still holds the old items
would have its next edits dropped. So only what differs is written: a changed field, a new or removed
layer, a moved layer. With a ``base`` (the snapshot the file was written from), a three-way merge takes
only the file's own edits and keeps what others changed in the document since that snapshot.
This module must not touch files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Array, Doc, Map

from .document import comment_to_y, in_stack_order, layer_to_y, restore_ints

_MISSING = object()


def merge_data(doc: Doc, data: dict[str, Any], *, base: dict[str, Any] | None = None,
               origin: Any = "file") -> bool:
    """Write into ``doc`` only what ``data`` changes (relative to ``base`` when given). Returns whether
    anything changed.

    Examples
    --------
    >>> from .document import new_doc, new_document_data, doc_to_data
    >>> data = new_document_data("Demo")
    >>> doc = new_doc(data)
    >>> edited = {**data, "meta": {**data["meta"], "name": "Renamed"}}
    >>> merge_data(doc, edited), doc_to_data(doc)["meta"]["name"]
    (True, 'Renamed')
    >>> merge_data(doc, edited)
    False
    """
    base = base or {}
    changed = False
    with doc.transaction(origin=origin):
        for root in ("meta", "roles", "assets"):
            changed |= _merge_map(doc.get(root, type=Map), data.get(root) or {}, base.get(root) if base else None)
        changed |= _merge_items(doc.get("layers", type=Array), data.get("layers") or [],
                                base.get("layers") if base else None, layer_to_y, _merge_layer)
        changed |= _merge_items(doc.get("comments", type=Array), data.get("comments") or [],
                                base.get("comments") if base else None, comment_to_y, _merge_fields)
        for root in ("generations", "checkpoints"):
            changed |= _merge_items(doc.get(root, type=Array), data.get(root) or [],
                                    base.get(root) if base else None, None, None)
    return changed


def _plain(value: Any) -> Any:
    return restore_ints(value.to_py() if hasattr(value, "to_py") else value)


def _item_id(item: Any) -> Any:
    """An item's id, read without converting the whole item: a layer converted to Python with all its strokes
    for its id alone, once per item per insert, made loading a 500-layer file into an empty room take 20 s."""
    return restore_ints(item.get("id")) if isinstance(item, (Map, dict)) else None


def _merge_map(ymap: Map, new: dict[str, Any], base: dict[str, Any] | None) -> bool:
    changed = False
    for key, value in new.items():
        if base is not None and base.get(key, _MISSING) == value:
            continue  # the file did not change this field: keep the document's
        if _plain(ymap.get(key, _MISSING)) != value:
            ymap[key] = value
            changed = True
    for key in list(ymap.keys()):
        if key not in new and (base is None or key in base):
            del ymap[key]
            changed = True
    return changed


def _merge_fields(ymap: Map, new: dict[str, Any], base: dict[str, Any] | None) -> bool:
    return _merge_map(ymap, new, base)


def _merge_layer(ymap: Map, new: dict[str, Any], base: dict[str, Any] | None) -> bool:
    changed = False
    # A layer's place (z) follows the file's order of layers (_fix_stack_order), not a number someone left there.
    plain = {k: v for k, v in new.items() if k not in ("transform", "strokes", "z")}
    plain_base = {k: v for k, v in base.items() if k not in ("transform", "strokes", "z")} if base else None
    for key, value in plain.items():
        if plain_base is not None and plain_base.get(key, _MISSING) == value:
            continue
        if _plain(ymap.get(key, _MISSING)) != value:
            ymap[key] = value
            changed = True
    transform = ymap.get("transform")
    if isinstance(transform, Map) and "transform" in new:
        changed |= _merge_map(transform, dict(new.get("transform") or {}), (base or {}).get("transform"))
    strokes = ymap.get("strokes")
    if isinstance(strokes, Array) and "strokes" in new:
        wanted = list(new.get("strokes") or [])
        if base is None or (base.get("strokes") or []) != wanted:
            current = _plain(strokes) or []
            if current != wanted:
                if wanted[:len(current)] == current:  # strokes were added: append, keep the old items
                    strokes.extend(wanted[len(current):])
                else:
                    strokes.clear()
                    strokes.extend(wanted)
                changed = True
    return changed


def _merge_items(array: Array, new: list[dict[str, Any]], base: list[dict[str, Any]] | None,
                 to_y: Callable[[dict[str, Any]], Any] | None,
                 merge_one: Callable[[Map, dict[str, Any], dict[str, Any] | None], bool] | None) -> bool:
    """Merge a list of records with ids: update in place, insert new, delete removed, then fix the order."""
    changed = False
    base_by_id = {item.get("id"): item for item in base or [] if isinstance(item, dict)}
    new_ids = [item.get("id") for item in new]
    wanted = set(new_ids)
    ids = [_item_id(item) for item in array]  # kept in step with the array below
    # Deletions: what the file dropped (and, three-way, what the base had: others' new items stay).
    for index in range(len(ids) - 1, -1, -1):
        item_id = ids[index]
        if item_id not in wanted and (base is None or item_id in base_by_id):
            del array[index]
            del ids[index]
            changed = True
    positions = {item_id: i for i, item_id in enumerate(ids)}
    for order, item in enumerate(new):
        item_id = item.get("id")
        previous = base_by_id.get(item_id)
        if item_id in positions:
            current = array[positions[item_id]]
            if previous is not None and previous == item:
                continue
            if merge_one is not None and isinstance(current, Map):
                changed |= merge_one(current, item, previous)
            elif _plain(current) != item:
                index = positions[item_id]
                del array[index]
                array.insert(index, item)
                changed = True
        elif base is None or item_id not in base_by_id:  # new in the file (not deleted by others since)
            insert_at = _insert_position(ids, new_ids[:order])
            array.insert(insert_at, to_y(item) if to_y else item)
            ids.insert(insert_at, item_id)
            positions = {x: i for i, x in enumerate(ids)}
            changed = True
    if merge_one is _merge_layer:
        changed |= _fix_stack_order(array, new, base)
    else:
        changed |= _fix_order(array, new_ids, to_y)
    return changed


def _fix_stack_order(array: Array, new: list[dict[str, Any]], base: list[dict[str, Any]] | None) -> bool:
    """Give layers the file's stack order by their places (``z``), never by moving them in the array (a move
    there is a delete and an insert, and loses what others add to the layer meanwhile).

    With a ``base``, only a file that reordered layers (or added one without a place) reorders the document:
    others may have moved layers since the snapshot the file was written from.
    """
    new_ids = [item.get("id") for item in new]
    rank = {item_id: i for i, item_id in enumerate(new_ids)}
    stack = [_item_id(layer) for layer in in_stack_order(list(array))]
    ranked = [item_id for item_id in stack if item_id in rank]
    if ranked == sorted(ranked, key=rank.__getitem__):
        return False
    if base is not None:
        base_ids = [item.get("id") for item in base]
        unplaced = [item for item in new if item.get("id") not in set(base_ids) and "z" not in item]
        if not unplaced and [i for i in base_ids if i in rank] == [i for i in new_ids if i in set(base_ids)]:
            return False
    desired = [item_id for item_id in new_ids if item_id in set(stack)]
    for position, item_id in enumerate(stack):  # others' layers the file does not have: above their neighbour
        if item_id not in rank:
            below = stack[position - 1] if position else None
            desired.insert(desired.index(below) + 1 if below in desired else 0, item_id)
    by_id = {_item_id(layer): layer for layer in array}
    for place, item_id in enumerate(desired):
        if by_id[item_id].get("z") != float(place):
            by_id[item_id]["z"] = float(place)
    return True


def _insert_position(ids: list[Any], before_ids: list[Any]) -> int:
    """Just after the last of ``before_ids`` present among the array's ``ids`` (0 when none is)."""
    present = set(ids)
    for item_id in reversed(before_ids):
        if item_id in present:
            return ids.index(item_id) + 1
    return 0


def _fix_order(array: Array, new_ids: list[Any], to_y: Callable[[dict[str, Any]], Any] | None) -> bool:
    """Move items whose relative order differs from the file's (each move is a delete and an insert)."""
    rank = {item_id: i for i, item_id in enumerate(new_ids)}
    changed = False
    for _ in range(len(array)):
        ids = [_item_id(item) for item in array]
        ranked = [i for i in ids if i in rank]
        if ranked == sorted(ranked, key=rank.__getitem__):
            break
        # Move the first out-of-order item to just after its predecessor in the file's order.
        for a, b in zip(ranked, ranked[1:]):
            if rank[a] > rank[b]:
                moving = b
                break
        index = ids.index(moving)
        data = _plain(array[index])
        del array[index]
        predecessors = [i for i in new_ids[:rank[moving]]]
        del ids[index]
        array.insert(_insert_position(ids, predecessors), to_y(data) if to_y else data)
        changed = True
    return changed
