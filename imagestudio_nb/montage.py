"""``make_video``: a clip built from images the studio already has (a list of images, a project's generations or
layers, an experiment's grid, the checkpoint history), with crossfades and an optional pan and zoom; MP4 (H.264), WebM
or GIF.

It only gathers pictures (checkpoints rendered from their snapshots by the reference renderer, nothing restored)
and hands frames to :mod:`imagestudio_nb.imaging.clips`; storing goes through
:func:`imagestudio_nb.video.store_video`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

import cv2
import numpy as np

from .errors import InvalidArgumentError
from .imaging.clips import FORMATS, crossfade, encode_clip, even_size, pan_zoom
from .imaging.codec import decode_image
from .project.document import new_id, now_iso
from .video import VideoResult, store_video


def _images_from(source: Any, project) -> list[np.ndarray]:
    if isinstance(source, str):
        if project is None:
            raise InvalidArgumentError(f"source={source!r} needs project=")
        if source == "generations":
            hashes = [h for record in project.generations() if record.get("kind") != "video"
                      for h in record.get("assets") or []]
        elif source == "checkpoints":
            return _checkpoint_renders(project)
        elif source == "layers":
            hashes = [layer["asset"] for layer in project.layers() if layer.get("asset") and layer.get("visible", True)]
        else:
            raise InvalidArgumentError(f"source={source!r} is not supported; allowed: 'generations', 'layers', "
                                       "'checkpoints', an Experiment, or a list of images")
        return [project.assets.read_array(h, mode="RGB") for h in hashes]
    if hasattr(source, "cells") and hasattr(source, "run"):  # an Experiment: its grid, cell by cell
        store = project or source.project
        return [store.assets.read_array(h, mode="RGB") for cell in source.cells for h in cell.get("assets") or []]
    images = []
    for item in source:
        if isinstance(item, (bytes, bytearray)):
            images.append(decode_image(bytes(item), mode="RGB"))
        else:
            array = np.asarray(item.convert("RGB")) if hasattr(item, "convert") else np.asarray(item)
            images.append(np.ascontiguousarray(array[..., :3]))
    return images


def _checkpoint_renders(project) -> list[np.ndarray]:
    """Each checkpoint's canvas, rendered from its snapshot by the reference renderer (nothing is restored)."""
    from .imaging.compositing import render_layers

    frames = []
    for checkpoint in project.to_data().get("checkpoints") or []:
        snapshot = checkpoint.get("snapshot") or {}
        canvas = (snapshot.get("meta") or {}).get("canvas") or {}
        size = (int(canvas.get("width") or project.canvas_size[0]), int(canvas.get("height") or project.canvas_size[1]))
        rendered = render_layers(snapshot.get("layers") or [],
                                 lambda digest: project.assets.read_array(digest, mode="RGBA"), size,
                                 background=(255, 255, 255, 255))
        frames.append(np.ascontiguousarray(rendered[..., :3]))
    return frames


def _fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to fit inside ``size`` on black (nothing cropped, nothing stretched)."""
    width, height = size
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    resized = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    canvas = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    canvas[y0:y0 + resized.shape[0], x0:x0 + resized.shape[1]] = resized
    return canvas


def _frames(images: Sequence[np.ndarray], size: tuple[int, int], fps: int, hold: float, transition: float,
            zoom: bool) -> Iterator[np.ndarray]:
    held = max(1, round(hold * fps))
    blend = round(transition * fps)
    previous_last = None
    for image in images:
        fitted = _fit(image, size)
        shots = list(pan_zoom(fitted, frames=held, size=size)) if zoom else [fitted] * held
        if previous_last is not None and blend:
            yield from crossfade(previous_last, shots[0], frames=blend)
        yield from shots
        previous_last = shots[-1]


def make_video(source: Any, *, fps: int = 24, size: tuple[int, int] | None = None, format: str = "mp4",
               seconds_per_image: float = 1.0, transition: float = 0.5, pan_and_zoom: bool = False,
               project=None, store: bool = False) -> VideoResult:
    """Build a clip from images: a list, ``"generations"``, ``"layers"`` or ``"checkpoints"`` of ``project``, or an
    Experiment's grid.

    Parameters
    ----------
    source : list of images, "generations", "layers", "checkpoints" or Experiment
    fps : int
    size : (width, height), optional
        Defaults to the first image's size (even, at most 1920 on the long side); images are fitted, not cropped.
    format : {"mp4", "webm", "gif"}
    seconds_per_image, transition : float
        How long each image holds, and the crossfade into the next (0 for cuts).
    pan_and_zoom : bool
        A slow zoom and pan over each image while it holds.
    store : bool
        Store the clip in ``project`` (MP4 only) with a provenance record of kind ``video``.

    Examples
    --------
    >>> stills = [np.full((90, 160, 3), v, np.uint8) for v in (0, 120, 240)]
    >>> clip = make_video(stills, fps=10, seconds_per_image=0.5, transition=0.3)
    >>> clip.info.frames, (clip.info.width, clip.info.height)
    (21, (160, 90))
    """
    from .generation import _open_project

    project = _open_project(project)
    if format not in FORMATS:
        raise InvalidArgumentError(f"format={format!r} is not supported; allowed: {', '.join(FORMATS)}")
    if seconds_per_image <= 0 or transition < 0:
        raise InvalidArgumentError("seconds_per_image must be positive and transition at least 0")
    images = _images_from(source, project)
    if not images:
        raise InvalidArgumentError("there are no images to make a video from")
    if size is None:
        h, w = images[0].shape[:2]
        scale = min(1.0, 1920 / max(w, h))
        size = even_size(round(w * scale), round(h * scale))
    elif format != "gif":
        size = even_size(*size)
    data = encode_clip(_frames(images, size, fps, seconds_per_image, transition, pan_and_zoom), fps=fps,
                       format=format)
    digest = hashlib.sha256(data).hexdigest()
    record: dict[str, Any] = {
        "id": new_id("g"), "created": now_iso(), "kind": "video", "provider": "montage", "model": "montage",
        "request": {"source": source if isinstance(source, str) else f"{len(images)} images", "fps": fps,
                    "size": f"{size[0]}x{size[1]}", "format": format, "seconds_per_image": seconds_per_image,
                    "transition": transition, "pan_and_zoom": pan_and_zoom},
        "seeds": [], "status": "ok"}
    path = None
    if store:
        if project is None or format != "mp4":
            raise InvalidArgumentError("store=True needs project= and format='mp4'")
        from .imaging.codec import encode_image

        path = store_video(project, data, record, thumbnail=encode_image(_fit(images[0], size), "webp"))
    return VideoResult(data, digest, record, path=path)
