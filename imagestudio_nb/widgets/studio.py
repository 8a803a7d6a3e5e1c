"""``Studio``: the canvas, prompt, filter and gallery panels of one project in one layout.

It only arranges the widgets and links them (the filter panel follows the canvas's selected layer; the
prompt panel and the gallery put their images on the canvas); each panel does its own work.
"""

from __future__ import annotations

from typing import Any

import ipywidgets

from .canvas import Canvas
from .filter_panel import FilterPanel
from .gallery import Gallery
from .prompt_panel import PromptPanel


class Studio(ipywidgets.VBox):
    """All panels for one project: ``Studio("MyProject")`` opens the project, or creates it.

    The layout fits a 1600x1000 screen: tools left of the canvas, layers and properties right of it, filters
    and gallery in a collapsible column beside, the prompt and the generations strip below.

    Parameters
    ----------
    project : Project or str
        A project, or the name of one in the workspace (created when it does not exist).
    height : int
        Height of the canvas in screen pixels.

    Examples
    --------
    >>> import tempfile
    >>> studio = Studio("StudioDoc", workspace=tempfile.mkdtemp())
    >>> studio.canvas.project is studio.filters.project is studio.gallery.project is studio.prompt.project
    True
    """

    def __init__(self, project, *, workspace=None, height: int = 520, **kwargs: Any):
        from ..project import Project

        if not isinstance(project, Project):
            project = Project.create(str(project), workspace=workspace, exist_ok=True)
        self.project = project
        self.canvas = Canvas(project, height=height)
        self.prompt = PromptPanel(project, canvas=self.canvas)
        self.filters = FilterPanel(project, canvas=self.canvas)
        self.gallery = Gallery(project, canvas=self.canvas)
        tabs = ipywidgets.Tab(children=[self.filters, self.gallery])
        tabs.set_title(0, "Filters")
        tabs.set_title(1, "Gallery")
        # An accordion of one: its header collapses the column, giving the canvas the width.
        self.side = ipywidgets.Accordion(children=[tabs], selected_index=0)
        self.side.set_title(0, "Filters · Gallery")
        self.canvas.layout = ipywidgets.Layout(flex="1 1 auto", min_width="0")
        main = ipywidgets.HBox([self.canvas, self.side])
        main.add_class("is-studio-main")
        super().__init__(children=[main, self.prompt], **kwargs)
        self.add_class("is-studio-layout")

    def __repr__(self) -> str:
        return f"Studio({self.project.name!r})"
