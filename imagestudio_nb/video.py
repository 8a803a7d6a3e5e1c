"""Video: Sora 2 image-to-video and text-to-video jobs on Azure, and an offline placeholder clip; every clip is
stored in the project with a provenance record.

The asset store keeps images only, so a clip lives beside it as ``<project>/videos/<sha256>.mp4`` (written
atomically, named by its hash, never changed); its thumbnail is an ordinary image asset, and the provenance
record (``kind: "video"``) names both. Needs PyAV for the offline clip (``pip install imagestudio-nb[video]``).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings, load_config
from .errors import DataError, InvalidArgumentError, UnknownModelError
from .imaging.clips import ClipInfo, clip_info, decode_frames, encode_clip, pan_zoom
from .imaging.codec import decode_image, encode_image
from .project.document import new_id, now_iso
from .providers.sora import SORA_MODEL, SoraVideoProvider, VideoJob, check_video_request

LOCAL_FPS = 12
VIDEO_FOLDER = "videos"


@dataclass
class VideoResult:
    """A finished clip: its MP4 bytes, hash, thumbnail and provenance record."""

    data: bytes
    sha256: str
    record: dict[str, Any]
    thumbnail: bytes | None = None
    path: Path | None = None
    _info: ClipInfo | None = field(default=None, repr=False)

    @property
    def info(self) -> ClipInfo:
        """Frame count, size, duration, frame rate and codec (decoded once)."""
        if self._info is None:
            self._info = clip_info(self.data)
        return self._info

    def save(self, path) -> Path:
        """Write the MP4 bytes to ``path``."""
        Path(path).write_bytes(self.data)
        return Path(path)

    def _repr_png_(self) -> bytes | None:
        return encode_image(decode_image(self.thumbnail), "png") if self.thumbnail else None


def fit_reference(image: Any, size: str) -> bytes:
    """Crop ``image`` to the video's aspect and scale it to ``size`` exactly, as Sora's ``input_reference`` needs.

    Examples
    --------
    >>> png = fit_reference(np.zeros((300, 400, 3), np.uint8), "1280x720")
    >>> decode_image(png).shape
    (720, 1280, 3)
    """
    import cv2

    array = decode_image(image) if isinstance(image, (bytes, bytearray)) else np.asarray(image)
    width, _, height = size.partition("x")
    width, height = int(width), int(height)
    h, w = array.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(array, (max(width, round(w * scale)), max(height, round(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    y0, x0 = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    return encode_image(np.ascontiguousarray(resized[y0:y0 + height, x0:x0 + width]), "png")


def local_frames(prompt: str, *, size: str = "1280x720", seconds: int = 4, seed: int = 0,
                 reference: bytes | None = None, fps: int = LOCAL_FPS) -> list[np.ndarray]:
    """The frames of the offline placeholder clip: a slow pan and zoom over the ``local`` placeholder picture
    (labelled as a placeholder in its pixels) or over the reference image. The same arguments give the same frames.

    Examples
    --------
    >>> a = local_frames("a red fox", size="320x180", seconds=1, seed=4, fps=6)
    >>> b = local_frames("a red fox", size="320x180", seconds=1, seed=4, fps=6)
    >>> len(a), a[0].shape, all((x == y).all() for x, y in zip(a, b))
    (6, (180, 320, 3), True)
    """
    from .providers.local import draw_placeholder

    width, _, height = size.partition("x")
    width, height = int(width), int(height)
    if reference is not None:
        base = decode_image(reference, mode="RGB")
    else:
        base = np.asarray(draw_placeholder(prompt, seed=seed, size=f"{width}x{height}").convert("RGB"))
    return list(pan_zoom(base, frames=seconds * fps, size=(width, height)))


def local_clip(prompt: str, *, size: str = "1280x720", seconds: int = 4, seed: int = 0,
               reference: bytes | None = None, fps: int = LOCAL_FPS) -> bytes:
    """The offline placeholder clip, :func:`local_frames` encoded as H.264 MP4.

    The frames are deterministic; the encoded bytes usually are too, but inside a Jupyter kernel on this
    machine repeated H.264 encodes of the same frames were seen to differ now and then (cause not found),
    so compare clips by their frames, not their bytes.

    Examples
    --------
    >>> clip_info(local_clip("a red fox", size="320x180", seconds=1, seed=4, fps=6)).frames
    6
    """
    return encode_clip(local_frames(prompt, size=size, seconds=seconds, seed=seed, reference=reference, fps=fps),
                       fps=fps)


def store_video(project, data: bytes, record: dict[str, Any], *, thumbnail: bytes | None = None) -> Path:
    """Store a clip as ``videos/<sha256>.mp4`` in ``project``, its thumbnail as an asset, and ``record``.

    ``record`` gains ``video`` (hash, file, bytes) and ``assets`` (the thumbnail). Returns the clip's path.

    Raises
    ------
    DataError
        When ``data`` is not an MP4 (an ISO media file).
    """
    from .project.files import write_atomic

    if data[4:8] != b"ftyp":
        raise DataError("the video is not an MP4 file; nothing was stored")
    digest = hashlib.sha256(data).hexdigest()
    path = Path(project.path) / VIDEO_FOLDER / f"{digest}.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)  # durable before the record that names it is written
    record["video"] = {"sha256": digest, "file": f"{VIDEO_FOLDER}/{digest}.mp4", "bytes": len(data)}
    with project.batch():
        record["assets"] = [project.assets.add(thumbnail, source=f"generation:{record['id']}",
                                               tags=[record["model"], "video-thumbnail"]).hash] if thumbnail else []
        project.add_generation(record)
    return path


def read_video(project, sha256: str) -> bytes:
    """The bytes of a stored clip, checked against their hash.

    Raises
    ------
    DataError
        When the file is missing or no longer matches its hash.
    """
    path = Path(project.path) / VIDEO_FOLDER / f"{sha256}.mp4"
    if not path.exists():
        raise DataError(f"no video {sha256[:12]} in project {project.name!r}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DataError(f"video {sha256[:12]} in project {project.name!r} is damaged (its hash does not match)")
    return data


def _sora(model: str | None, settings: Settings) -> SoraVideoProvider:
    name = model or SORA_MODEL
    found = settings.find_deployment(name)
    if found is None:
        for endpoint in settings.endpoints:
            for deployment in endpoint.deployments:
                if deployment.model.lower().startswith("sora-2"):
                    found = endpoint, deployment
                    break
            if found:
                break
    if found is None:
        raise UnknownModelError(f"no Sora 2 deployment is configured (asked for {name!r}); add one whose model is "
                                "sora-2, or use model='local' for the offline placeholder clip")
    return SoraVideoProvider(settings, *found)


def generate_video(prompt: str, *, model: str | None = None, size: str = "1280x720", seconds: int = 4,
                   input_reference: Any = None, fit: bool = False, seed: int | None = None, project=None,
                   progress: bool = True, on_progress: Callable[[VideoJob], None] | None = None,
                   poll_interval: float = 5.0, timeout: float = 1800.0, thumbnail: bool = True,
                   settings: Settings | None = None, provider: SoraVideoProvider | None = None) -> VideoResult:
    """Make a video from a prompt (and optionally a starting image) with Sora 2, or offline with ``model="local"``.

    Parameters
    ----------
    prompt : str
        What happens in the clip.
    model : str, optional
        ``"local"`` for the offline placeholder clip, else a Sora 2 deployment (default: the first configured).
    size : {"1280x720", "720x1280"}
    seconds : {4, 8, 12}
    input_reference : bytes, numpy array or PIL image, optional
        The first frame to animate (image-to-video); must be exactly ``size`` unless ``fit=True``.
    fit : bool
        Crop and scale ``input_reference`` to ``size``.
    seed : int, optional
        For the local clip (Sora takes none); recorded.
    project : Project or str, optional
        Where to store the clip, its thumbnail and the provenance record.
    progress : bool
        Show a progress bar while the job runs.
    on_progress : callable, optional
        Called with each polled :class:`~imagestudio_nb.providers.sora.VideoJob`.
    poll_interval, timeout : float
        Seconds between polls; seconds before giving up (the job id is in the error).

    Returns
    -------
    VideoResult

    Raises
    ------
    UnsupportedParameterError, InvalidArgumentError
        Before anything is sent, for what Sora 2 does not take.
    ContentFilterError, ProviderError
        When the service refuses the prompt, blocks the video or the job fails.

    Examples
    --------
    >>> clip = generate_video("waves on a beach", model="local", size="720x1280", seconds=4, seed=1)
    >>> clip.info.width, clip.info.height, clip.info.frames, clip.record["kind"]
    (720, 1280, 48, 'video')
    """
    from .generation import _as_png_bytes, _open_project

    project = _open_project(project)
    settings = settings or (project.config() if project is not None else load_config())
    reference = None
    if input_reference is not None:
        reference = fit_reference(input_reference, size) if fit else _as_png_bytes(input_reference,
                                                                                    name="input_reference")
    check_video_request(prompt, size=size, seconds=seconds, input_reference=reference)
    record: dict[str, Any] = {
        "id": new_id("g"), "created": now_iso(), "kind": "video", "user": settings.user,
        "request": {"prompt": prompt, "size": size, "seconds": seconds,
                    "input_reference": hashlib.sha256(reference).hexdigest() if reference else None}}
    started = time.perf_counter()
    if model == "local":
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        data = local_clip(prompt, size=size, seconds=seconds, seed=seed, reference=reference)
        first = decode_frames(data, limit=1)[0]
        thumb = encode_image(first, "webp") if thumbnail else None
        record.update(provider="local", model="local", endpoint=None, deployment=None, seeds=[seed],
                      metadata={"fps": LOCAL_FPS, "placeholder": True})
    else:
        if seed is not None:
            raise InvalidArgumentError("Sora 2 takes no seed; leave seed out (it applies to model='local')")
        sora = provider or _sora(model, settings)
        job = sora.create(prompt, size=size, seconds=seconds, input_reference=reference)
        job = _wait(sora, job, progress=progress, on_progress=on_progress, poll_interval=poll_interval,
                    timeout=timeout)
        data = sora.download(job.id, variant="video")
        thumb = sora.download(job.id, variant="thumbnail") if thumbnail else None
        record.update(provider=sora.name, model=SORA_MODEL, endpoint=sora.endpoint.name,
                      deployment=sora.deployment.name, seeds=[],
                      metadata={"job_id": job.id, "status": job.status, "created_at": job.raw.get("created_at"),
                                "completed_at": job.raw.get("completed_at")})
    record["timings"] = {"provider_ms": round((time.perf_counter() - started) * 1000, 1)}
    record["status"] = "ok"
    digest = hashlib.sha256(data).hexdigest()
    path = store_video(project, data, record, thumbnail=thumb) if project is not None else None
    if project is None:
        record["video"] = {"sha256": digest, "bytes": len(data)}
    return VideoResult(data, digest, record, thumbnail=thumb, path=path)


def _wait(sora: SoraVideoProvider, job: VideoJob, *, progress: bool, on_progress, poll_interval: float,
          timeout: float) -> VideoJob:
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=100, desc=f"sora-2 {job.id[:14]}", unit="%", leave=False)

    def report(update: VideoJob) -> None:
        if bar is not None:
            bar.update(max(0, update.progress - bar.n))
            bar.set_postfix_str(update.status)
        if on_progress is not None:
            on_progress(update)

    try:
        return sora.wait(job.id, on_progress=report, poll_interval=poll_interval, timeout=timeout)
    finally:
        if bar is not None:
            bar.close()


def resume_video(job_id: str, *, model: str | None = None, project=None, settings: Settings | None = None,
                 poll_interval: float = 5.0, timeout: float = 1800.0) -> VideoResult:
    """Wait for a Sora job started earlier (e.g. after a timeout) and store it like :func:`generate_video`."""
    from .generation import _open_project

    project = _open_project(project)
    settings = settings or (project.config() if project is not None else load_config())
    sora = _sora(model, settings)
    job = sora.wait(job_id, poll_interval=poll_interval, timeout=timeout)
    data, thumb = sora.download(job.id), sora.download(job.id, variant="thumbnail")
    record = {"id": new_id("g"), "created": now_iso(), "kind": "video", "user": settings.user, "provider": sora.name,
              "model": SORA_MODEL, "endpoint": sora.endpoint.name, "deployment": sora.deployment.name, "seeds": [],
              "request": {"prompt": job.raw.get("prompt"), "size": job.size, "seconds": job.seconds},
              "metadata": {"job_id": job.id, "resumed": True}, "status": "ok"}
    digest = hashlib.sha256(data).hexdigest()
    path = store_video(project, data, record, thumbnail=thumb) if project is not None else None
    return VideoResult(data, digest, record, thumbnail=thumb, path=path)
