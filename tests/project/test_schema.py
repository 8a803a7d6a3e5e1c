"""The document's schema: one list of roots, one source of blend modes and layer kinds, strict parsing on open."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycrdt import Doc

from imagestudio_nb import generate
from imagestudio_nb.errors import DocumentFormatError
from imagestudio_nb.imaging import compositing
from imagestudio_nb.project import Project
from imagestudio_nb.project import document as document_module
from imagestudio_nb.project.document import (doc_to_data, dumps_canonical, fill_doc, json_depth, loads_document,
                                             loads_json, new_document_data)
from imagestudio_nb.project.schema import ROOTS, check_renderable, validate_document


def test_roots_are_defined_once_and_used_by_every_form():
    assert document_module.ROOTS is ROOTS
    assert list(ROOTS) == ["meta", "layers", "generations", "comments", "checkpoints", "roles", "assets", "chat"]
    data = new_document_data("Roots")
    doc = Doc()
    fill_doc(doc, data)
    assert sorted(doc_to_data(doc)) == sorted(ROOTS)
    for name, kind in ROOTS.items():
        assert isinstance(doc.get(name, type=kind), kind)
    assert set(loads_document(json.dumps({"meta": data["meta"]}))) == set(ROOTS)  # absent roots come back empty


def test_the_collaborative_document_has_the_same_roots():
    from imagestudio_nb.project.ydoc import YIsproj

    ydoc = YIsproj()
    assert {name: type(root) for name, root in ydoc._roots.items()} == ROOTS


def test_blend_modes_and_layer_kinds_have_one_source():
    assert document_module.BLEND_MODES is compositing.BLEND_MODES
    assert document_module.LAYER_KINDS is compositing.LAYER_KINDS
    assert "hard_light" in document_module.BLEND_MODES


def test_every_blend_mode_the_renderer_draws_is_allowed_on_a_layer(workspace):
    project = Project.create("Modes", width=8, height=8)
    base = project.add_layer("paint", name="Base")
    project.add_stroke(base, {"tool": "brush", "size": 20, "color": "#808080", "points": [0, 4, 8, 4]})
    top = project.add_layer("paint", name="Top")
    project.add_stroke(top, {"tool": "brush", "size": 20, "color": "#c04020", "points": [0, 4, 8, 4]})
    for mode in compositing.BLEND_MODES:
        assert project.update_layer(top, blend_mode=mode)["blend_mode"] == mode
        assert project.render().shape == (8, 8, 4)
    project.update_layer(top, blend_mode="hard_light")
    project.save()
    reopened = loads_document((project.path / "project.isproj").read_bytes())
    assert reopened["layers"][1]["blend_mode"] == "hard_light"


def test_what_the_current_writer_produces_is_accepted(workspace):
    project = Project.create("Everything", width=64, height=64)
    results = generate("a lighthouse in fog", project=project, size="256x256", seed=3, n=2)
    image = project.add_layer("generated", asset=results[0].asset, name="Sea", opacity=0.75, blend_mode="screen",
                              transform={"x": 3, "y": -2.5, "scale_x": 0.5, "rotation": 12, "crop": [0, 0, 128, 96]})
    mask = project.add_layer("mask", name="Mask")
    project.add_stroke(mask, {"tool": "keep", "size": 9, "points": [1.5, 2, 30, 40]})
    project.update_layer(image, mask=mask, filters=[{"filter": "black_white", "params": {}}])
    project.add_layer("text", name="Title", text={"content": "Hi", "font_size": 12, "color": "#fff", "x": 2})
    project.add_comment("nice", layer=image, x=4.5, y=7)
    project.checkpoint("v1", note="first")
    project.update_settings(default_size="512x512")
    fork = project.fork("Everything fork")
    for source in (project, fork):
        source.save()
        text = (source.path / "project.isproj").read_bytes()
        data = loads_document(text, source="saved")
        assert validate_document(data) is data
        assert dumps_canonical(data).encode() == text
    assert isinstance(project.render(), np.ndarray)


META = {"schema_version": 1, "id": "p1", "name": "Demo", "canvas": {"width": 64, "height": 64}}
LAYER = {"id": "l1", "kind": "paint", "name": "Ink"}


@pytest.mark.parametrize("data, message", [
    ({"meta": META, "layers": {"l1": LAYER}}, r"layers: expected a list"),
    ({"meta": META, "layers": [LAYER, [1]]}, r"layers\[1\]: expected an object"),
    ({"meta": META, "layers": [{**LAYER, "opacity": True}]}, r"layers\[0\]\.opacity: expected a number, got True"),
    ({"meta": META, "layers": [{**LAYER, "visible": "yes"}]}, r"layers\[0\]\.visible: expected true or false"),
    ({"meta": META, "layers": [{**LAYER, "kind": "video"}]}, r"layers\[0\]\.kind: input should be 'image'"),
    ({"meta": META, "layers": [{**LAYER, "strokes": [{"points": [1, 2, 3]}]}]},
     r"layers\[0\]\.strokes\[0\]\.points: expected a flat list"),
    ({"meta": META, "layers": [{**LAYER, "strokes": [{"points": [1, "2"]}]}]},
     r"layers\[0\]\.strokes\[0\]\.points: expected finite numbers only"),
    ({"meta": META, "layers": [{**LAYER, "transform": {"crop": [0, 0, 5]}}]},
     r"layers\[0\]\.transform\.crop: list should have at least 4 items"),
    ({"meta": {**META, "canvas": {"width": 10.5, "height": 4}}}, r"meta\.canvas\.width: expected a whole number"),
    ({"meta": {**META, "canvas": {"width": "64", "height": 4}}}, r"meta\.canvas\.width: expected a number"),
    ({"meta": {k: v for k, v in META.items() if k != "canvas"}}, r"meta\.canvas: is required but missing"),
    ({"meta": META, "generations": [{"id": "g"}, {"id": "g"}]}, r"generations\[1\]\.id: duplicate id 'g'"),
    ({"meta": META, "checkpoints": [{"id": "v", "name": "a"}]}, r"checkpoints\[0\]\.snapshot: is required"),
    ({"meta": META, "comments": [{"text": "no id"}]}, r"comments\[0\]\.id: is required but missing"),
    ({"meta": META, "generations": [{"id": "g", "request": {"prompt": 5}}]},
     r"generations\[0\]\.request\.prompt: expected a string"),
    ({"meta": META, "roles": {"ann": 1}}, r"roles\.ann: expected a string"),
    ({"meta": META, "assets": {"../up": {}}}, r"assets\['\.\./up'\] \(the key\): expected a SHA-256 hash"),
])
def test_wrong_shapes_are_refused_in_one_line_naming_the_path(data, message):
    with pytest.raises(DocumentFormatError, match=r"^doc\.isproj: " + message) as caught:
        validate_document(data, source="doc.isproj")
    assert "\n" not in str(caught.value) and caught.value.exit_code == 6


RENDER_LIMITS = [
    ({**LAYER, "opacity": 1.5}, r"layers\[0\]\.opacity: expected a number from 0 to 1"),
    ({**LAYER, "strokes": [{"tool": "keep"}]}, r"layers\[0\]\.strokes\[0\]\.tool: expected one of \['brush', 'eraser'\]"),
    ({**LAYER, "kind": "mask", "strokes": [{"size": 3}]}, r"layers\[0\]\.strokes\[0\]\.tool: expected one of \['keep', 'mask_add'"),
    ({**LAYER, "strokes": [{"size": 0}]}, r"layers\[0\]\.strokes\[0\]: expected a size above 0"),
    ({**LAYER, "strokes": [{"color": "red"}]}, r"layers\[0\]\.strokes\[0\]: .*colour '#rrggbb'"),
    ({**LAYER, "transform": {"scale_x": 0}}, r"layers\[0\]\.transform: expected scales other than 0"),
    ({**LAYER, "transform": {"crop": [0, 0, 0, 5]}}, r"layers\[0\]\.transform\.crop: expected \[x, y, width, height\] with a positive"),
    ({**LAYER, "kind": "text", "text": {"font_size": 0}}, r"layers\[0\]\.text: expected a font_size from 1 to 2000"),
]


@pytest.mark.parametrize("layer, message", RENDER_LIMITS)
def test_values_the_renderer_refuses_are_caught_by_check_renderable_but_do_not_block_opening(layer, message):
    data = {"meta": META, "layers": [layer], "checkpoints": []}
    assert validate_document(data) is data  # a project with one bad value still opens
    with pytest.raises(DocumentFormatError, match=r"^doc\.isproj: " + message):
        check_renderable(data, source="doc.isproj")


def test_a_dangling_mask_reference_does_not_block_opening():
    data = {"meta": META, "layers": [{**LAYER, "mask": "gone"}], "checkpoints": []}
    assert validate_document(data) is data
    check_renderable(data)


@pytest.mark.parametrize("text, message", [
    (b'{"meta": {"a": 1, "a": 2}}', r"meta: the key 'a' appears twice"),
    (b'{"meta": {"w": Infinity}}', r"meta\.w: Infinity is not a number JSON allows"),
    (b'{"meta": [1, NaN]}', r"meta\[1\]: NaN is not a number JSON allows"),
    (b'{"meta": 1e400}', r"meta: 1e400 is too large"),
    (b'{"meta": 123456789012345678901234567890}', r"meta: 1234.* is beyond the integers"),
    (b'{"meta": "\\udc00"}', r"meta: .* lone UTF-16 surrogate"),
    (b"\xff\xfe{\x00}\x00", r"is UTF-16 text; save it as UTF-8"),
    (b'{"meta": "caf\xe9"}', r"is not UTF-8 text \(invalid byte at offset 13\)"),
    (b"[" * 65 + b"]" * 65, r"nests objects and lists 65 deep, over the limit of 64"),
    (b"[" * 200_000 + b"]" * 200_000, r"nests objects and lists 200000 deep"),
    (b'{"meta": ', r"is not valid JSON"),
])
def test_strict_parsing_refuses_what_json_would_accept_or_crash_on(text, message):
    with pytest.raises(DocumentFormatError, match=message) as caught:
        loads_json(text, source="doc.json")
    assert "\n" not in str(caught.value)


def test_strict_parsing_accepts_what_json_writers_produce():
    text = '\ufeff{"a": [1, -2.5e3, 9007199254740991, "\\ud83d\\ude00", "[{"], "b": null}'
    assert loads_json(text) == {"a": [1, -2500.0, 9007199254740991, "\U0001F600", "[{"], "b": None}
    assert loads_json(text.encode("utf-8")) == loads_json(text)
    assert loads_json("[" * 64 + "]" * 64) is not None


def test_depth_scan_ignores_brackets_in_strings_and_escaped_quotes():
    assert json_depth('["\\"[[[[", {"k": "]]]"}]') == 2
    assert json_depth("[]") == 1 and json_depth('"x"') == 0


def test_depth_scan_is_linear_on_hostile_quotes():
    assert json_depth('"' + '\\"' * 300_000) == 0  # an unterminated string, escaped quotes all the way


def test_a_saved_file_with_a_wrong_shape_is_refused_when_read(workspace):
    project = Project.create("Shapes")
    path = project.path / "project.isproj"
    data = json.loads(path.read_text())
    data["layers"] = [{"id": "l1", "kind": "paint", "name": "Ink", "strokes": "not a list"}]
    with pytest.raises(DocumentFormatError, match=r"project\.isproj: layers\[0\]\.strokes: expected a list"):
        loads_document(json.dumps(data).encode(), source=str(path))


def _true_depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_true_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_true_depth, value), default=0)
    return 0


def test_depth_scan_agrees_with_the_parsed_depth_on_random_documents():
    import random

    rng = random.Random(7)
    pieces = ['"', "\\", "[", "]", "{", "}", "\\\"", "é", "😀", "a", " ", "\n", '""', "\\\\"]

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(6)))

    def value(depth: int):
        roll = rng.random()
        if depth > 8 or roll < 0.3:
            return rng.choice([text(), 1, -2.5, None, True, ""])
        if roll < 0.65:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {text(): value(depth + 1) for _ in range(rng.randrange(4))}

    for _ in range(400):
        data = value(0)
        for dumped in (json.dumps(data), json.dumps(data, ensure_ascii=False, indent=1)):
            assert json_depth(dumped) == _true_depth(data), dumped
            assert json_depth(dumped.encode()) == _true_depth(data), dumped
