"""The project document's schema: its roots, the typed records it holds, and the check run on open and import.

Everything that lists the roots or the allowed layer kinds and blend modes takes them from here, so they
cannot drift apart again. This module validates plain data; it must never touch files or a Y document.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pycrdt import Array, Map
from pydantic import AfterValidator, AllowInfNan, ConfigDict, Field, Strict, StringConstraints, TypeAdapter, \
    ValidationError
from typing_extensions import NotRequired, TypedDict

from ..errors import DocumentFormatError

# The renderer owns the blend modes and layer kinds because it is the one that implements them, and
# imaging may not import project/ (DESIGN.md: arrows point down). The document imports them from
# imaging/modes.py (no OpenCV there), so a mode the renderer supports is a mode a layer may carry.
from ..imaging.modes import BLEND_MODES, LAYER_KINDS

#: The document's roots and their Y types: the one list used by the JSON form, the Y form and the server.
ROOTS: dict[str, type[Map] | type[Array]] = {
    "meta": Map,
    "layers": Array,
    "generations": Array,
    "comments": Array,
    "checkpoints": Array,
    "roles": Map,
    "assets": Map,
    "chat": Array,
}

#: Records whose ids must be unique within their root.
ID_ROOTS = ("layers", "generations", "comments", "checkpoints", "chat")


def _points(points: Any) -> list[float]:
    # Checked in bulk rather than element by element: strokes hold most of a document's numbers, and
    # pydantic's per-item validation of them cost more than parsing the whole file (measured 2026-12).
    if type(points) is not list:
        raise ValueError(f"expected a list of numbers, got {type(points).__name__}")
    kinds = set(map(type, points))
    if not kinds <= {int, float} or (float in kinds and not all(map(math.isfinite, points))):
        raise ValueError("expected finite numbers only")
    if len(points) % 2:
        raise ValueError("expected a flat list [x0, y0, x1, y1, ...] of even length")
    return points


def _integral(value: float) -> float:
    if not float(value).is_integer():
        raise ValueError("expected a whole number")
    return value


# JSON types, strictly: no "1" for 1, no true for 1, no NaN. Integers are accepted where numbers are.
Number = Annotated[float, Strict(), AllowInfNan(False)]
Whole = Annotated[float, Strict(), AllowInfNan(False), AfterValidator(_integral)]
Text = Annotated[str, Strict()]
Flag = Annotated[bool, Strict()]
Object = dict[str, Any]
#: An asset's name: the SHA-256 of its bytes. It becomes a file name, so nothing else may pass (no "../").
AssetHash = Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Canvas(TypedDict):
    """The canvas size in pixels."""

    width: Annotated[Whole, Field(gt=0)]
    height: Annotated[Whole, Field(gt=0)]


class Origin(TypedDict):
    """The project a fork or an import came from."""

    id: Text
    name: Text
    at: NotRequired[Text]


class Meta(TypedDict):
    """The project's ``meta`` root: identity, canvas and settings."""

    schema_version: Whole
    id: Annotated[Text, Field(min_length=1)]
    name: Annotated[Text, Field(min_length=1)]
    canvas: Canvas
    created: NotRequired[Text]
    owners: NotRequired[list[Text]]
    forked_from: NotRequired[Origin | None]
    imported_from: NotRequired[Origin | None]
    settings: NotRequired[Object]


class Transform(TypedDict):
    """Where a layer sits: offset, scale, rotation (degrees) and an optional crop ``[x, y, w, h]``."""

    x: NotRequired[Number]
    y: NotRequired[Number]
    scale_x: NotRequired[Number]
    scale_y: NotRequired[Number]
    rotation: NotRequired[Number]
    crop: NotRequired[Annotated[list[Number], Field(min_length=4, max_length=4)] | None]


class Stroke(TypedDict):
    """One brush stroke of a paint or mask layer, its points flattened as ``[x0, y0, x1, y1, ...]``."""

    tool: NotRequired[Text]
    size: NotRequired[Number]
    hardness: NotRequired[Number]
    opacity: NotRequired[Number]
    color: NotRequired[Text]
    points: NotRequired[Annotated[Any, AfterValidator(_points)]]


class FilterStep(TypedDict):
    """One step of a layer's filter chain: ``{"filter": name, "params": {...}}`` (or the params inline)."""

    filter: Text
    params: NotRequired[Object]


class TextContent(TypedDict):
    """What a text layer draws."""

    content: NotRequired[Text]
    font_size: NotRequired[Number]
    color: NotRequired[Text]
    x: NotRequired[Number]
    y: NotRequired[Number]


class Layer(TypedDict):
    """One layer of the stack, bottom first in ``layers``."""

    id: Annotated[Text, Field(min_length=1)]
    kind: Literal[LAYER_KINDS]  # type: ignore[valid-type]
    name: Text
    asset: NotRequired[AssetHash | None]
    visible: NotRequired[Flag]
    locked: NotRequired[Flag]
    opacity: NotRequired[Number]
    blend_mode: NotRequired[Literal[BLEND_MODES]]  # type: ignore[valid-type]
    transform: NotRequired[Transform]
    filters: NotRequired[list[FilterStep]]
    strokes: NotRequired[list[Stroke]]
    mask: NotRequired[Text | None]
    text: NotRequired[TextContent | None]
    source: NotRequired[Text | None]
    z: NotRequired[Number]  # its place in the stack (a move changes only this); the array's order without it
    # Soft delete: a deleted layer stays in the stack (restorable; strokes others add meanwhile are kept).
    deleted: NotRequired[Flag]
    deleted_by: NotRequired[Text | None]
    deleted_at: NotRequired[Text | None]


class GenerationRequest(TypedDict):
    """The request a generation record keeps (the fields the search index reads)."""

    prompt: NotRequired[Text | None]
    images: NotRequired[list[AssetHash]]
    mask: NotRequired[AssetHash | None]


class GenerationRecord(TypedDict):
    """A provenance record: who asked which model for what, and which assets came back."""

    id: Annotated[Text, Field(min_length=1)]
    created: NotRequired[Text]
    kind: NotRequired[Text]
    provider: NotRequired[Text | None]
    model: NotRequired[Text | None]
    request: NotRequired[GenerationRequest]
    revised_prompts: NotRequired[list[Text]]
    assets: NotRequired[list[AssetHash]]
    seeds: NotRequired[list[Any]]
    status: NotRequired[Text]
    user: NotRequired[Text | None]


class Comment(TypedDict):
    """A comment, optionally pinned to a layer or a point of the canvas."""

    id: Annotated[Text, Field(min_length=1)]
    text: NotRequired[Text]
    author: NotRequired[Text | None]
    created: NotRequired[Text]
    layer: NotRequired[Text | None]
    x: NotRequired[Number | None]
    y: NotRequired[Number | None]
    resolved: NotRequired[Flag]
    region: NotRequired[Annotated[list[Number], Field(min_length=4, max_length=4)] | None]
    reply_to: NotRequired[Text | None]
    mentions: NotRequired[list[Text]]
    resolved_by: NotRequired[Text | None]
    resolved_at: NotRequired[Text | None]


class ChatMessage(TypedDict):
    """A message in the project's chat, optionally attaching a layer or a checkpoint."""

    id: Annotated[Text, Field(min_length=1)]
    text: Text
    author: NotRequired[Text | None]
    created: NotRequired[Text]
    layer: NotRequired[Text | None]
    checkpoint: NotRequired[Text | None]
    mentions: NotRequired[list[Text]]


class Snapshot(TypedDict):
    """What a checkpoint keeps: layers, comments, generation ids and part of ``meta``."""

    meta: Object
    layers: list[Layer]
    comments: list[Comment]
    generations: list[Text]


class Checkpoint(TypedDict):
    """A named version of the project."""

    id: Annotated[Text, Field(min_length=1)]
    name: Text
    note: NotRequired[Text | None]
    created: NotRequired[Text]
    author: NotRequired[Text | None]
    snapshot: Snapshot


class AssetMeta(TypedDict):
    """Metadata of one stored image, keyed by its SHA-256 in ``assets`` (the fields of ``AssetInfo``)."""

    # Closed: AssetInfo(**record) is built from it, so an unknown field would fail there, later.
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    hash: AssetHash
    mime: Literal["image/png", "image/jpeg", "image/webp"]
    width: Whole
    height: Whole
    bytes: Whole
    created: Text
    tags: NotRequired[list[Text]]
    source: NotRequired[Text | None]


class Document(TypedDict):
    """The whole document as plain data (the canonical JSON's shape)."""

    meta: Meta
    layers: list[Layer]
    generations: list[GenerationRecord]
    comments: list[Comment]
    checkpoints: list[Checkpoint]
    roles: dict[str, Text]
    assets: dict[AssetHash, AssetMeta]
    chat: NotRequired[list[ChatMessage]]


_DOCUMENT = TypeAdapter(Document)

# What a reader of the error needs, in JSON's words rather than Python's.
_EXPECTED = {
    "dict_type": "expected an object", "model_type": "expected an object", "list_type": "expected a list",
    "float_type": "expected a number", "int_type": "expected an integer", "string_type": "expected a string",
    "bool_type": "expected true or false", "finite_number": "expected a finite number",
    "missing": "is required but missing", "none_required": "expected null",
    "extra_forbidden": "is not a field this version knows", "value_error": None, "string_pattern_mismatch": "expected a SHA-256 hash "
    "(64 lowercase hex digits)",
}


def json_path(loc: tuple[Any, ...]) -> str:
    """A location as a path into the document.

    Examples
    --------
    >>> json_path(("layers", 3, "opacity"))
    'layers[3].opacity'
    >>> json_path(("assets", "../x", "[key]"))
    "assets['../x'] (the key)"
    >>> json_path(())
    '(document)'
    """
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a dict key that failed, after the key itself
            text += " (the key)"
        elif isinstance(part, int) or not str(part).isidentifier():
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"


def _describe(error: dict[str, Any]) -> str:
    expected = _EXPECTED.get(error["type"]) or error["msg"].removeprefix("Value error, ")
    expected = expected[0].lower() + expected[1:]
    if error["type"] == "missing":
        return expected
    shown = repr(error.get("input"))
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{expected}, got {shown}"


# Which tools may draw on which layer, and the value ranges the renderer accepts (imaging/strokes.py,
# imaging/layer_render.py). Checked on import, not on open: a value out of range fails when that layer is
# drawn, in one line, and must not lock a person out of the rest of their project.
_COLOUR = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z")


def _range_problems(layer: dict[str, Any]) -> Iterator[str]:
    if not 0 <= layer.get("opacity", 1) <= 1:
        yield "opacity: expected a number from 0 to 1"
    transform = layer.get("transform") or {}
    if transform.get("scale_x") == 0 or transform.get("scale_y") == 0:
        yield "transform: expected scales other than 0"
    crop = transform.get("crop")
    if crop is not None and (crop[2] <= 0 or crop[3] <= 0):
        yield "transform.crop: expected [x, y, width, height] with a positive size"
    text = layer.get("text") or {}
    if not 1 <= text.get("font_size", 32) <= 2000 or not _COLOUR.match(text.get("color", "#000")):
        yield "text: expected a font_size from 1 to 2000 and a colour '#rrggbb'"
    from ..imaging.modes import MASK_TOOLS, PAINT_TOOLS

    tools, default = {"paint": (PAINT_TOOLS, "brush"), "mask": (MASK_TOOLS, None)}.get(layer["kind"], (None, None))
    for number, stroke in enumerate(layer.get("strokes") or [] if tools else []):
        if stroke.get("tool", default) not in tools:
            yield f"strokes[{number}].tool: expected one of {sorted(tools)} on a {layer['kind']} layer"
        elif stroke.get("size", 8) <= 0 or not 0 <= stroke.get("hardness", 1) <= 1 \
                or not 0 <= stroke.get("opacity", 1) <= 1 or not _COLOUR.match(stroke.get("color", "#000")):
            yield (f"strokes[{number}]: expected a size above 0, hardness and opacity from 0 to 1 and a "
                   "colour '#rrggbb'")


def check_renderable(data: dict[str, Any], *, source: str = "project file") -> None:
    """Check that every layer's values are in the ranges the renderer draws (run after the schema check).

    Used on import, where a document comes from elsewhere; see the comment above for why not on open.

    Raises
    ------
    DocumentFormatError
        Naming the layer and the value.

    Examples
    --------
    >>> meta = {"schema_version": 1, "id": "p1", "name": "Demo", "canvas": {"width": 64, "height": 64}}
    >>> check_renderable({"meta": meta, "layers": [{"id": "l1", "kind": "paint", "name": "Ink", "opacity": 2}],
    ...                   "checkpoints": []}, source="demo.isproj")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.DocumentFormatError: demo.isproj: layers[0].opacity: expected a number from 0 to 1
    """
    stacks = [("layers", data["layers"])] + [(f"checkpoints[{i}].snapshot.layers", c["snapshot"]["layers"])
                                            for i, c in enumerate(data["checkpoints"])]
    for where, layers in stacks:
        for index, layer in enumerate(layers):
            for problem in _range_problems(layer):
                raise DocumentFormatError(f"{source}: {where}[{index}].{problem}")


def _inconsistencies(data: dict[str, Any]) -> Iterator[str]:
    for digest, record in data["assets"].items():
        if record["hash"] != digest:
            yield f"{json_path(('assets', digest))}.hash: expected the key it is stored under, got {record['hash']!r}"
    for root in ID_ROOTS:
        seen: dict[str, int] = {}
        for index, record in enumerate(data.get(root) or []):
            first = seen.setdefault(record["id"], index)
            if first != index:
                yield (f"{root}[{index}].id: duplicate id {record['id']!r} (also {root}[{first}].id); "
                       "ids must be unique")


def validate_document(data: Any, *, source: str = "project file") -> dict[str, Any]:
    """Check that ``data`` has the document's shape and return it unchanged.

    Roots that are absent are allowed (they are filled in empty); everything present must have its
    type, every record its id, and ids must be unique within ``layers``, ``generations``,
    ``comments`` and ``checkpoints``. Value ranges are :func:`check_renderable`'s. Fields this version
    does not know are kept, unchecked, except in asset records (they become ``AssetInfo`` objects,
    whose fields are fixed).

    Raises
    ------
    DocumentFormatError
        One line naming the first problem's path in the document and what was expected there.

    Examples
    --------
    >>> meta = {"schema_version": 1, "id": "p1", "name": "Demo", "canvas": {"width": 64, "height": 64}}
    >>> validate_document({"meta": meta, "layers": [{"id": "l1", "kind": "paint", "name": "Ink"}]})["meta"]["name"]
    'Demo'
    >>> validate_document({"meta": meta, "layers": [{"id": "l1", "kind": "paint", "name": "Ink", "opacity": "x"}]},
    ...                   source="demo.isproj")
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.DocumentFormatError: demo.isproj: layers[0].opacity: expected a number, got 'x'
    """
    if not isinstance(data, dict):
        raise DocumentFormatError(f"{source}: (document): expected an object, got {type(data).__name__}")
    full = {root: data.get(root, {} if kind is Map else []) for root, kind in ROOTS.items()}
    # The first error only: the message stays one line, and fixing it often fixes the ones after it.
    try:
        _DOCUMENT.validate_python(full)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise DocumentFormatError(f"{source}: {json_path(first['loc'])}: {_describe(first)}") from None
    for problem in _inconsistencies(full):
        raise DocumentFormatError(f"{source}: {problem}")
    return data


__all__ = ["AssetHash", "AssetMeta", "BLEND_MODES", "Canvas", "Checkpoint", "Comment", "Document", "FilterStep",
           "GenerationRecord", "GenerationRequest", "ID_ROOTS", "LAYER_KINDS", "Layer", "Meta", "Origin", "ROOTS",
           "Snapshot", "Stroke", "TextContent", "Transform", "check_renderable", "json_path", "validate_document"]
