"""``Canvas``: the layered editor of a project, as an anywidget.

Each view in a browser holds its own Yjs copy of the project document, synced through the project's room in
a collaborative JupyterLab, else with the kernel's pycrdt document by binary Y updates (``docsync``).
Strokes, transforms, deletes and per-view undo are edited there; panel commands call ``Project`` methods on
behalf of the view that asked. Tool, selection, zoom and brush belong to each view (the attributes here are
the notebook's own, unsynced); ``undo``/``redo`` here are the kernel's own (``Project.undo``), never a view's.
Every action is also a Python method here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import traitlets

from ..errors import InvalidArgumentError, UnsupportedParameterError
from ._base import Reply, StudioWidget, bundle, open_project
from .docsync import relay_for
from .protocol import DEFAULT_BRUSH, TOOLS
from .rasters import encode_for_view, layer_pixels



class Canvas(StudioWidget):
    """A layered canvas bound to a project: layers panel, transform, paint, mask and text tools, zoom, undo.

    Parameters
    ----------
    project : Project or str
        The project (or its name in the workspace, or its folder).
    height : int
        Height of the editor in screen pixels.
    transport : {"auto", "room", "kernel"}
        How each view syncs the document: ``"auto"`` joins the project's room in a JupyterLab with
        collaboration and falls back to this kernel's relay; ``"kernel"`` always uses the relay.

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb import Project
    >>> p = Project.create("CanvasDoc", workspace=tempfile.mkdtemp(), width=64, height=48)
    >>> canvas = Canvas(p)
    >>> layer = canvas.add_layer("paint", name="Ink")
    >>> canvas.selected_layer == layer, canvas.project.layers()[0]["name"]
    (True, 'Ink')
    >>> canvas.export(Path(tempfile.mkdtemp()) / "out.png").suffix
    '.png'
    """

    _esm = bundle("canvas")
    _calls = frozenset({"add_layer", "update_layer", "remove_layer", "move_layer", "duplicate_layer", "undo",
                        "redo", "export", "add_image_file", "reset_crop", "remove_background",
                        "replace_background"})

    project_name = traitlets.Unicode("").tag(sync=True)
    # The notebook's own view state (DESIGN.md D2: each browser view keeps its own; none of it is synced).
    selected_layer = traitlets.Unicode(None, allow_none=True)
    tool = traitlets.Enum(TOOLS, default_value="move")
    brush = traitlets.Dict(DEFAULT_BRUSH)
    zoom = traitlets.Float(0.0)
    height = traitlets.Int(560).tag(sync=True)
    transport = traitlets.Enum(("auto", "room", "kernel"), default_value="auto").tag(sync=True)
    #: Names of the background templates the layers panel offers for "Replace background".
    background_templates = traitlets.List().tag(sync=True)

    def __init__(self, project, **kwargs: Any):
        from ..imaging.background import BACKGROUND_TEMPLATES

        self.project = open_project(project)
        kwargs.setdefault("background_templates", sorted(BACKGROUND_TEMPLATES))
        super().__init__(project_name=self.project.name, **kwargs)
        self._relay = relay_for(self.project)
        self._relay.attach(self)

    def close(self) -> None:
        """Close the widget and stop relaying the document to it."""
        self._relay.detach(self)
        super().close()

    # --- validation ----------------------------------------------------------------------------------
    @traitlets.validate("brush")
    def _check_brush(self, proposal):
        from ..imaging.strokes import parse_color

        brush = {**DEFAULT_BRUSH, **proposal["value"]}
        unknown = set(brush) - set(DEFAULT_BRUSH)
        if unknown:
            raise UnsupportedParameterError("brush setting", sorted(unknown), sorted(DEFAULT_BRUSH))
        if not isinstance(brush["size"], (int, float)) or not 0 < brush["size"] <= 2000:
            raise UnsupportedParameterError("brush size", brush["size"], "a number of pixels in (0, 2000]")
        for key in ("hardness", "opacity"):
            if not isinstance(brush[key], (int, float)) or not 0 <= brush[key] <= 1:
                raise UnsupportedParameterError(f"brush {key}", brush[key], "a number from 0 to 1")
        r, g, b = parse_color(brush["color"])
        brush["color"] = f"#{r:02x}{g:02x}{b:02x}"
        return brush

    @traitlets.validate("zoom")
    def _check_zoom(self, proposal):
        value = proposal["value"]
        if value != 0 and not 0.1 <= value <= 8:
            raise UnsupportedParameterError("zoom", value, "0.1 to 8 (10% to 800%), or 0 to fit")
        return value

    # --- the document sync ---------------------------------------------------------------------------
    def send_update(self, update: bytes, view: str | None = None) -> None:
        """Send a document update to every front end, tagged with the view that caused it (else ``None``)."""
        self.send({"type": "y-update", "view": view}, [update])

    def send_awareness(self, update: bytes, view: str | None) -> None:
        """Send a view's presence to every front end."""
        self.send({"type": "awareness", "view": view}, [update])

    def _msg_y_sync(self, content: dict, buffers: list[bytes]) -> Reply:
        # What the view lacks, and the kernel's state vector so the view can send what the kernel lacks.
        return Reply(None, [self._relay.state(buffers[0] if buffers else None), self._relay.state_vector()])

    def _msg_y_update(self, content: dict, buffers: list[bytes]) -> None:
        for update in buffers:
            self._relay.apply(update, _view_of(content))

    def _msg_awareness(self, content: dict, buffers: list[bytes]) -> None:
        for update in buffers:
            self._relay.broadcast_awareness(update, _view_of(content))

    def _msg_asset(self, content: dict, buffers: list[bytes]) -> Reply:
        info = self.project.assets.info(str(content.get("hash")))
        return Reply(None, [self.project.assets.read(info.hash)], mime=info.mime)

    def _msg_layer_raster(self, content: dict, buffers: list[bytes]) -> Reply:
        pixels = layer_pixels(self.project, self.project.layer(str(content.get("layer"))))
        if pixels is None:
            return Reply(None, empty=True)
        data, mime = encode_for_view(pixels)
        return Reply(None, [data], mime=mime)

    # --- actions (the browser calls these; so can a notebook) ----------------------------------------
    def select(self, layer_id: str | None) -> None:
        """Select a layer (``None`` for none) for this notebook's own calls; each browser view keeps its own
        selection (DESIGN.md D2), so the views do not follow it."""
        if layer_id is not None:
            self.project.layer(layer_id)
        self.selected_layer = layer_id

    def add_layer(self, kind: str = "paint", *, name: str | None = None, select: bool = True, **props: Any) -> str:
        """Add a layer on top (``Project.add_layer``) and select it."""
        layer_id = self.project.add_layer(kind, name=name, **props)
        if select:
            self.selected_layer = layer_id
        return layer_id

    def add_image(self, asset: str, *, name: str | None = None, kind: str = "image") -> str:
        """Add a stored asset (hash or unique prefix) as a layer on top and select it."""
        return self.add_layer(kind, name=name or f"Image {asset[:8]}", asset=asset)

    def undo(self) -> bool:
        """Undo the last change to the document (``Project.undo``)."""
        return self.project.undo()

    def redo(self) -> bool:
        """Redo (``Project.redo``)."""
        return self.project.redo()

    def export(self, path: str | Path | None = None, *, format: str | None = None, quality: int = 90) -> Path:
        """Render the canvas with Python (``Project.render``) and write PNG, JPEG or WebP; returns the path.

        The format follows ``path``'s suffix, else ``format`` (default PNG). Without a path the file goes to
        the project's ``exports/`` folder as ``<project name>.<ext>``, or ``<name>-2.<ext>``, ``-3``... so
        an export never replaces an earlier one (archives and sync leave that folder out; the browser's
        Export button also downloads the file). A path you give is written as asked.
        """
        from ..project.files import write_atomic
        from .rasters import EXPORT_FORMATS, export_bytes

        by_suffix = {suffix: name for name, suffix in EXPORT_FORMATS.items()} | {".jpeg": "jpeg"}
        if path is not None:
            fmt = by_suffix.get(Path(path).suffix.lower())
            if fmt is None:
                raise InvalidArgumentError(f"export writes PNG, JPEG or WebP; give a path ending in .png, .jpg or "
                                           f".webp, not {Path(path).name!r}")
            target = Path(path)
        else:
            fmt = (format or "png").lower().replace("jpg", "jpeg")
            if fmt not in EXPORT_FORMATS:
                raise UnsupportedParameterError("export format", format, list(EXPORT_FORMATS))
            target = _free_path(self.project.path / "exports", self.project.name, EXPORT_FORMATS[fmt])
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, export_bytes(self.project, fmt, quality=int(quality)))
        return target

    def reset_crop(self, layer_id: str) -> None:
        """Remove a layer's crop, keeping its content where it is on the canvas."""
        from ..imaging.compositing import crop_image, normalise_transform, transform_matrix

        layer = self.project.layer(layer_id)
        t = normalise_transform(layer.get("transform"))
        if t["crop"] is None:
            return
        pixels = layer_pixels(self.project, layer)
        if pixels is None:
            raise InvalidArgumentError(f"layer {layer_id!r} has no pixels to uncrop")
        height, width = pixels.shape[:2]
        cropped = crop_image(pixels, t["crop"])
        ch, cw = cropped.shape[:2]
        x0, y0 = max(0, int(round(t["crop"][0]))), max(0, int(round(t["crop"][1])))
        m = transform_matrix(t, cw, ch)
        origin = m @ np.array([-x0, -y0, 1.0])
        centre = origin + m[:, :2] @ np.array([width / 2, height / 2])
        x = centre[0] - width * t["scale_x"] / 2
        y = centre[1] - height * t["scale_y"] / 2
        self.project.update_layer(layer_id, transform={"crop": None, "x": _tidy(x), "y": _tidy(y)})

    def remove_background(self, layer_ids: str | list[str] | None = None, *, method: str = "auto") -> list[str]:
        """Cut the background out of image layers (default: the selected one) as mask layers linked to them
        (``imagestudio_nb.remove_background``; the pixels stay as they are); selects the last mask and the
        mask tool (here, and in the browser view that asked), whose add/remove strokes keep or remove more.
        Returns the mask layers' ids."""
        from .cutout import cut_out_layers

        ids = [layer_ids] if isinstance(layer_ids, str) else list(layer_ids or [])
        if not ids and self.selected_layer:
            ids = [self.selected_layer]
        if not ids:
            raise InvalidArgumentError("select the image layer to cut out first")
        masks = cut_out_layers(self.project, ids, method=method)
        self.selected_layer = masks[-1]
        self.tool = "mask"
        return masks

    def replace_background(self, background: str, layer_id: str | None = None) -> str:
        """Put a background (template name, ``"#rrggbb"`` or a stored image's hash) under an image layer
        (default: the selected one, or the image the selected cut-out mask belongs to); returns its id."""
        from .cutout import add_background_layer

        layer_id = layer_id or self.selected_layer
        if not layer_id:
            raise InvalidArgumentError("select the image layer to put a background under first")
        if self.project.layer(layer_id)["kind"] == "mask":  # the cut-out is selected: use its image
            owners = [l["id"] for l in self.project.layers() if l.get("mask") == layer_id]
            layer_id = owners[0] if owners else layer_id
        return add_background_layer(self.project, layer_id, background)

    def _call_remove_background(self, buffers, layer_ids: list | None = None) -> list[str]:
        return self.remove_background(layer_ids)

    def _call_replace_background(self, buffers, background: str = "", layer_id: str | None = None) -> str:
        if buffers:  # an image file sent from the browser becomes an asset first
            background = self.project.assets.add(buffers[0], source="upload:background", tags=["upload"]).hash
        return self.replace_background(background, layer_id)

    def _call_add_layer(self, buffers, kind: str = "paint", name: str | None = None, **props) -> str:
        return self.add_layer(kind, name=name, **props)

    def _call_update_layer(self, buffers, layer_id: str, **props) -> None:
        self.project.update_layer(layer_id, **props)

    def _call_remove_layer(self, buffers, layer_id: str) -> None:
        self.project.remove_layer(layer_id)
        if self.selected_layer == layer_id:
            self.selected_layer = None

    def _call_move_layer(self, buffers, layer_id: str, index: int) -> None:
        self.project.move_layer(layer_id, int(index))

    def _call_duplicate_layer(self, buffers, layer_id: str) -> str:
        copy = self.project.duplicate_layer(layer_id)
        self.selected_layer = copy
        return copy

    def _call_undo(self, buffers) -> bool:
        return self.undo()

    def _call_redo(self, buffers) -> bool:
        return self.redo()

    def _call_reset_crop(self, buffers, layer_id: str) -> None:
        self.reset_crop(layer_id)

    def _call_export(self, buffers, format: str = "png", quality: int = 90) -> Reply:
        path = self.export(format=format, quality=quality)
        mime = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}[path.suffix]
        return Reply({"path": str(path), "filename": path.name, "mime": mime}, [path.read_bytes()])

    def _call_add_image_file(self, buffers, name: str = "upload") -> str:
        if not buffers:
            raise InvalidArgumentError("no image bytes were sent")
        info = self.project.assets.add(buffers[0], source=f"upload:{name}", tags=["upload"])
        return self.add_layer("image", name=Path(name).stem or "Image", asset=info.hash)

    def __repr__(self) -> str:
        return f"Canvas({self.project.name!r}, layers={len(self.project.layers())})"


def _view_of(content: dict) -> str | None:
    view = content.get("view")
    return str(view) if view else None


def _free_path(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem.suffix``, or the first ``folder/stem-N.suffix`` that does not exist yet."""
    candidate, number = folder / f"{stem}{suffix}", 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{stem}-{number}{suffix}"
    return candidate


def _tidy(value: float) -> float | int:
    value = round(float(value), 2)
    return int(value) if math.isclose(value, round(value)) else value
