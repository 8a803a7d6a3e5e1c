"""The project document (DESIGN.md D1): its Y structure, and its canonical JSON form on disk.

One schema serves the kernel (``Project``), the collaborative server (``YIsproj``) and the browser.
Roots: ``meta`` (Map), ``layers`` (Array of Map; each with a ``transform`` Map and a ``strokes`` Array),
``generations`` (Array of records), ``comments`` (Array of Map), ``checkpoints`` (Array of records),
``roles`` (Map), ``assets`` (Map hash -> metadata). Raster bytes never enter the document.
This module must not touch files; it converts between JSON text, plain data and a ``pycrdt.Doc``.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from pycrdt import Array, Doc, Map

from ..errors import DocumentFormatError

SCHEMA_VERSION = 1
ROOTS = ("meta", "layers", "generations", "comments", "checkpoints", "roles", "assets")

LAYER_KINDS = ("image", "generated", "paint", "text", "mask")
BLEND_MODES = ("normal", "multiply", "screen", "overlay", "soft_light", "darken", "lighten", "difference",
               "color_dodge", "color_burn")

#: Upgrade steps: ``MIGRATIONS[n]`` turns schema ``n`` data into schema ``n + 1`` data.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string with seconds."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def new_id(prefix: str) -> str:
    """A short random identifier such as ``l_1a2b3c4d5e6f``."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def default_transform() -> dict[str, Any]:
    return {"x": 0, "y": 0, "scale_x": 1, "scale_y": 1, "rotation": 0, "crop": None}


def new_layer(kind: str, *, name: str | None = None, asset: str | None = None, **props: Any) -> dict[str, Any]:
    """Plain data for a new layer with every field at its default."""
    layer = {
        "id": new_id("l"), "name": name or kind.capitalize(), "kind": kind, "asset": asset, "visible": True,
        "locked": False, "opacity": 1, "blend_mode": "normal", "transform": default_transform(),
        "filters": [], "strokes": [], "mask": None,
    }
    layer.update(props)
    return layer


def new_document_data(name: str, *, width: int = 1024, height: int = 1024, owner: str | None = None,
                      project_id: str | None = None) -> dict[str, Any]:
    """Plain data for an empty project."""
    return {
        "meta": {"schema_version": SCHEMA_VERSION, "id": project_id or uuid.uuid4().hex, "name": name,
                 "canvas": {"width": width, "height": height}, "created": now_iso(),
                 "owners": [owner] if owner else [], "forked_from": None, "settings": {}},
        "layers": [], "generations": [], "comments": [], "checkpoints": [],
        "roles": {owner: "owner"} if owner else {}, "assets": {},
    }


# --- plain data <-> Y document ---------------------------------------------------------------------

def restore_ints(value: Any) -> Any:
    """Turn integral floats back into ints, recursively (Y turns every number into a float).

    Examples
    --------
    >>> restore_ints({"w": 1024.0, "o": 0.5, "l": [1.0, True]})
    {'w': 1024, 'o': 0.5, 'l': [1, True]}
    """
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        return {k: restore_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore_ints(v) for v in value]
    return value


def layer_to_y(layer: dict[str, Any]) -> Map:
    """A layer as a Y Map, with ``transform`` a nested Map and ``strokes`` a nested Array."""
    fields = dict(layer)
    fields["transform"] = Map({**default_transform(), **(layer.get("transform") or {})})
    fields["strokes"] = Array(list(layer.get("strokes") or []))
    return Map(fields)


def comment_to_y(comment: dict[str, Any]) -> Map:
    return Map(dict(comment))


def fill_doc(doc: Doc, data: dict[str, Any]) -> None:
    """Replace the content of every root of ``doc`` with ``data``, in one transaction."""
    with doc.transaction(origin="load"):
        meta = doc.get("meta", type=Map)
        meta.clear()
        meta.update(data.get("meta", {}))
        for root, convert in (("layers", layer_to_y), ("comments", comment_to_y),
                              ("generations", None), ("checkpoints", None)):
            array = doc.get(root, type=Array)
            array.clear()
            items = data.get(root, [])
            array.extend([convert(item) for item in items] if convert else list(items))
        for root in ("roles", "assets"):
            mapping = doc.get(root, type=Map)
            mapping.clear()
            mapping.update(data.get(root, {}))


def doc_to_data(doc: Doc) -> dict[str, Any]:
    """The document as plain data (integers restored), suitable for canonical JSON."""
    data = {
        "meta": doc.get("meta", type=Map).to_py() or {},
        "layers": doc.get("layers", type=Array).to_py() or [],
        "generations": doc.get("generations", type=Array).to_py() or [],
        "comments": doc.get("comments", type=Array).to_py() or [],
        "checkpoints": doc.get("checkpoints", type=Array).to_py() or [],
        "roles": doc.get("roles", type=Map).to_py() or {},
        "assets": doc.get("assets", type=Map).to_py() or {},
    }
    return restore_ints(data)


def new_doc(data: dict[str, Any]) -> Doc:
    """A new Y document holding ``data``."""
    doc = Doc()
    fill_doc(doc, data)
    return doc


# --- JSON text ------------------------------------------------------------------------------------

def dumps_canonical(data: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, stable number formatting, integers as integers, a final newline.

    Examples
    --------
    >>> dumps_canonical({"b": 1.0, "a": [2, 0.5]})
    '{\\n "a": [\\n  2,\\n  0.5\\n ],\\n "b": 1\\n}\\n'
    """
    return json.dumps(restore_ints(data), sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def loads_document(text: str, *, source: str = "project file") -> dict[str, Any]:
    """Parse, migrate and check a project document's JSON text.

    Raises
    ------
    DocumentFormatError
        For invalid JSON, a missing schema version, or a version newer than this toolkit reads.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentFormatError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
        raise DocumentFormatError(f"{source} is not a project document (no 'meta' object)")
    data = migrate(data, source=source)
    for root in ROOTS:
        data.setdefault(root, {} if root in ("meta", "roles", "assets") else [])
    return data


def migrate(data: dict[str, Any], *, source: str = "project file") -> dict[str, Any]:
    """Upgrade ``data`` step by step to ``SCHEMA_VERSION`` with the functions in ``MIGRATIONS``."""
    version = data["meta"].get("schema_version")
    if not isinstance(version, (int, float)) or isinstance(version, bool) or not math.isfinite(version):
        raise DocumentFormatError(f"{source} has no valid meta.schema_version")
    version = int(version)
    if version > SCHEMA_VERSION:
        raise DocumentFormatError(
            f"{source} uses schema version {version}, newer than this toolkit's {SCHEMA_VERSION}; "
            "upgrade imagestudio-nb to open it")
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise DocumentFormatError(f"{source}: no upgrade from schema version {version}")
        data = step(data)
        version += 1
        data["meta"]["schema_version"] = version
    return data
