"""Image-to-image translation: one image plus a prompt in, a new image out, through whichever edit route the
model has (gpt-image edits with ``input_fidelity``, FLUX Kontext, FLUX.2 references, the local placeholder).

It is :func:`~imagestudio_nb.generation.edit` without a mask, with a size chosen from the source's shape and
the record marked ``kind: "transform"``, so every transform is stored and attributed like any generation and
can be replayed from its record (the input image is stored as an asset).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import Settings, load_config
from .errors import UnsupportedParameterError
from .generation import GenerationResults, _as_png_bytes, _open_project, edit
from .imaging.codec import image_info
from .providers.base import ModelCapabilities
from .providers.registry import resolve_model
from .providers.sizes import parse_size


def size_for(caps: ModelCapabilities, width: int, height: int) -> str:
    """The model size closest to a ``width`` x ``height`` source: its own shape where the model takes free sizes
    (snapped to the rule), else the listed size of the nearest aspect ratio.

    Examples
    --------
    >>> from imagestudio_nb.providers.capabilities import capabilities_for
    >>> size_for(capabilities_for("gpt-image-2"), 1000, 700), size_for(capabilities_for("gpt-image-1"), 1000, 700)
    ('992x704', '1536x1024')
    """
    rule = caps.size_rule
    if rule is not None:
        step = rule.multiple
        candidate = f"{max(step, round(width / step) * step)}x{max(step, round(height / step) * step)}"
        if rule.problem(candidate) is None:
            return candidate
    listed = [(parse_size(s), s) for s in caps.sizes if parse_size(s)]
    aspect = width / height
    return min(listed, key=lambda item: (abs(np.log(item[0][0] / item[0][1] / aspect)),
                                         abs(item[0][0] * item[0][1] - width * height)))[1]


def transform(image: Any, prompt: str, *, model: str | None = None, fidelity: str | None = None,
              size: str | None = None, n: int = 1, seed: int | None = None, project=None,
              settings: Settings | None = None, progress: bool = True, **options: Any) -> GenerationResults:
    """Translate ``image`` following ``prompt`` ("the same street in winter", "as a watercolour").

    Parameters
    ----------
    image : bytes, numpy array or PIL image
        The source.
    prompt : str
        What to change.
    model : str, optional
        Any model whose capabilities include edits: gpt-image (``input_fidelity``), FLUX.1 Kontext, FLUX.2,
        ``local``.
    fidelity : {"low", "high"}, optional
        How closely faces and details of the source are kept (gpt-image ``input_fidelity``); a model without
        that parameter raises rather than ignoring it.
    size : str, optional
        Defaults to the model size closest to the source's shape (:func:`size_for`).
    **options
        Further model options, as for :func:`~imagestudio_nb.generation.edit`.

    Returns
    -------
    GenerationResults
        With ``record["kind"] == "transform"`` and the source's hash in ``record["request"]["images"]``.

    Raises
    ------
    UnsupportedParameterError
        When the model takes no input image, or no fidelity.

    Examples
    --------
    >>> source = np.zeros((300, 400, 3), np.uint8)
    >>> out = transform(source, "the same scene at dawn", model="local", fidelity="high", seed=1)
    >>> out.record["kind"], out.record["request"]["size"], out.record["request"]["options"]
    ('transform', '1536x1024', {'input_fidelity': 'high'})
    """
    project = _open_project(project)
    settings = settings or (project.config() if project is not None else load_config())
    data = _as_png_bytes(image, name="image")
    resolved = resolve_model(model or settings.default_model or "local", settings)
    caps = resolved.capabilities
    if not caps.edit:
        raise UnsupportedParameterError("image", "an input image", "a model that edits (gpt-image, FLUX Kontext, "
                                        "FLUX.2, local)", model=caps.model)
    if fidelity is not None:
        if "input_fidelity" not in caps.options:
            raise UnsupportedParameterError("fidelity", fidelity, "none for this model (it keeps what the prompt "
                                            "says); gpt-image models take low or high", model=caps.model)
        options["input_fidelity"] = fidelity
    if size is None:
        _, width, height = image_info(data)
        size = size_for(caps, width, height)
    results = edit(prompt, data, model=model or settings.default_model or "local", size=size, n=n, seed=seed,
                   project=project, settings=settings, progress=progress, _record={"kind": "transform"}, **options)
    return results


BACKGROUND_PROMPT = ("Remove the background completely; keep the main subject exactly as it is, with its edges, "
                     "colours and details unchanged, on a fully transparent background.")


def remove_background_with_model(image: Any, *, model: str | None = None, prompt: str = BACKGROUND_PROMPT,
                                 project=None, settings: Settings | None = None, progress: bool = False,
                                 **options: Any) -> GenerationResults:
    """Background removal through an image model instead of the local pipeline: a gpt-image edit with
    ``background="transparent"``, PNG output and ``input_fidelity="high"`` where the model takes it.

    The local :func:`~imagestudio_nb.imaging.background.removal.remove_background` stays the default (offline,
    free, measured in ``benchmarks/background``); this is the option for when a model does better on a hard
    picture. The model repaints the subject, so pixels outside the background may change too.

    Raises
    ------
    UnsupportedParameterError
        When the model cannot make transparent backgrounds (only gpt-image models and ``local`` can).

    Examples
    --------
    >>> out = remove_background_with_model(np.zeros((64, 64, 3), np.uint8), model="local")
    >>> out.record["kind"], out.record["request"]["background"], out[0].image.shape[2]
    ('remove-background', 'transparent', 4)
    """
    project = _open_project(project)
    settings = settings or (project.config() if project is not None else load_config())
    data = _as_png_bytes(image, name="image")
    name = model or settings.default_model or "local"
    caps = resolve_model(name, settings).capabilities
    if "transparent" not in caps.backgrounds or not caps.edit:
        raise UnsupportedParameterError("background", "transparent", "a model that edits with transparent "
                                        "backgrounds (gpt-image models, local)", model=caps.model)
    if "input_fidelity" in caps.options and "input_fidelity" not in options:
        allowed = caps.options["input_fidelity"]
        options["input_fidelity"] = "high" if "high" in allowed else allowed[0]
    _, width, height = image_info(data)
    return edit(prompt, data, model=name, size=size_for(caps, width, height), background="transparent",
                output_format="png", project=project, settings=settings, progress=progress,
                _record={"kind": "remove-background"}, **options)
