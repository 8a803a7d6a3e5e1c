"""The project document (DESIGN.md D1): its Y structure, and its canonical JSON form on disk.

One schema (``schema.py``) serves the kernel (``Project``), the collaborative server (``YIsproj``) and
the browser. Roots (``schema.ROOTS``): ``meta`` (Map), ``layers`` (Array of Map; each with a ``transform``
Map and a ``strokes`` Array), ``generations`` (Array of records), ``comments`` (Array of Map),
``checkpoints`` (Array of records), ``roles`` (Map), ``assets`` (Map hash -> metadata). Raster bytes never
enter the document. JSON text is parsed strictly (:func:`loads_json`) and checked against the schema.
This module must not touch files; it converts between JSON text, plain data and a ``pycrdt.Doc``.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from itertools import accumulate
from typing import Any

from pycrdt import Array, Doc, Map

from ..errors import DocumentFormatError
# Re-exported: the schema is their one source; ``from .document import ROOTS`` keeps working.
from .schema import BLEND_MODES, LAYER_KINDS, ROOTS, json_path, validate_document

SCHEMA_VERSION = 1

#: Deepest nesting of objects and lists a document may have (a real one stays under 10).
MAX_DEPTH = 64

#: Upgrade steps: ``MIGRATIONS[n]`` turns schema ``n`` data into schema ``n + 1`` data.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string with seconds."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def new_id(prefix: str) -> str:
    """A short random identifier such as ``l_1a2b3c4d5e6f``."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def default_transform() -> dict[str, Any]:
    """The identity transform of a new layer."""
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
    """A comment as a Y Map, so that its fields (``resolved``) change one by one."""
    return Map(dict(comment))


#: Items of these roots are nested Y types; items of the other Array roots stay plain records.
_ITEM_TO_Y: dict[str, Callable[[dict[str, Any]], Map]] = {"layers": layer_to_y, "comments": comment_to_y}


def empty_root(root: str) -> dict[str, Any] | list[Any]:
    """The plain-data value of an empty root: ``{}`` for a Map root, ``[]`` for an Array root."""
    return {} if ROOTS[root] is Map else []


def fill_doc(doc: Doc, data: dict[str, Any]) -> None:
    """Replace the content of every root of ``doc`` with ``data``, in one transaction."""
    with doc.transaction(origin="load"):
        for root, kind in ROOTS.items():
            shared = doc.get(root, type=kind)
            shared.clear()
            if kind is Map:
                shared.update(data.get(root, {}))
            else:
                convert = _ITEM_TO_Y.get(root)
                items = data.get(root, [])
                shared.extend([convert(item) for item in items] if convert else list(items))


def stack_key(layer: Any, index: int) -> tuple[float, int]:
    """Where a layer sits in the stack: its ``z``, else its place in the document's array (ties: the array).

    A layer's place is a number, not its position in the array, so that moving a layer changes one field:
    moving it in the array (a delete and an insert of a copy) loses what others add to it meanwhile.
    The Studio front end orders layers with the same rule (labextension/src/ysync.ts, ``inStackOrder``).
    """
    z = layer.get("z") if hasattr(layer, "get") else None
    if isinstance(z, bool) or not isinstance(z, (int, float)):
        z = index
    return float(z), index


def in_stack_order(layers: list[Any]) -> list[Any]:
    """Layers (dicts or Y maps) bottom first, by :func:`stack_key`.

    Examples
    --------
    >>> [l["id"] for l in in_stack_order([{"id": "a", "z": 5}, {"id": "b"}, {"id": "c", "z": 0.5}])]
    ['c', 'b', 'a']
    """
    keyed = sorted(((stack_key(layer, i), i) for i, layer in enumerate(layers)))
    return [layers[i] for _, i in keyed]


def doc_to_data(doc: Doc) -> dict[str, Any]:
    """The document as plain data (integers restored), suitable for canonical JSON; layers bottom first."""
    data = restore_ints({root: doc.get(root, type=kind).to_py() or empty_root(root) for root, kind in ROOTS.items()})
    data["layers"] = in_stack_order(data["layers"])
    return data


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


def loads_document(text: str | bytes, *, source: str = "project file") -> dict[str, Any]:
    """Parse, migrate and check a project document's JSON text (or its UTF-8 bytes).

    Parsing is strict (see :func:`loads_json`); after migration the data is checked against the
    schema (:func:`~imagestudio_nb.project.schema.validate_document`), and absent roots are added empty.

    Raises
    ------
    DocumentFormatError
        In one line, for invalid JSON or encoding, a missing schema version, a version newer than this
        toolkit reads, or data of the wrong shape (naming its path, e.g. ``layers[3].opacity``).

    Examples
    --------
    >>> loads_document('{"meta": {"schema_version": 1}}', source="x.isproj")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.DocumentFormatError: x.isproj: meta.id: is required but missing
    """
    data = loads_json(text, source=source)
    if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
        raise DocumentFormatError(f"{source} is not a project document (no 'meta' object)")
    data = migrate(data, source=source)
    validate_document(data, source=source)
    for root in ROOTS:
        data.setdefault(root, empty_root(root))
    return data


class _Refused:
    """Stands in for a value JSON text may hold but a document may not, so the error can name where it was."""

    def __init__(self, problem: str):
        self.problem = problem


class _RepeatedKeys(dict):
    """An object whose text repeated a key (Python's json keeps the last value silently)."""

    key: str = ""


def _bad_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape; the Y document cannot hold it
        return True
    return False


def _find_refused(value: Any, loc: tuple[Any, ...], strings: bool) -> tuple[tuple[Any, ...], str] | None:
    # Runs only when something was flagged; the depth was checked, so the recursion is bounded.
    if isinstance(value, _Refused):
        return loc, value.problem
    if isinstance(value, _RepeatedKeys):
        return loc, f"the key {value.key!r} appears twice in one object; each key may appear once"
    if strings and isinstance(value, str) and _bad_text(value):
        return loc, f"{value[:20]!r} holds a lone UTF-16 surrogate; text must be valid Unicode"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if strings and isinstance(key, str) and _bad_text(key):
            return (*loc, key), "this key holds a lone UTF-16 surrogate; text must be valid Unicode"
        found = _find_refused(item, (*loc, key), strings)
        if found:
            return found
    return None


# The depth scan works on bytes: escape pairs removed first (so an escaped quote does not end a string),
# then every byte but quotes and brackets deleted (non-ASCII UTF-8 bytes never equal them), then empty
# strings, then strings that still hold brackets. Each step is one linear pass in C; a regex over the
# whole text took 17% of the parse on a 30 MB document, this takes a few percent.
_ESCAPE_PAIR = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_QUOTED = re.compile(rb'"[^"]*"?')  # the closing quote is optional: an unterminated string ends the scan
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
#: Integers JavaScript and the Y document hold exactly (pycrdt panics beyond 64 bits).
MAX_SAFE_INTEGER = 2**53 - 1


def json_depth(text: str | bytes) -> int:
    """The deepest nesting of objects and lists in JSON text, found without parsing it.

    Examples
    --------
    >>> json_depth('{"a": [1, {"b": "[[["}]}')
    3
    """
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if b"\\" in raw:
        raw = _ESCAPE_PAIR.sub(b"", raw)
    structure = raw.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in structure:  # strings that hold brackets: drop them with what they hold
        structure = _QUOTED.sub(b"", structure)
    return max(accumulate(map(_STEP.__getitem__, structure)), default=0)


def loads_json(text: str | bytes, *, source: str = "JSON file", max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON strictly: UTF-8, at most ``max_depth`` deep, no repeated key, no NaN or Infinity, no number
    beyond what a float or ``MAX_SAFE_INTEGER`` holds, no lone surrogate.

    Python's ``json`` accepts all of these (and recurses until ``RecursionError`` on deep nesting);
    a file that has them was not written by this toolkit and is refused before it is used.

    Raises
    ------
    DocumentFormatError
        One line saying what is wrong and where (e.g. ``layers[0].opacity``).

    Examples
    --------
    >>> loads_json(b'{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> loads_json('{"a": NaN}', source="x.json")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.DocumentFormatError: x.json: a: NaN is not a number JSON allows; write a finite number or null
    """
    raw = bytes(text) if isinstance(text, (bytes, bytearray, memoryview)) else None
    if raw is not None:
        text = _decode_utf8(raw, source)
    elif text.startswith("\ufeff"):
        text = text[1:]
    depth = json_depth(raw if raw is not None else text)
    if depth > max_depth:
        raise DocumentFormatError(f"{source} nests objects and lists {depth} deep, over the limit of {max_depth}; "
                                  "it was not written by this toolkit")
    flagged: list[bool] = []

    def refuse(problem: str) -> _Refused:
        flagged.append(True)
        return _Refused(problem)

    def constant(name: str) -> _Refused:
        return refuse(f"{name} is not a number JSON allows; write a finite number or null")

    def real(literal: str) -> float | _Refused:
        value = float(literal)
        if value - value != 0:  # 1e999 parses to inf
            return refuse(f"{literal[:20]} is too large for a number")
        return value

    def integer(literal: str) -> int | _Refused:
        if len(literal) > 15 and (len(literal.lstrip("-")) > 16 or abs(int(literal)) > MAX_SAFE_INTEGER):
            return refuse(f"{literal[:20]} is beyond the integers a document holds exactly "
                          f"(+-{MAX_SAFE_INTEGER:,})")
        return int(literal)

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) == len(pairs):
            return result
        flagged.append(True)
        seen: set[str] = set()
        repeated = _RepeatedKeys(result)
        repeated.key = next(key for key, _ in pairs if key in seen or seen.add(key))
        return repeated

    try:
        data = json.loads(text, parse_constant=constant, parse_float=real, parse_int=integer,
                          object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        raise DocumentFormatError(f"{source} is not valid JSON: {exc}") from None
    except RecursionError:  # unreachable after the depth check, kept as a guard for the C scanner
        raise DocumentFormatError(f"{source} nests too deep to read") from None
    strings = _SURROGATE_ESCAPE.search(text) is not None  # rare: only then are all strings checked
    if flagged or strings:
        found = _find_refused(data, (), strings)
        if found:
            raise DocumentFormatError(f"{source}: {json_path(found[0])}: {found[1]}")
    return data


def _decode_utf8(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and b"\x00" in data[:4]):
        raise DocumentFormatError(f"{source} is UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark from an editor is harmless; drop it
    except UnicodeDecodeError as exc:
        raise DocumentFormatError(f"{source} is not UTF-8 text (invalid byte at offset {exc.start}); "
                                  "save it as UTF-8") from None


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
