"""Checkpoints: named versions of a project's layers, meta and comments, kept inside the document.

A checkpoint stores a snapshot of plain data (raster bytes stay in assets, referenced by hash), so
assets a checkpoint references are never cleaned up, and restoring is an ordinary, undoable change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycrdt import Array, Map

from ..errors import CheckpointNotFoundError, InvalidArgumentError
from .document import layer_to_y, new_id, now_iso, restore_ints

if TYPE_CHECKING:
    from .project import Project

_SNAPSHOT_META = ("canvas", "settings")


def snapshot_of(data: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint keeps of a document's plain data: canvas and settings, layers, comments, generation ids."""
    meta = data.get("meta") or {}
    return {"meta": {k: meta.get(k) for k in _SNAPSHOT_META}, "layers": data.get("layers") or [],
            "comments": data.get("comments") or [], "generations": [g["id"] for g in data.get("generations") or []]}


def _snapshot(project: Project) -> dict[str, Any]:
    return snapshot_of(project.to_data())


def checkpoint(self: Project, name: str, *, note: str | None = None,
               snapshot: dict[str, Any] | None = None) -> dict[str, Any]:
    """Save the current state (or ``snapshot``, see :func:`snapshot_of`) as a named checkpoint; return its summary.

    Raises
    ------
    InvalidArgumentError
        For an empty name or one already used.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError("checkpoint name must be a non-empty string")
    if any(c["name"] == name for c in self.checkpoints()):
        raise InvalidArgumentError(f"checkpoint {name!r} already exists; choose another name")
    record = {"id": new_id("v"), "name": name, "note": note, "created": now_iso(), "author": self.config().user,
              "snapshot": snapshot if snapshot is not None else _snapshot(self)}
    with self._change("checkpoints"):
        self.doc.get("checkpoints", type=Array).append(record)
    self.keyframe()  # a named version is a natural place to start replays and openings from
    return {k: v for k, v in record.items() if k != "snapshot"}


def checkpoints(self: Project) -> list[dict[str, Any]]:
    """Checkpoint summaries (id, name, note, created, author), oldest first."""
    items = restore_ints(self.doc.get("checkpoints", type=Array).to_py() or [])
    return [{k: v for k, v in c.items() if k != "snapshot"} for c in items]


def _find(project: Project, ref: str) -> dict[str, Any]:
    for record in restore_ints(project.doc.get("checkpoints", type=Array).to_py() or []):
        if ref in (record["name"], record["id"]):
            return record
    names = [c["name"] for c in project.checkpoints()]
    raise CheckpointNotFoundError(f"no checkpoint {ref!r} in project {project.name!r}; checkpoints: "
                                  f"{', '.join(names) if names else 'none'}")


def diff(self: Project, a: str, b: str | None = None) -> dict[str, Any]:
    """What changed from checkpoint ``a`` to checkpoint ``b`` (or to the current state).

    Returns a dict with ``layers_added``, ``layers_removed`` (ids and names), ``layers_changed``
    (id -> changed field names), ``layers_reordered``, ``meta_changed``, ``comments_added`` and
    ``generations_added`` (ids).
    """
    old = _find(self, a)["snapshot"]
    new = _find(self, b)["snapshot"] if b is not None else _snapshot(self)
    return diff_snapshots(old, new, a, b or "current")


def diff_snapshots(old: dict[str, Any], new: dict[str, Any], a: str = "old", b: str = "new") -> dict[str, Any]:
    """What changed between two snapshots (see :func:`snapshot_of`), in the form :func:`diff` returns."""
    # A soft-deleted layer (kept in the document to be restorable) counts as removed.
    old_layers = {layer["id"]: layer for layer in old["layers"] if not layer.get("deleted")}
    new_layers = {layer["id"]: layer for layer in new["layers"] if not layer.get("deleted")}
    changed = {}
    for layer_id in old_layers.keys() & new_layers.keys():
        fields = sorted(k for k in set(old_layers[layer_id]) | set(new_layers[layer_id])
                        if k != "z" and old_layers[layer_id].get(k) != new_layers[layer_id].get(k))  # z: reordered
        if fields:
            changed[layer_id] = fields
    common_old = [i for i in old_layers if i in new_layers]
    common_new = [i for i in new_layers if i in old_layers]
    old_comments = {c["id"] for c in old["comments"]}
    return {
        "from": a, "to": b,
        "layers_added": [{"id": i, "name": new_layers[i]["name"]} for i in new_layers if i not in old_layers],
        "layers_removed": [{"id": i, "name": old_layers[i]["name"]} for i in old_layers if i not in new_layers],
        "layers_changed": changed,
        "layers_reordered": common_old != common_new,
        "meta_changed": sorted(k for k in set(old["meta"]) | set(new["meta"]) if old["meta"].get(k) != new["meta"].get(k)),
        "comments_added": [c["id"] for c in new["comments"] if c["id"] not in old_comments],
        "generations_added": [g for g in new["generations"] if g not in set(old["generations"])],
    }


def restore(self: Project, ref: str) -> None:
    """Bring layers, canvas, settings and comments back to checkpoint ``ref``.

    Generations and assets are kept (history is never lost), and the restore itself can be undone.
    """
    snapshot = _find(self, ref)["snapshot"]
    with self._change("layers", "meta", "comments", "checkpoints"):
        meta = self.doc.get("meta", type=Map)
        for key, value in snapshot["meta"].items():
            meta[key] = value
        layers = self.doc.get("layers", type=Array)
        layers.clear()
        layers.extend([layer_to_y(layer) for layer in snapshot["layers"]])
        comments = self.doc.get("comments", type=Array)
        comments.clear()
        comments.extend([Map(dict(c)) for c in snapshot["comments"]])
