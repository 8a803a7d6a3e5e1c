"""Texture sets on disk and in projects: the PBR maps of :func:`imagestudio_nb.imaging.tiling.texture_set`
written as ``<name>_albedo.png``, ``_height.png`` (16-bit), ``_normal.png``, ``_roughness.png`` and
``_preview.png`` (the tile 3x3), and optionally stored as tagged project assets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .imaging.codec import decode_image
from .imaging.tiling import TextureSet, texture_set


def export_texture_set(image: Any, folder, *, name: str = "texture", seamless: bool = True, strength: float = 4.0,
                       project=None) -> dict[str, Path]:
    """Make a tileable PBR texture set from ``image`` and write its maps into ``folder``.

    Parameters
    ----------
    image : bytes or numpy array
        The source texture (a photo or a generated image).
    folder : path
        Created if missing; files are ``<name>_<map>.png``.
    seamless : bool
        Make it tileable by offset-and-blend first.
    strength : float
        Bumpiness of the normal map.
    project : Project, optional
        Also store the albedo, normal, roughness and preview maps as assets tagged ``texture:<name>``.

    Returns
    -------
    dict
        Map name -> written path.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> paths = export_texture_set(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8),
    ...                            tempfile.mkdtemp(), name="noise")
    >>> sorted(p.name for p in paths.values())
    ['noise_albedo.png', 'noise_height.png', 'noise_normal.png', 'noise_preview.png', 'noise_roughness.png']
    """
    from .project.files import write_atomic

    array = decode_image(image, mode="RGB") if isinstance(image, (bytes, bytearray)) else image
    maps: TextureSet = texture_set(array, seamless=seamless, strength=strength)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, data in maps.encoded().items():
        path = folder / f"{name}_{kind}.png"
        write_atomic(path, data)
        written[kind] = path
        if project is not None and kind != "height":  # the asset store keeps 8-bit colour images
            project.assets.add(data, source=f"texture:{name}", tags=[f"texture:{name}", kind])
    return written
