"""``MaskEditor``: an ipycanvas widget to correct a background-removal matte with keep/remove brushes.

The editor only records strokes (the same stroke dicts a project stores on a mask layer) and shows
them; the matte always comes from ``remove_background(image, strokes=editor.strokes)``. Every action
is a Python method (``add_stroke``, ``undo``, ``run``...) so it works, and is tested, without a browser;
only the drawing uses ipycanvas.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from ..errors import InvalidArgumentError, UnsupportedParameterError
from ..imaging.background import remove_background
from ..imaging.codec import check_image_array
from ..imaging.strokes import mask_from_strokes, parse_color

MODES = ("keep", "remove")
_STROKE_COLOURS = {"keep": "rgba(52, 199, 89, 0.6)", "remove": "rgba(255, 59, 48, 0.6)"}


class MaskEditor:
    """Brush corrections over an automatic matte, shown on the image with a matte overlay.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 RGB or RGBA image to cut out.
    brush_size : int
        Brush diameter in image pixels.
    mode : {"keep", "remove"}
        The tool of the next stroke.
    hardness, opacity : float
        Brush edge hardness and opacity (0..1), stored in each stroke.
    strokes : list of dict, optional
        Strokes to start from (e.g. read back from a project's mask layer).
    max_display : int
        Longest side of the canvas in screen pixels; strokes are stored in image pixels.
    overlay_color : str
        Tint of the removed area in the overlay.
    **remove_kwargs
        Passed to ``remove_background`` (method, refine, model_path, ...).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((60, 80, 3), 240, np.uint8); img[15:45, 25:55] = (30, 60, 200)
    >>> editor = MaskEditor(img, brush_size=10, mode="remove")
    >>> stroke = editor.add_stroke([30, 30, 50, 30])
    >>> stroke["tool"], len(editor.strokes)
    ('remove', 1)
    >>> bool(editor.run().matte[30, 40] < 0.1)
    True
    """

    def __init__(self, image: np.ndarray, *, brush_size: int = 24, mode: str = "keep", hardness: float = 0.8,
                 opacity: float = 1.0, strokes=None, max_display: int = 640, overlay_color: str = "#ff3b30",
                 **remove_kwargs):
        self.image = check_image_array(image).copy()
        self.height, self.width = self.image.shape[:2]
        self.brush_size = brush_size
        self.mode = mode
        self.hardness = float(hardness)
        self.opacity = float(opacity)
        self.overlay_color = overlay_color
        self.overlay_opacity = 0.5
        self.show_overlay = True
        self.remove_kwargs = dict(remove_kwargs)
        if "strokes" in self.remove_kwargs:
            raise InvalidArgumentError("pass strokes= to MaskEditor itself, not inside remove_background options")
        self.strokes: list[dict] = [dict(s) for s in (strokes or [])]
        self.scale = min(1.0, max_display / max(self.height, self.width))
        self._auto_matte: np.ndarray | None = None
        self._current: dict | None = None
        self.result = None
        self._ui = None

    # -- state -------------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise UnsupportedParameterError("mode", value, MODES)
        self._mode = value

    @property
    def brush_size(self) -> int:
        return self._brush_size

    @brush_size.setter
    def brush_size(self, value) -> None:
        if not value or value <= 0:
            raise InvalidArgumentError(f"brush_size={value!r} must be a positive number of pixels")
        self._brush_size = int(round(value))

    def _new_stroke(self, points) -> dict:
        return {"tool": self.mode, "size": self.brush_size, "hardness": self.hardness,
                "opacity": self.opacity, "points": [round(float(v), 2) for v in points]}

    def add_stroke(self, points, *, tool: str | None = None, size: int | None = None) -> dict:
        """Record a whole stroke given in image pixels ``[x0, y0, x1, y1, ...]``; returns the stored dict."""
        if len(points) < 2 or len(points) % 2:
            raise InvalidArgumentError("points must be a flat list [x0, y0, x1, y1, ...] with at least one point")
        stroke = self._new_stroke(points)
        if tool is not None:
            if tool not in MODES:
                raise UnsupportedParameterError("tool", tool, MODES)
            stroke["tool"] = tool
        if size is not None:
            stroke["size"] = int(size)
        self.strokes.append(stroke)
        self._redraw()
        return stroke

    def begin_stroke(self, x: float, y: float) -> None:
        """Start a stroke at display (canvas) coordinates, as a mouse-down does."""
        self._current = self._new_stroke([x / self.scale, y / self.scale])

    def extend_stroke(self, x: float, y: float) -> None:
        """Add a display-coordinate point to the stroke in progress (mouse move with the button down)."""
        if self._current is None:
            return
        last = self._current["points"][-2:]
        px, py = x / self.scale, y / self.scale
        if abs(px - last[0]) + abs(py - last[1]) < 0.5:  # skip sub-pixel jitter
            return
        self._current["points"] += [round(px, 2), round(py, 2)]
        if self._ui is not None:
            self._draw_segment(last, (px, py), self._current)

    def end_stroke(self) -> dict | None:
        """Finish the stroke in progress and record it (mouse up); returns it."""
        stroke, self._current = self._current, None
        if stroke is None:
            return None
        self.strokes.append(stroke)
        self._redraw()
        return stroke

    def undo(self) -> dict | None:
        """Remove and return the last stroke (``None`` if there is none)."""
        stroke = self.strokes.pop() if self.strokes else None
        self._redraw()
        return stroke

    def clear(self) -> None:
        """Remove every stroke."""
        self.strokes.clear()
        self._redraw()

    # -- the matte ---------------------------------------------------------------------------------
    @property
    def auto_matte(self) -> np.ndarray:
        """The automatic matte (no strokes), computed once."""
        if self._auto_matte is None:
            self._auto_matte = remove_background(self.image, **self.remove_kwargs).auto_matte
        return self._auto_matte

    def preview_matte(self) -> np.ndarray:
        """The matte with the current strokes, from the cached automatic matte (as ``run`` computes it)."""
        return np.clip(mask_from_strokes(self.strokes, self.height, self.width, base=self.auto_matte), 0, 1)

    def run(self):
        """Re-run ``remove_background(image, strokes=self.strokes, ...)``; store and return the result."""
        self.result = remove_background(self.image, strokes=list(self.strokes), **self.remove_kwargs)
        self._auto_matte = self.result.auto_matte
        return self.result

    def overlay_image(self) -> np.ndarray:
        """The image at display size with the removed area tinted (uint8 RGB), as the canvas shows it."""
        size = (max(1, round(self.width * self.scale)), max(1, round(self.height * self.scale)))
        rgb = self.image[..., :3].astype(np.float32)
        if self.show_overlay:
            tint = (1 - self.preview_matte())[..., None] * self.overlay_opacity
            colour = np.array(parse_color(self.overlay_color), np.float32)
            rgb = rgb * (1 - tint) + colour * tint
        if self.scale < 1:
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)

    # -- the widget (ipycanvas + ipywidgets) ---------------------------------------------------------
    @property
    def widget(self):
        """The notebook widget: canvas with overlay, brush size, keep/remove, undo, clear, apply."""
        if self._ui is None:
            self._build_ui()
        return self._ui

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def _build_ui(self):
        import ipywidgets as w
        from ipycanvas import Canvas

        h, wd = self.overlay_image().shape[:2]
        # CSS size = pixel size: ipycanvas otherwise stretches the canvas to the cell's width (a 384 px
        # canvas shown 1168 px wide, blurred); max_display picks the pixel size instead.
        self._canvas = Canvas(width=wd, height=h, layout=w.Layout(width=f"{wd}px", height=f"{h}px",
                                                                   max_width="none", flex="0 0 auto"))
        self._canvas.on_mouse_down(self.begin_stroke)
        self._canvas.on_mouse_move(self.extend_stroke)
        self._canvas.on_mouse_up(lambda x, y: self.end_stroke())
        self._canvas.on_mouse_out(lambda x, y: self.end_stroke())
        size = w.IntSlider(value=self.brush_size, min=1, max=max(8, max(self.height, self.width) // 4),
                           description="Brush")
        mode = w.ToggleButtons(options=[("Keep", "keep"), ("Remove", "remove")], value=self.mode)
        overlay = w.Checkbox(value=self.show_overlay, description="Matte overlay")
        undo, clear, apply = w.Button(description="Undo"), w.Button(description="Clear"), \
            w.Button(description="Apply", button_style="primary")
        size.observe(lambda c: setattr(self, "brush_size", c["new"]), "value")
        mode.observe(lambda c: setattr(self, "mode", c["new"]), "value")

        def _overlay(change):
            self.show_overlay = change["new"]
            self._redraw()

        overlay.observe(_overlay, "value")
        undo.on_click(lambda _: self.undo())
        clear.on_click(lambda _: self.clear())
        apply.on_click(lambda _: self.run())
        self._ui = w.VBox([w.HBox([mode, size]), w.HBox([undo, clear, overlay, apply]), self._canvas])
        self._redraw()

    def _redraw(self):
        if self._ui is None:
            return
        from ipycanvas import hold_canvas

        with hold_canvas():
            self._canvas.put_image_data(self.overlay_image(), 0, 0)

    def _draw_segment(self, a, b, stroke: Mapping):
        c = self._canvas
        c.stroke_style = _STROKE_COLOURS[stroke["tool"]]
        c.line_width = max(1.0, stroke["size"] * self.scale)
        c.line_cap = "round"
        c.stroke_line(a[0] * self.scale, a[1] * self.scale, b[0] * self.scale, b[1] * self.scale)
