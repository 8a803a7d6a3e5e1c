"""Jupyter widgets of Image Studio: Canvas, PromptPanel, FilterPanel, Gallery, Studio (anywidget), and the
MaskEditor (ipycanvas). The front ends are built from ``labextension/`` into ``static/``.
"""

from __future__ import annotations

from .canvas import Canvas
from .filter_panel import FilterPanel
from .gallery import Gallery
from .prompt_panel import PromptPanel
from .studio import Studio

__all__ = ["Canvas", "FilterPanel", "Gallery", "MaskEditor", "PromptPanel", "Studio"]


def __getattr__(name: str):
    if name == "MaskEditor":
        from .mask_editor import MaskEditor

        return MaskEditor
    raise AttributeError(f"module 'imagestudio_nb.widgets' has no attribute {name!r}")
