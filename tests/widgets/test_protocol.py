"""The browser's constants are generated from the Python ones: the committed constants.ts is exactly what
the generator writes, so tools, blend modes, layer kinds and the default brush cannot drift apart again."""

from __future__ import annotations

from imagestudio_nb.widgets import protocol
from imagestudio_nb.widgets.canvas import Canvas


def test_constants_ts_is_generated_from_the_python_declarations():
    written = protocol.CONSTANTS_TS.read_text(encoding="utf-8")
    assert written == protocol.typescript_module(), (
        "labextension/src/constants.ts is stale: run `python -m imagestudio_nb.widgets.protocol`")


def test_the_generated_module_follows_the_schema_and_the_widget(monkeypatch):
    from imagestudio_nb.project.document import BLEND_MODES, LAYER_KINDS

    text = protocol.typescript_module()
    assert all(f'"{mode}"' in text for mode in BLEND_MODES) and '"hard_light"' in text
    assert all(f'"{kind}"' in text for kind in LAYER_KINDS)
    assert tuple(Canvas.tool.values) == protocol.TOOLS and Canvas.brush.make_dynamic_default() == protocol.DEFAULT_BRUSH
    # A change on the Python side shows up in the generated text, so the agreement test would catch it.
    monkeypatch.setattr(protocol, "BLEND_MODES", (*BLEND_MODES, "luminosity"))
    assert protocol.typescript_module() != protocol.CONSTANTS_TS.read_text(encoding="utf-8")


def test_no_second_hand_written_list_in_the_front_end():
    sources = (protocol.CONSTANTS_TS.parent).glob("*.ts")
    for path in sources:
        if path.name == "constants.ts":
            continue
        text = path.read_text(encoding="utf-8")
        assert '"color_dodge"' not in text and '"soft_light"' not in text, f"{path.name} lists blend modes by hand"
