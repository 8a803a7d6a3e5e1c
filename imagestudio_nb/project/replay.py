"""Session replay: the project's history read back from its update log, moment by moment.

The log keeps every update with its user, origin and time for the replay window (``ylog.py``). Replay
starts from the oldest keyframe kept and applies the updates in order, so any past moment can be looked
at, rendered into a timelapse, or brought back as a new checkpoint (a forward change: history is never
rewritten). Nothing here writes the log except :func:`checkpoint_at`, through the ``Project`` API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from ..errors import InvalidArgumentError, NotFoundError
from .document import doc_to_data, in_stack_order

if TYPE_CHECKING:
    from .project import Project


@dataclass(frozen=True)
class Moment:
    """One change in the history: its sequence number, time (epoch seconds), user and origin."""

    seq: int
    time: float
    user: str | None
    origin: str


def timeline(project: Project) -> list[Moment]:
    """The changes the log still holds for replay, oldest first.

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb.project import Project
    >>> p = Project.create("Replay", workspace=tempfile.mkdtemp())
    >>> _ = p.add_layer("paint", name="one")
    >>> [m.origin for m in timeline(p)][-1] in ("python", "kernel", "cli")
    True
    """
    project.flush()
    return [Moment(row.seq, row.time, row.user, row.origin) for row in project.log.rows()]


def _start(project: Project) -> tuple[Doc, int]:
    """A document at the replay's start: the oldest keyframe kept (empty when there is none)."""
    doc = Doc()
    keyframes = project.log.rows(kinds=("keyframe",))
    if not keyframes:
        return doc, 0
    oldest = keyframes[0]
    doc.apply_update(oldest.data)
    covers = project.log.keyframe_covers(oldest.seq)
    return doc, covers


def replay(project: Project, *, until: int | None = None,
           at: set[int] | None = None) -> Iterator[tuple[Moment, dict[str, Any]]]:
    """Yield ``(moment, document data)`` after each change (or only after the changes in ``at``), oldest
    first, up to seq ``until``. Building the data is the costly part: pass ``at`` for long histories."""
    doc, covers = _start(project)
    for row in project.log.rows():
        if until is not None and row.seq > until:
            break
        doc.apply_update(row.data)
        if row.seq > covers and (at is None or row.seq in at):
            yield Moment(row.seq, row.time, row.user, row.origin), doc_to_data(doc)


def _layers_at(project: Project, at: set[int]) -> Iterator[list[dict[str, Any]]]:
    """The layers (as plain data) right after each change in ``at``: all a frame needs, and much cheaper
    than the whole document for a long history."""
    from pycrdt import Array

    doc, covers = _start(project)
    for row in project.log.rows():
        doc.apply_update(row.data)
        if row.seq > covers and row.seq in at:
            # The JSON text comes from the Y library in one call: 2-3x faster than to_py() element by element.
            yield in_stack_order(json.loads(str(doc.get("layers", type=Array))) or [])


def state_at(project: Project, seq: int) -> dict[str, Any]:
    """The document as it was right after change ``seq``.

    Raises
    ------
    NotFoundError
        When ``seq`` is outside the history the log keeps (it names the range).
    """
    moments = timeline(project)
    if not moments or not moments[0].seq <= seq <= moments[-1].seq:
        span = f"{moments[0].seq}..{moments[-1].seq}" if moments else "none"
        raise NotFoundError(f"change {seq} is not in the history kept for replay (kept: {span})")
    doc, _ = _start(project)
    for row in project.log.rows():
        if row.seq > seq:
            break
        doc.apply_update(row.data)
    return doc_to_data(doc)


def checkpoint_at(project: Project, seq: int, name: str, *, note: str | None = None) -> dict[str, Any]:
    """Keep the moment right after change ``seq`` as a new checkpoint named ``name``.

    Restore it with ``project.restore(name)``: a forward change, so the history stays whole.
    """
    from .versions import snapshot_of

    past = state_at(project, seq)
    return project.checkpoint(name, note=note or f"the project as it was after change {seq}",
                              snapshot=snapshot_of(past))


def timelapse(project: Project, target: str | Path | None = None, *, fps: int = 12, frames: int = 120,
              max_side: int = 512, format: str | None = None, progress: bool = False) -> bytes:
    """Render the history as an animation (GIF, MP4 or WebM), one frame per step of about
    ``len(history) / frames`` changes, the last frame being the current state.

    Writes ``target`` when given (its suffix picks the format) and returns the encoded bytes.
    """
    from ..imaging.clips import encode_clip
    from ..imaging.compositing import render_layers

    if frames < 1 or fps < 1 or max_side < 16:
        raise InvalidArgumentError("frames and fps must be >= 1 and max_side >= 16")
    if format is None:
        format = Path(target).suffix.lstrip(".").lower() if target is not None else "gif"
    width, height = project.canvas_size
    scale = min(1.0, max_side / max(width, height))
    size = (max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))
    moments = timeline(project)
    step = max(1, len(moments) // frames)
    wanted = {m.seq for m in moments[step - 1::step]} | ({moments[-1].seq} if moments else set())

    paint = _PaintRasters(lambda digest: project.assets.read_array(digest, mode="RGBA"), (width, height))

    def render(layers: list[dict[str, Any]]):
        import cv2

        canvas = render_layers(paint.prepared(layers), paint.load, (width, height), background="#ffffff")
        return cv2.resize(canvas[..., :3], size, interpolation=cv2.INTER_AREA)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(wanted), desc="timelapse", unit="frame")
    images = []
    for layers in _layers_at(project, wanted):
        images.append(render(layers))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if not images:
        images.append(render(project.layers(include_deleted=True)))
    encoded = encode_clip(images, fps=fps, format=format)
    if target is not None:
        from .files import write_atomic

        write_atomic(Path(target), encoded)
    return encoded


class _PaintRasters:
    """Paint layers drawn frame after frame: only the strokes added since the last frame are drawn.

    Strokes are appended far more often than anything else changes, so each paint layer's pixels are kept
    with the strokes they hold; a layer whose strokes still start with those gets only its new strokes
    drawn on top, and is handed to the renderer as an image of those pixels (the path a paint layer takes
    after drawing). Anything else (a stroke removed, a new base) redraws the layer. The pixels are kept in
    floating point, so a frame equals a full render of the same moment.
    """

    def __init__(self, load_asset, canvas_size: tuple[int, int]):
        self._load_asset = load_asset
        self._size = canvas_size
        self._kept: dict[str, tuple[int, Any, Any, Any]] = {}  # id -> (count, last stroke, pixels, base asset)
        self._frame: dict[str, Any] = {}

    def load(self, digest: str):
        return self._frame[digest] if digest in self._frame else self._load_asset(digest)

    def prepared(self, layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from ..imaging.strokes import StrokeCanvas

        self._frame = {}
        out = []
        for layer in layers:
            if layer.get("kind") != "paint":
                out.append(layer)
                continue
            strokes, asset = layer.get("strokes") or [], layer.get("asset")
            kept = self._kept.get(layer["id"])
            if kept is not None and kept[3] == asset and kept[0] <= len(strokes) \
                    and (kept[0] == 0 or strokes[kept[0] - 1] == kept[1]):
                canvas = kept[2]
                canvas.paint(strokes[kept[0]:])
            else:
                base = self._load_asset(asset) if asset else None
                height, width = base.shape[:2] if base is not None else (self._size[1], self._size[0])
                canvas = StrokeCanvas(height, width, base)
                canvas.paint(strokes)
            self._kept[layer["id"]] = (len(strokes), strokes[-1] if strokes else None, canvas, asset)
            key = f"paint-pixels:{layer['id']}"
            self._frame[key] = canvas.rgba()
            out.append({**layer, "kind": "image", "asset": key, "strokes": []})
        return out
