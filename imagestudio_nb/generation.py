"""``generate`` and ``edit``: the one public path from a prompt to stored, attributed images.

The model resolves to a provider (DESIGN.md D4); every parameter is validated against the model's
declared capabilities before anything is sent; every returned image is decoded under the pixel limit,
stored as an asset and described by a provenance record in the project.
"""

from __future__ import annotations

import hashlib
import io
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import Settings, load_config
from .errors import InvalidArgumentError, PartialResultError
from .imaging.codec import DEFAULT_MAX_PIXELS, MIME_TYPES, decode_image, encode_image, image_info, sniff_format
from .project.document import new_id, now_iso
from .providers.base import ImageRequest, ProviderResult, validate_request
from .providers.registry import resolve_model


@dataclass
class GenerationResult:
    """One generated image: its bytes, asset hash and provenance record; pixels decoded on first use."""

    data: bytes
    asset: str
    record: dict[str, Any]
    seed: int | None = None
    revised_prompt: str | None = None
    _image: np.ndarray | None = field(default=None, repr=False)

    @property
    def image(self) -> np.ndarray:
        """The pixels as a uint8 RGB or RGBA array (decoded under the pixel limit, once)."""
        if self._image is None:
            self._image = decode_image(self.data, max_pixels=DEFAULT_MAX_PIXELS)
        return self._image

    @property
    def mime(self) -> str:
        return MIME_TYPES[sniff_format(self.data)]

    def pil(self):
        """The image as a PIL image."""
        from PIL import Image

        return Image.fromarray(self.image)

    def save(self, path) -> None:
        """Write the original bytes to ``path``."""
        from pathlib import Path

        Path(path).write_bytes(self.data)

    def _repr_png_(self) -> bytes:
        return self.data if self.mime == "image/png" else encode_image(self.image, "png")

    def __repr__(self) -> str:
        h, w = self.image.shape[:2]
        return f"GenerationResult({w}x{h}, asset={self.asset[:12]}, seed={self.seed})"


class GenerationResults(list):
    """The images of one request; shows as a contact sheet in a notebook."""

    record: dict[str, Any]

    def _repr_png_(self) -> bytes:
        return encode_image(contact_sheet([r.image for r in self]), "png")

    @property
    def images(self) -> list[np.ndarray]:
        return [r.image for r in self]


def contact_sheet(images: Sequence[np.ndarray], *, cell: int = 256, gap: int = 8) -> np.ndarray:
    """Lay images out in a grid of ``cell``-sized thumbnails on a light grey RGBA background."""
    from .imaging.codec import thumbnail

    if not images:
        return np.full((cell, cell, 4), 240, np.uint8)
    columns = min(len(images), 4)
    rows = (len(images) + columns - 1) // columns
    sheet = np.full((rows * (cell + gap) + gap, columns * (cell + gap) + gap, 4), 240, np.uint8)
    sheet[..., 3] = 255
    for i, image in enumerate(images):
        rgba = image if image.shape[2] == 4 else np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
        small = thumbnail(rgba, cell)
        alpha = small[..., 3:].astype(np.float32) / 255
        r, c = divmod(i, columns)
        y, x = gap + r * (cell + gap), gap + c * (cell + gap)
        h, w = small.shape[:2]
        region = sheet[y:y + h, x:x + w, :3].astype(np.float32)
        sheet[y:y + h, x:x + w, :3] = (small[..., :3] * alpha + region * (1 - alpha)).round().astype(np.uint8)
    return sheet


def _open_project(project):
    if project is None:
        return None
    from .project import Project

    if isinstance(project, Project):
        return project
    try:
        return Project.open(project)
    except Exception:
        from .errors import ProjectNotFoundError

        raise ProjectNotFoundError(
            f"no project {project!r}; create it with Project.create({project!r}) or `imagestudio project create`"
        ) from None


def _as_png_bytes(image: Any, *, name: str) -> bytes:
    if isinstance(image, (bytes, bytearray)):
        decode_image(bytes(image))  # refuse what is not a safe image
        return bytes(image)
    if isinstance(image, np.ndarray):
        if image.dtype == np.bool_ or image.ndim == 2:  # a mask array: True/255 = edit here
            return mask_to_png(image)
        return encode_image(image, "png")
    try:
        from PIL import Image

        if isinstance(image, Image.Image):
            return encode_image(np.asarray(image.convert("RGBA")), "png")
    except ImportError:  # pragma: no cover
        pass
    raise InvalidArgumentError(f"{name} must be image bytes, a numpy array or a PIL image; got {type(image).__name__}")


def mask_to_png(mask: np.ndarray, *, size: tuple[int, int] | None = None) -> bytes:
    """Convert an edit mask (True/nonzero = area to edit) into the PNG alpha mask the API expects.

    The OpenAI images API edits where the mask is transparent, so the edit area gets alpha 0.

    Examples
    --------
    >>> png = mask_to_png(np.array([[True, False]]))
    >>> decode_image(png, mode="RGBA")[..., 3].tolist()
    [[0, 255]]
    """
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = mask[..., 3] if mask.shape[2] == 4 else mask[..., 0]
    edit = mask.astype(bool) if mask.dtype == np.bool_ else mask > 127
    rgba = np.zeros(edit.shape + (4,), np.uint8)
    rgba[..., 3] = np.where(edit, 0, 255).astype(np.uint8)
    if size is not None and (rgba.shape[1], rgba.shape[0]) != size:
        import cv2

        rgba = cv2.resize(rgba, size, interpolation=cv2.INTER_NEAREST)
    return encode_image(rgba, "png")


def _run(request: ImageRequest, *, settings: Settings, project, progress: bool, edit: bool,
         extra_record: dict[str, Any] | None = None, on_partial=None) -> GenerationResults:
    resolved = resolve_model(request.model, settings)
    request.model = resolved.capabilities.model
    if request.size is None:
        request.size = settings.default_size if settings.default_size in resolved.capabilities.sizes \
            else resolved.capabilities.sizes[0]
    if request.quality is None and settings.default_quality in resolved.capabilities.qualities:
        # A configured default applies only to models that know it; it never makes a call fail.
        request.quality = settings.default_quality
    if resolved.capabilities.seed and request.seed is None:
        # Record a seed even when none was asked for, so the result can be reproduced.
        request.seed = random.SystemRandom().randrange(2**31)
    validate_request(request, resolved.capabilities)

    bar = None
    if progress and request.n > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=request.n, desc=f"{request.model}", unit="image", leave=False)
    started = time.perf_counter()
    try:
        call = resolved.provider.edit if edit else resolved.provider.generate
        # Only streaming providers take on_partial; others are called exactly as before.
        streaming = {"on_partial": on_partial} if on_partial is not None else {}
        result: ProviderResult = call(request, progress=bar.update if bar else None, **streaming)
    finally:
        if bar:
            bar.close()
    provider_ms = (time.perf_counter() - started) * 1000

    for image in result.images:  # format and size from the header; pixels are decoded when first used
        image_info(image.data, max_pixels=DEFAULT_MAX_PIXELS)
    record = {
        "id": new_id("g"), "created": now_iso(), "kind": "edit" if edit else "generate",
        "provider": result.provider, "model": result.model, "endpoint": result.endpoint or resolved.endpoint,
        "deployment": result.deployment or resolved.deployment, "request": request.to_record(),
        "revised_prompts": [image.revised_prompt for image in result.images if image.revised_prompt],
        "seeds": [image.seed for image in result.images], "usage": result.usage, "metadata": result.metadata,
        "timings": {"provider_ms": round(provider_ms, 1)}, "user": settings.user,
        "assets": [hashlib.sha256(image.data).hexdigest() for image in result.images] if project is None else [],
        "status": "ok" if len(result.images) == request.n else "partial",
        **(extra_record or {}),
    }
    if project is not None:
        record["timings"]["total_ms"] = round((time.perf_counter() - started) * 1000, 1)
        store_generation(project, record, [image.data for image in result.images],
                         inputs=[*request.images, *([request.mask] if request.mask else [])])
    hashes = record["assets"]
    results = GenerationResults(
        GenerationResult(image.data, digest, record, image.seed, image.revised_prompt)
        for image, digest in zip(result.images, hashes))
    results.record = record
    if len(result.images) < request.n:
        raise PartialResultError(
            f"{result.model} returned {len(result.images)} of {request.n} images; the returned ones are in "
            f"the error's .results" + (" and stored in the project" if project is not None else ""),
            results=list(results))
    return results


def store_generation(project, record: dict[str, Any], images: Sequence[bytes], *,
                     inputs: Sequence[bytes] = ()) -> dict[str, Any]:
    """Store a generation's images as assets and its provenance record in ``project``, in one save.

    ``record["assets"]`` is set to the stored images' hashes; the prompt is added to the prompt history.
    The images' headers were checked by the caller; their pixels are decoded when first read.
    """
    with project.batch():
        for data in inputs:
            project.assets.add(data, source="input")
        record["assets"] = [
            project.assets.add(data, source=f"generation:{record['id']}", tags=[record["model"]], decode=False).hash
            for data in images]
        project.add_generation(record)
    _record_prompt_history(record)
    return record


_history_pool = None


def _record_prompt_history(record: dict[str, Any]) -> None:
    # Off the caller's path: one worker thread keeps the history's writes in order; the pool's own
    # exit handler waits for it, so nothing recorded is lost when Python exits.
    global _history_pool
    try:
        from .prompts.history import record_generation_default
    except ImportError:
        return
    if _history_pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _history_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imagestudio-history")
    _history_pool.submit(record_generation_default, dict(record))


def flush_prompt_history() -> None:
    """Wait until every generation so far is in the prompt history."""
    if _history_pool is not None:
        _history_pool.submit(lambda: None).result()


def generate(prompt: str, *, model: str | None = None, size: str | None = None, n: int = 1, seed: int | None = None,
             project=None, quality: str | None = None, background: str | None = None,
             output_format: str | None = None, style: str | None = None, progress: bool = True,
             settings: Settings | None = None, on_partial=None, _record: dict[str, Any] | None = None,
             **options: Any) -> GenerationResults:
    """Generate images from a prompt and (when ``project`` is given) store them with their provenance.

    Parameters
    ----------
    prompt : str
        What to draw.
    model : str, optional
        ``"local"`` (offline placeholder), or a configured model or deployment name such as
        ``"gpt-image-1"``, ``"dall-e-3"``, ``"flux-1.1-pro"``. Defaults to the configured
        ``default_model``, else ``"local"``.
    size : str, optional
        ``"WIDTHxHEIGHT"`` from the model's sizes; defaults to the configured or the model's first size.
    n : int
        Number of images (1 to the model's maximum).
    seed : int, optional
        For models that take one; a random seed is chosen and recorded otherwise.
    project : Project or str, optional
        Where to store the assets and the provenance record; nothing is stored when omitted.
    quality, background, output_format, style : str, optional
        Model options, validated against its capabilities.
    on_partial : callable, optional
        Called with each :class:`~imagestudio_nb.providers.base.PartialImage` as it streams in, when
        ``partial_images`` (1-3) is set on a model that streams (see :func:`generate_stream` for an iterator).
    **options
        Further model options (e.g. ``output_compression``, ``moderation``, ``partial_images``).

    Returns
    -------
    GenerationResults
        A list of :class:`GenerationResult`; displays as a contact sheet in a notebook.

    Raises
    ------
    UnknownModelError, UnsupportedParameterError, CredentialsError, ContentFilterError, RateLimitError,
    PartialResultError
        Each with a message that says what to do.

    Examples
    --------
    >>> results = generate("a red fox at dawn", model="local", size="256x256", seed=7)
    >>> results[0].image.shape, results[0].seed
    ((256, 256, 4), 7)
    """
    project = _open_project(project)
    settings = settings or (project.config() if project is not None else load_config())
    request = ImageRequest(prompt=prompt, model=model or settings.default_model or "local", size=size or None, n=n,
                           seed=seed, quality=quality, background=background,
                           output_format=output_format, style=style, options=dict(options))
    return _run(request, settings=settings, project=project, progress=progress, edit=False, on_partial=on_partial,
                extra_record=_record)


def edit(prompt: str, images: Any, *, mask: Any = None, model: str | None = None, size: str | None = None,
         n: int = 1, seed: int | None = None, project=None, quality: str | None = None,
         background: str | None = None, output_format: str | None = None, progress: bool = True,
         settings: Settings | None = None, on_partial=None, _record: dict[str, Any] | None = None,
         **options: Any) -> GenerationResults:
    """Edit one or more images following ``prompt``, optionally only inside ``mask``.

    ``images`` is image bytes, a numpy array or a PIL image, or a list of them. ``mask`` marks the
    area to edit: a boolean/uint8 numpy array (True/255 = edit), a PIL image, or a PNG whose
    transparent pixels mark the edit area (the API's own convention), or a canvas mask layer
    (``project.layer(mask_layer_id)``) whose strokes mark it. ``input_fidelity="high"`` keeps faces and
    details of the input on models that take it; ``partial_images`` with ``on_partial`` streams as in
    :func:`generate`.

    Examples
    --------
    >>> source = generate("a blue lake", model="local", size="256x256", seed=1)[0].image
    >>> edited = edit("a red boat", source, model="local", size="256x256", seed=2)
    >>> edited[0].image.shape, edited.record["kind"]
    ((256, 256, 4), 'edit')
    """
    project = _open_project(project)
    settings = settings or (project.config() if project is not None else load_config())
    items = images if isinstance(images, (list, tuple)) else [images]
    encoded = [_as_png_bytes(item, name="images") for item in items]
    mask_bytes = None
    if isinstance(mask, dict):  # a canvas mask layer: its strokes mark the area to edit
        from .providers.masks import mask_from_layer

        if project is None:
            raise InvalidArgumentError("a mask layer needs the project it belongs to: pass project=")
        first = decode_image(encoded[0])
        mask = mask_from_layer(mask, canvas_size=project.canvas_size, size=(first.shape[1], first.shape[0]))
    if mask is not None:
        if isinstance(mask, (bytes, bytearray)):
            mask_bytes = _as_png_bytes(mask, name="mask")
        else:
            array = np.asarray(mask.convert("L")) if hasattr(mask, "convert") else np.asarray(mask)
            first = decode_image(encoded[0])
            mask_bytes = mask_to_png(array, size=(first.shape[1], first.shape[0]))
    request = ImageRequest(prompt=prompt, model=model or settings.default_model or "local", size=size, n=n, seed=seed,
                           quality=quality, background=background, output_format=output_format,
                           options=dict(options), images=encoded, mask=mask_bytes)
    # ``_record`` lets transform() and style kits add to the provenance record; the request is an ordinary edit.
    return _run(request, settings=settings, project=project, progress=progress, edit=True, on_partial=on_partial,
                extra_record=_record)
