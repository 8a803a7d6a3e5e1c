"""``PromptPanel``: write a prompt, pick the model and its options (generated from the provider's declared
capabilities), improve it (enhance, suggestions, templates, styles, history) and generate.

Generate calls ``imagestudio_nb.generate`` with the project, then puts the results on the canvas as layers.
Errors (content filter, rate limit, credentials...) are shown in the panel as one line.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import traitlets

from ..errors import InvalidArgumentError, PartialResultError
from ._base import Reply, StudioWidget, bundle, open_project

#: Generation options the panel sets, each validated by ``generate`` against the model's capabilities.
OPTION_NAMES = ("size", "quality", "n", "style", "background", "output_format", "seed")


def accepted_options(caps: dict, *, edit: bool) -> list[str]:
    """The panel options a model accepts for a generation (``edit=False``) or an edit, read from its
    capability table (``ModelCapabilities.as_dict()``): the panel sends exactly these and nothing else.

    ``style`` is a generation parameter only (the edit call has none), so an inpaint never sends it.

    Examples
    --------
    >>> from imagestudio_nb.providers.local import CAPABILITIES
    >>> accepted_options(CAPABILITIES.as_dict(), edit=False)
    ['size', 'quality', 'n', 'style', 'background', 'output_format', 'seed']
    >>> accepted_options(CAPABILITIES.as_dict(), edit=True)
    ['size', 'quality', 'n', 'background', 'output_format', 'seed']
    """
    declared = {"size": caps.get("sizes"), "quality": caps.get("qualities"), "n": True,
                "style": caps.get("styles") and not edit, "background": caps.get("backgrounds"),
                "output_format": caps.get("output_formats"), "seed": caps.get("seed")}
    return [name for name in OPTION_NAMES if declared[name]]


class PromptPanel(StudioWidget):
    """Prompt, model options, enhancement and generation for a project.

    Parameters
    ----------
    project : Project or str
        Where results are stored.
    canvas : Canvas, optional
        Where results are shown (they become layers of the project either way).

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb import Project
    >>> p = Project.create("PromptDoc", workspace=tempfile.mkdtemp())
    >>> panel = PromptPanel(p, prompt="a red kite over hills", options={"size": "256x256", "seed": 1})
    >>> results = panel.generate()
    >>> len(results), p.layers()[0]["kind"], p.layers()[0]["asset"] == results[0].asset
    (1, 'generated', True)
    """

    _esm = bundle("prompt_panel")
    _calls = frozenset({"generate", "edit", "enhance", "suggest", "render_template", "history", "thumbnails",
                        "show_result"})

    prompt = traitlets.Unicode("").tag(sync=True)
    model_name = traitlets.Unicode("local").tag(sync=True)
    models = traitlets.List().tag(sync=True)
    options = traitlets.Dict().tag(sync=True)
    style = traitlets.Unicode("").tag(sync=True)
    styles = traitlets.List().tag(sync=True)
    templates = traitlets.List().tag(sync=True)
    results = traitlets.List().tag(sync=True)

    def __init__(self, project, *, canvas=None, **kwargs: Any):
        from ..prompts import list_styles, list_templates
        from ..providers.registry import available_models

        self.project = open_project(project)
        self.canvas = canvas
        self._view_selection: str | None = None
        settings = self.project.config()
        models = [{**caps.as_dict(), "accepts": {"generate": accepted_options(caps.as_dict(), edit=False),
                                                 "edit": accepted_options(caps.as_dict(), edit=True)}}
                  for caps in available_models(settings)]
        kwargs.setdefault("model_name", settings.default_model or "local")
        styles = [{"name": s.name, "title": s.title, "description": s.description} for s in list_styles()]
        templates = [{"name": t.name, "title": t.title or t.name, "text": t.text, "style": t.style, "size": t.size,
                      "variables": {k: asdict(v) for k, v in t.variables.items()}} for t in list_templates()]
        super().__init__(models=models, styles=styles, templates=templates, **kwargs)

    # --- public actions --------------------------------------------------------------------------------
    def generate(self):
        """Generate with the panel's prompt, model and options (``imagestudio_nb.generate``), store the results
        in the project and add them as layers (the first visible, the others hidden)."""
        from ..generation import generate

        if not self.prompt.strip():
            raise InvalidArgumentError("write a prompt first")
        options = self._request_options(edit=False)
        try:
            results = generate(self.prompt, model=self.model_name or None, project=self.project, progress=False,
                               **options)
        except PartialResultError as exc:  # what did come back is stored: show it too, then say what is missing
            self._place(exc.results, name=self.prompt.strip()[:40])
            raise
        self._place(results, name=self.prompt.strip()[:40])
        return results

    def _place(self, results, *, name: str, transform: dict | None = None, above: str | None = None) -> list[str]:
        """Add results as layers (the first visible, the others hidden) where they bury no work, and select
        the first on the canvas.

        They go just above ``above`` (the edited layer), else above the canvas's selected image layer, else
        above the topmost image layer: never over paint, text or mask layers, which stay on top. With
        several results each name starts with its number, so the rows differ where the panel shows them.
        """
        extra = {"transform": transform} if transform else {}
        index = self._insert_index(above)
        with self.project.batch():
            layers = [self.project.add_layer("generated", name=name if len(results) == 1 else f"#{i + 1} {name}",
                                             asset=r.asset, visible=i == 0, index=index + i, **extra)
                      for i, r in enumerate(results)]
        if self.canvas is not None and layers:
            self.canvas.selected_layer = layers[0]
        self.results = [{"asset": r.asset, "layer": layer, "seed": r.seed, "revised_prompt": r.revised_prompt,
                         "name": self.project.layer(layer)["name"]} for r, layer in zip(results, layers)]
        return layers

    def _insert_index(self, above: str | None) -> int:
        layers = self.project.layers()
        ids = [layer["id"] for layer in layers]
        selected = self._view_selection or (self.canvas.selected_layer if self.canvas is not None else None)
        rasters = [i for i, layer in enumerate(layers) if layer["kind"] in ("image", "generated")]
        for anchor in (above, selected):
            if anchor in ids and layers[ids.index(anchor)]["kind"] in ("image", "generated"):
                return ids.index(anchor) + 1
        return rasters[-1] + 1 if rasters else 0

    def edit(self, layer_id: str | None = None, *, mask_layer: str | None = None):
        """Edit (inpaint) an image layer with the panel's prompt inside a mask layer's painted area
        (``imagestudio_nb.edit``), and put the result on the canvas above it, covering the same area.

        The layer defaults to the canvas's selected one; the mask to the layer's linked mask, else the top
        mask layer of the project. Without any mask layer the whole image is edited.
        """
        from ..generation import edit
        from .inpaint import edit_mask, placement_over

        layer_id = layer_id or (self.canvas.selected_layer if self.canvas is not None else None)
        if not layer_id:
            raise InvalidArgumentError("select the image layer to edit on the canvas first")
        layer = self.project.layer(layer_id)
        if layer["kind"] not in ("image", "generated") or not layer.get("asset"):
            raise InvalidArgumentError(f"layer {layer['name']!r} is a {layer['kind']} layer; edits work on image layers")
        if not self.prompt.strip():
            raise InvalidArgumentError("write a prompt saying what to paint in the masked area first")
        masks = [l for l in self.project.layers() if l["kind"] == "mask"]
        mask_id = mask_layer or layer.get("mask") or (masks[-1]["id"] if masks else None)
        source = self.project.assets.read_array(layer["asset"], mode="RGBA")
        mask = edit_mask(self.project, layer, self.project.layer(mask_id)) if mask_id else None
        if not self._caps().get("edit"):
            raise InvalidArgumentError(f"model {self.model_name!r} cannot edit images; choose a model whose "
                                       "capabilities include edits (the local model does)")
        options = self._request_options(edit=True)
        results = edit(self.prompt, self.project.assets.read(layer["asset"]), mask=mask, model=self.model_name or None,
                       project=self.project, progress=False, **options)
        self._place(results, name=f"Edit: {self.prompt.strip()[:32]}", above=layer_id,
                    transform=placement_over(layer, source.shape, results[0].image.shape) if len(results) else None)
        return results

    def _caps(self) -> dict:
        name = self.model_name or "local"
        for caps in self.models:
            if caps["model"] == name:
                return caps
        raise InvalidArgumentError(f"model {name!r} is not available here; available: {[m['model'] for m in self.models]}")

    def _request_options(self, *, edit: bool) -> dict[str, Any]:
        """The panel's options that the chosen model accepts for this kind of call.

        The options trait is shared by generate and inpaint, and keeps values from a model chosen before
        (``style`` for dall-e-3, say): those the model does not take for this call stay in the panel but
        are not sent. A name that is no panel option at all is a mistake and raises.
        """
        unknown = set(self.options) - set(OPTION_NAMES)
        if unknown:
            raise InvalidArgumentError(f"unknown generation options {sorted(unknown)}; allowed: {list(OPTION_NAMES)}")
        accepted = accepted_options(self._caps(), edit=edit)
        return {k: v for k, v in self.options.items() if k in accepted and v not in (None, "")}

    def enhance(self, *, engine: str = "auto"):
        """Improve the prompt (``imagestudio_nb.prompts.enhance``) with the panel's style; returns the Enhancement."""
        from ..prompts import enhance

        if not self.prompt.strip():
            raise InvalidArgumentError("write a prompt to enhance first")
        return enhance(self.prompt, style=self.style or None, engine=engine, settings=self.project.config())

    def suggest(self, partial: str | None = None, *, limit: int = 6) -> list:
        """Suggestions for the prompt being typed (``imagestudio_nb.prompts.suggest``)."""
        from ..prompts import suggest
        from ..prompts.history import default_history

        try:
            history = default_history()
        except Exception:  # a broken history file must not stop suggestions
            history = None
        return suggest(self.prompt if partial is None else partial, history=history, limit=limit,
                       style=self.style or None)

    # --- messages --------------------------------------------------------------------------------------
    def _take(self, prompt: str | None, model: str | None, options: dict | None, style: str | None) -> None:
        if prompt is not None:
            self.prompt = prompt
        if model is not None:
            self.model_name = model
        if options is not None:
            self.options = dict(options)
        if style is not None:
            self.style = style

    def _call_generate(self, buffers, prompt: str | None = None, model: str | None = None,
                       options: dict | None = None, style: str | None = None, layer: str | None = None) -> Reply:
        self._take(prompt, model, options, style)
        # A browser view's own selection (views do not share it) anchors the results, not the notebook's.
        self._view_selection = layer
        try:
            results = self.generate()
        finally:
            self._view_selection = None
        thumbs = [self.project.assets.thumbnail(r.asset, 192) for r in results]
        return Reply({"results": self.results, "record": results.record["id"]}, thumbs)

    def _call_edit(self, buffers, prompt: str | None = None, model: str | None = None, options: dict | None = None,
                   layer: str | None = None) -> Reply:
        self._take(prompt, model, options, None)
        results = self.edit(layer)
        thumbs = [self.project.assets.thumbnail(r.asset, 192) for r in results]
        return Reply({"results": self.results, "record": results.record["id"]}, thumbs)

    def show_result(self, layer_id: str) -> None:
        """Show a result's layer (from the generations strip) and select it on the canvas."""
        self.project.update_layer(layer_id, visible=True)
        if self.canvas is not None:
            self.canvas.selected_layer = layer_id

    def _call_show_result(self, buffers, layer: str) -> None:
        self.show_result(layer)

    def _call_thumbnails(self, buffers, assets: list) -> Reply:
        return Reply(None, [self.project.assets.thumbnail(h, 192) for h in assets])

    def _call_enhance(self, buffers, prompt: str | None = None, style: str | None = None) -> dict:
        self._take(prompt, None, None, style)
        return self.enhance().to_dict()

    def _call_suggest(self, buffers, prompt: str = "") -> list:
        return [asdict(s) for s in self.suggest(prompt)]

    def _call_render_template(self, buffers, name: str, values: dict | None = None) -> str:
        from ..prompts import render_template

        return render_template(name, {k: v for k, v in (values or {}).items() if str(v).strip()})

    def _call_history(self, buffers, query: str = "") -> list:
        from ..prompts.history import default_history

        store = default_history()
        if store is None:
            return []
        entries = store.search(query, limit=20) if query.strip() else store.recent(20)
        return [{"prompt": e.prompt, "uses": e.uses, "rating": e.rating, "models": e.models} for e in entries]
