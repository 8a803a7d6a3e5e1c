"""The names the renderer knows: blend modes, layer kinds and stroke tools.

Kept apart from the renderer so that the document schema (and the front end's generated constants) can
read them without loading OpenCV. The renderer implements exactly these; nothing else may list them.
"""

from __future__ import annotations

BLEND_MODES = (
    "normal",
    "multiply",
    "screen",
    "overlay",
    "soft_light",
    "hard_light",
    "darken",
    "lighten",
    "difference",
    "color_dodge",
    "color_burn",
)
LAYER_KINDS = ("image", "generated", "paint", "text", "mask")
PAINT_TOOLS = frozenset({"brush", "eraser"})
MASK_TOOLS = frozenset({"keep", "remove", "mask_add", "mask_remove"})
