"""Video clips from frames, in memory: encode RGB frames to MP4 (H.264), WebM (VP9) or GIF with PyAV, read a
clip's facts back, and make pan-and-zoom frames from one image.

Pure: it is handed arrays and returns bytes (and the reverse); no files, no network, nothing of Jupyter.
PyAV (``pip install imagestudio-nb[video]``) carries FFmpeg inside its wheel.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InvalidArgumentError

#: Container -> (FFmpeg codec, pixel format).
FORMATS = {"mp4": ("libx264", "yuv420p"), "webm": ("libvpx-vp9", "yuv420p"), "gif": ("gif", "rgb8")}


def _av():
    try:
        import av
    except ImportError:
        raise ConfigError("video needs PyAV: pip install imagestudio-nb[video]") from None
    return av


@dataclass(frozen=True)
class ClipInfo:
    """What a decoded clip holds."""

    frames: int
    width: int
    height: int
    duration: float
    fps: float
    codec: str


def encode_clip(frames: Iterable[np.ndarray], *, fps: int = 24, format: str = "mp4", crf: int = 23,
                preset: str = "veryfast") -> bytes:
    """Encode uint8 RGB(A) frames of one size into a clip; alpha is dropped.

    Parameters
    ----------
    frames : iterable of numpy.ndarray
        ``(height, width, 3 or 4)`` uint8 frames; for mp4 and webm both sides must be even.
    fps : int
        Frames per second.
    format : {"mp4", "webm", "gif"}
        H.264 in MP4, VP9 in WebM, or an animated GIF.
    crf : int
        Constant rate factor for H.264/VP9 (lower is better and larger).
    preset : str
        x264 speed preset (``ultrafast`` ... ``veryslow``): faster makes larger files.

    Returns
    -------
    bytes
        The encoded clip. H.264 is encoded on one thread, so the same frames give the same bytes.

    Raises
    ------
    InvalidArgumentError
        For an unknown format, no frames, frames of different sizes or odd sides where they are not allowed.

    Examples
    --------
    >>> frames = [np.full((32, 48, 3), 10 * i, np.uint8) for i in range(6)]
    >>> clip = encode_clip(frames, fps=6)
    >>> info = clip_info(clip)
    >>> info.frames, info.width, info.height, info.codec
    (6, 48, 32, 'h264')
    """
    if format not in FORMATS:
        raise InvalidArgumentError(f"format={format!r} is not supported; allowed: {', '.join(FORMATS)}")
    if not isinstance(fps, int) or isinstance(fps, bool) or not 1 <= fps <= 120:
        raise InvalidArgumentError(f"fps must be an integer from 1 to 120; got {fps!r}")
    av = _av()
    codec, pix_fmt = FORMATS[format]
    buffer = io.BytesIO()
    count, shape = 0, None
    with av.open(buffer, "w", format=format) as container:
        options = {"mp4": {"preset": preset, "crf": str(crf), "threads": "1"},
                   "webm": {"crf": str(crf), "b": "0", "deadline": "realtime", "cpu-used": "8", "threads": "1"},
                   "gif": {}}[format]
        stream = container.add_stream(codec, rate=fps, options=options)
        # One encoding thread: H.264 rate control then depends on the frames alone, so bytes are repeatable.
        stream.codec_context.thread_count = 1
        for frame in frames:
            frame = np.ascontiguousarray(np.asarray(frame)[..., :3])
            if frame.dtype != np.uint8 or frame.ndim != 3:
                raise InvalidArgumentError("frames must be uint8 arrays of shape (height, width, 3 or 4)")
            if shape is None:
                shape = frame.shape
                height, width = shape[:2]
                if format != "gif" and (width % 2 or height % 2):
                    raise InvalidArgumentError(f"{format} needs even sides; got {width}x{height} (use even_size())")
                stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            elif frame.shape != shape:
                raise InvalidArgumentError(f"all frames must have one size; got {frame.shape[:2]} after {shape[:2]}")
            if pix_fmt == "yuv420p":
                # Converted here rather than by FFmpeg's scaler, whose threads made repeated encodes differ.
                import cv2

                video_frame = av.VideoFrame.from_ndarray(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
            else:
                video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
            count += 1
        if count == 0:
            raise InvalidArgumentError("a clip needs at least one frame")
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def decode_frames(data: bytes, *, limit: int | None = None) -> list[np.ndarray]:
    """The frames of an encoded clip (the first ``limit`` of them) as uint8 RGB arrays.

    A list rather than a generator on purpose: a decoder left half-read keeps FFmpeg threads alive, and
    measured here that made later H.264 encodes in the same process give different bytes.

    Examples
    --------
    >>> clip = encode_clip([np.zeros((16, 16, 3), np.uint8)] * 3, fps=3)
    >>> [frame.shape for frame in decode_frames(clip, limit=2)]
    [(16, 16, 3), (16, 16, 3)]
    """
    av = _av()
    frames: list[np.ndarray] = []
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if limit is not None and len(frames) >= limit:
                break
    return frames


def clip_info(data: bytes) -> ClipInfo:
    """Decode ``data`` and report its frame count, size, duration in seconds, frame rate and codec.

    Raises
    ------
    InvalidArgumentError
        When ``data`` is not a video PyAV can decode.
    """
    av = _av()
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            frames = sum(1 for _ in container.decode(stream))
            fps = float(stream.average_rate or stream.base_rate or 0)
            duration = float(stream.duration * stream.time_base) if stream.duration else (
                float(container.duration) / 1e6 if container.duration else frames / fps if fps else 0.0)
            return ClipInfo(frames, stream.codec_context.width, stream.codec_context.height, duration, fps,
                            stream.codec_context.name)
    except (av.error.FFmpegError, IndexError) as exc:
        raise InvalidArgumentError(f"not a video clip that can be decoded ({type(exc).__name__})") from None


def even_size(width: int, height: int) -> tuple[int, int]:
    """The nearest even size at or below ``width`` x ``height`` (H.264 and VP9 need even sides).

    Examples
    --------
    >>> even_size(1023, 768)
    (1022, 768)
    """
    return max(2, width - width % 2), max(2, height - height % 2)


def pan_zoom(image: np.ndarray, *, frames: int, size: tuple[int, int], zoom: float = 1.15,
             pan: tuple[float, float] = (0.08, 0.0)) -> Iterator[np.ndarray]:
    """Yield ``frames`` views of ``image`` that slowly zoom in by ``zoom`` and pan by ``pan`` (fractions).

    Each frame is ``size`` = (width, height); the image is cropped to that aspect first, so nothing is
    stretched.

    Examples
    --------
    >>> picture = np.zeros((100, 200, 3), np.uint8); picture[:, 100:] = 255
    >>> views = list(pan_zoom(picture, frames=3, size=(64, 36)))
    >>> len(views), views[0].shape
    (3, (36, 64, 3))
    """
    import cv2

    if frames < 1:
        raise InvalidArgumentError(f"frames must be at least 1; got {frames}")
    width, height = size
    rgb = np.ascontiguousarray(image[..., :3])
    h, w = rgb.shape[:2]
    aspect = width / height
    base_w, base_h = (w, w / aspect) if w / h <= aspect else (h * aspect, h)
    for index in range(frames):
        t = index / max(1, frames - 1)
        scale = 1 + (zoom - 1) * t
        crop_w, crop_h = base_w / scale, base_h / scale
        cx = w / 2 + pan[0] * w * (t - 0.5)
        cy = h / 2 + pan[1] * h * (t - 0.5)
        x0 = min(max(0.0, cx - crop_w / 2), w - crop_w)
        y0 = min(max(0.0, cy - crop_h / 2), h - crop_h)
        # An affine map keeps sub-pixel crop positions, so the motion is smooth rather than stepping by pixels.
        matrix = np.array([[width / crop_w, 0, -x0 * width / crop_w], [0, height / crop_h, -y0 * height / crop_h]])
        yield cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)


def crossfade(a: np.ndarray, b: np.ndarray, *, frames: int) -> Iterator[np.ndarray]:
    """Yield ``frames`` blends from ``a`` to ``b`` (same shape), excluding both ends.

    Examples
    --------
    >>> a, b = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 200, np.uint8)
    >>> [int(f[0, 0, 0]) for f in crossfade(a, b, frames=3)]
    [50, 100, 150]
    """
    import cv2

    for index in range(1, frames + 1):
        t = index / (frames + 1)
        yield cv2.addWeighted(a, 1 - t, b, t, 0)
