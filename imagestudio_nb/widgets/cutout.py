"""Background removal and replacement on canvas layers, without touching the layer's pixels: the cut-out
is a mask layer holding the matte (``imagestudio_nb.remove_background``), linked to the image layer, which
keep/remove strokes refine; a new background is an image layer put under it (``replace_background``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError

RASTER_KINDS = ("image", "generated")


def _raster_layer(project, layer_id: str) -> dict[str, Any]:
    layer = project.layer(layer_id)
    if layer["kind"] not in RASTER_KINDS or not layer.get("asset"):
        raise InvalidArgumentError(f"layer {layer['name']!r} is a {layer['kind']} layer; background removal works "
                                   "on image layers: select one")
    return layer


def _index(project, layer_id: str) -> int:
    return [layer["id"] for layer in project.layers()].index(layer_id)


def cut_out_layer(project, layer_id: str, *, method: str = "auto") -> str:
    """Cut the background out of an image layer as a mask layer; returns the mask layer's id.

    The matte (``remove_background(...).matte``) is stored as an asset (white, alpha = matte) at the
    image's own size and placed with the image's transform, so it stays aligned; the image layer's
    ``mask`` points at it. Strokes on the mask layer (``mask_add`` keeps, ``mask_remove`` removes) refine
    it; deleting the mask layer, or unlinking it, gives the whole image back.

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb import Project
    >>> p = Project.create("CutDoc", workspace=tempfile.mkdtemp(), width=96, height=96)
    >>> img = np.full((96, 96, 3), 245, np.uint8); img[24:72, 30:66] = (180, 40, 40)
    >>> photo = p.add_layer("image", asset=p.assets.add(img).hash)
    >>> mask = cut_out_layer(p, photo)
    >>> p.layer(photo)["mask"] == mask, p.layer(mask)["kind"]
    (True, 'mask')
    >>> alpha = p.assets.read_array(p.layer(mask)["asset"], mode="RGBA")[..., 3]
    >>> bool(alpha[48, 48] > 230 and alpha[4, 4] < 25)
    True
    """
    from ..imaging.background import remove_background

    layer = _raster_layer(project, layer_id)
    pixels = project.assets.read_array(layer["asset"], mode="RGBA")
    result = remove_background(pixels, method=method)
    matte = np.full(pixels.shape[:2] + (4,), 255, np.uint8)
    matte[..., 3] = result.matte_uint8
    info = project.assets.add(matte, source=f"remove_background:{layer['asset'][:12]}", tags=["matte"])
    # An earlier mask of the layer stays in the project, unlinked: nothing the user made is lost.
    with project.batch():
        mask_id = project.add_layer("mask", name=f"Cut-out: {layer['name']}"[:60], asset=info.hash,
                                    transform=layer.get("transform"), index=_index(project, layer_id) + 1)
        project.update_layer(layer_id, mask=mask_id)
    return mask_id


def cut_out_layers(project, layer_ids: Sequence[str], *, method: str = "auto") -> list[str]:
    """:func:`cut_out_layer` over several layers (each checked first, so a bad one stops nothing half-done)."""
    for layer_id in layer_ids:
        _raster_layer(project, layer_id)
    return [cut_out_layer(project, layer_id, method=method) for layer_id in layer_ids]


def add_background_layer(project, layer_id: str, background: Any) -> str:
    """Put a new background under an image layer: a template name (``BACKGROUND_TEMPLATES``), a colour
    ``"#rrggbb"`` or the hash of a stored image; returns the new layer's id.

    The background is rendered by ``replace_background`` at the image's size and placed with its transform,
    so a cut-out of the layer shows it where its background was.
    """
    from ..imaging.background import replace_background

    layer = _raster_layer(project, layer_id)
    info = project.assets.info(layer["asset"])
    spec = background
    if isinstance(background, str) and not background.startswith("#") and len(background) >= 8:
        try:
            spec = project.assets.read_array(project.assets.resolve(background), mode="RGB")
        except Exception:  # not an asset hash: let replace_background judge the name (templates, colours)
            spec = background
    plate = replace_background(np.zeros((info.height, info.width, 4), np.uint8), spec, fit="fill")
    stored = project.assets.add(plate, source="replace_background", tags=["background"])
    name = background if isinstance(background, str) and len(background) < 20 else "image"
    return project.add_layer("image", name=f"Background: {name}", asset=stored.hash,
                             transform=layer.get("transform"), index=_index(project, layer_id))
