"""The MaskEditor's canvas is shown at its own pixel size, not stretched across the cell (which blurred it)."""

from __future__ import annotations

import numpy as np

from imagestudio_nb.widgets.mask_editor import MaskEditor


def test_mask_editor_canvas_is_not_stretched():
    image = np.full((300, 400, 3), 240, np.uint8)
    image[100:200, 150:250] = (200, 30, 30)
    editor = MaskEditor(image, max_display=384, method="classical")
    canvas = editor.widget.children[-1]
    assert (canvas.width, canvas.height) == (384, 288)
    assert canvas.layout.width == "384px" and canvas.layout.height == "288px"
    # A small image is shown 1:1, not blown up.
    small = MaskEditor(image[:60, :80], method="classical").widget.children[-1]
    assert (small.width, small.height) == (80, 60) and small.layout.width == "80px"
