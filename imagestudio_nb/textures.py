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


def seam_band_mask(shape: tuple[int, int], *, band: float = 0.12):
    """The cross of rows and columns around the middle of an image shifted by half its size: where its wrap seams
    now lie. True = repaint here.

    Examples
    --------
    >>> area = seam_band_mask((100, 200), band=0.1)
    >>> bool(area[50, 10]), bool(area[10, 100]), bool(area[10, 10])
    (True, True, False)
    """
    import numpy as np

    height, width = shape[:2]
    half_h, half_w = max(1, round(height * band / 2)), max(1, round(width * band / 2))
    area = np.zeros((height, width), bool)
    area[height // 2 - half_h:height // 2 + half_h, :] = True
    area[:, width // 2 - half_w:width // 2 + half_w] = True
    return area


def make_seamless_with_model(image: Any, prompt: str, *, model: str | None = None, band: float = 0.12,
                             project=None, settings=None, **options: Any):
    """Make a texture tileable by asking a model: shift it by half its size so the wrap seams cross the middle,
    and have the model repaint a band along them (a masked edit), keeping the rest of the pixels.

    Returns the :class:`~imagestudio_nb.generation.GenerationResults` of the edit; its images tile.

    Examples
    --------
    >>> import numpy as np
    >>> out = make_seamless_with_model(np.zeros((256, 256, 3), np.uint8), "stone", model="local", seed=1)
    >>> out.record["kind"], out[0].image.shape
    ('seamless-texture', (256, 256, 4))
    """
    import numpy as np

    from .generation import edit

    array = decode_image(image, mode="RGB") if isinstance(image, (bytes, bytearray)) else np.asarray(image)[..., :3]
    height, width = array.shape[:2]
    shifted = np.ascontiguousarray(np.roll(array, (height // 2, width // 2), axis=(0, 1)))
    return edit(f"{prompt}; continue the texture seamlessly across the masked bands", shifted,
                mask=seam_band_mask(shifted.shape, band=band), model=model, size=options.pop("size", f"{width}x{height}"),
                project=project, settings=settings, progress=False, _record={"kind": "seamless-texture"}, **options)
