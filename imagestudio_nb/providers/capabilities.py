"""What each Azure model accepts: the per-model capability table, model-name aliases and the rules
that go beyond :func:`~imagestudio_nb.providers.base.validate_request` (parameters valid only together,
only for edits, only on one route).

This module declares; it never talks to a service. ``docs/models.md`` is generated from this table
(:func:`capability_table_markdown`), so the documentation cannot drift from the code.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import InvalidArgumentError, UnknownModelError, UnsupportedParameterError
from .base import ImageRequest, ModelCapabilities, validate_request

GPT_IMAGE_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
DALLE3_SIZES = ("1024x1024", "1792x1024", "1024x1792")
#: FLUX takes any width and height from 256 to 1440 in steps of 32; these are the common shapes.
FLUX_SIZES = ("1024x1024", "512x512", "768x768", "1440x1440", "1024x768", "768x1024", "1152x768", "768x1152",
              "1344x768", "768x1344", "1440x960", "960x1440")

_COMPRESSION = "an integer from 0 to 100 (jpeg and webp only)"
_USER = "a string identifying the end user (for abuse monitoring)"


def _gpt_image(model: str, fidelity: tuple[str, ...], description: str) -> ModelCapabilities:
    return ModelCapabilities(
        model=model, provider="azure_openai", sizes=GPT_IMAGE_SIZES, qualities=("low", "medium", "high", "auto"),
        max_n=10, output_formats=("png", "jpeg", "webp"), backgrounds=("transparent", "opaque", "auto"),
        edit=True, mask_edit=True, max_input_images=16,
        options={"output_compression": _COMPRESSION, "moderation": ("low", "auto"), "input_fidelity": fidelity,
                 "user": _USER},
        description=description)


#: Canonical model name -> capabilities (for FLUX: on the OpenAI-compatible deployment route).
CAPABILITIES: dict[str, ModelCapabilities] = {
    "gpt-image-1": _gpt_image("gpt-image-1", ("low", "high"), "GPT Image 1: generation and edits with masks."),
    "gpt-image-1-mini": _gpt_image("gpt-image-1-mini", ("low",), "GPT Image 1 mini: cheaper, faster."),
    "gpt-image-1.5": _gpt_image("gpt-image-1.5", ("low", "high"), "GPT Image 1.5."),
    "dall-e-3": ModelCapabilities(
        model="dall-e-3", provider="azure_openai", sizes=DALLE3_SIZES, qualities=("standard", "hd"), max_n=1,
        output_formats=("png",), styles=("vivid", "natural"),
        options={"response_format": ("url", "b64_json"), "user": _USER},
        description="DALL-E 3 (legacy): one PNG per request, the prompt is revised by the service."),
    "flux-1.1-pro": ModelCapabilities(
        model="flux-1.1-pro", provider="foundry_flux", sizes=FLUX_SIZES, max_n=1, output_formats=("png", "jpeg"),
        description="FLUX1.1 [pro] on Azure AI Foundry: fast text-to-image."),
    "flux.1-kontext-pro": ModelCapabilities(
        model="flux.1-kontext-pro", provider="foundry_flux", sizes=FLUX_SIZES, max_n=1,
        output_formats=("png", "jpeg"), edit=True, max_input_images=1,
        description="FLUX.1 Kontext [pro]: in-context generation and editing from one reference image."),
    "flux.2-pro": ModelCapabilities(
        model="flux.2-pro", provider="foundry_flux", sizes=FLUX_SIZES, max_n=1, output_formats=("png", "jpeg"),
        seed=True, edit=True, max_input_images=8,
        options={"safety_tolerance": "an integer from 0 to 6", "prompt_upsampling": (True, False)},
        description="FLUX.2 [pro] (Black Forest Labs route only): multi-reference editing with up to 8 images."),
    "flux.2-flex": ModelCapabilities(
        model="flux.2-flex", provider="foundry_flux", sizes=FLUX_SIZES, max_n=1, output_formats=("png", "jpeg"),
        seed=True, edit=True, max_input_images=10,
        options={"safety_tolerance": "an integer from 0 to 6", "prompt_upsampling": (True, False),
                 "steps": "an integer from 1 to 50", "guidance": "a number from 1.5 to 10"},
        description="FLUX.2 [flex] (Black Forest Labs route only): typography; steps and guidance."),
}

#: FLUX on the Black Forest Labs route takes a seed and BFL's own options.
_BFL_OPTIONS = {"safety_tolerance": "an integer from 0 to 6", "prompt_upsampling": (True, False)}
BFL_CAPABILITIES: dict[str, ModelCapabilities] = {
    "flux-1.1-pro": replace(CAPABILITIES["flux-1.1-pro"], seed=True, options=dict(_BFL_OPTIONS)),
    "flux.1-kontext-pro": replace(CAPABILITIES["flux.1-kontext-pro"], seed=True, options=dict(_BFL_OPTIONS)),
    "flux.2-pro": CAPABILITIES["flux.2-pro"],
    "flux.2-flex": CAPABILITIES["flux.2-flex"],
}

#: Model path on ``/providers/blackforestlabs/v1/<path>``.
BFL_PATHS = {"flux-1.1-pro": "flux-pro-1.1", "flux.1-kontext-pro": "flux-kontext-pro",
             "flux.2-pro": "flux-2-pro", "flux.2-flex": "flux-2-flex"}
#: Models the OpenAI-compatible deployment route does not serve.
BFL_ONLY = frozenset({"flux.2-pro", "flux.2-flex"})

_ALIASES = {
    "gpt-image-1": "gpt-image-1", "gpt-image-1-mini": "gpt-image-1-mini", "gpt-image-1-5": "gpt-image-1.5",
    "dall-e-3": "dall-e-3", "dalle-3": "dall-e-3", "dalle3": "dall-e-3",
    "flux-1-1-pro": "flux-1.1-pro", "flux1-1-pro": "flux-1.1-pro", "flux-pro-1-1": "flux-1.1-pro",
    "flux-1-kontext-pro": "flux.1-kontext-pro", "flux1-kontext-pro": "flux.1-kontext-pro",
    "flux-kontext-pro": "flux.1-kontext-pro",
    "flux-2-pro": "flux.2-pro", "flux2-pro": "flux.2-pro", "flux-2-flex": "flux.2-flex", "flux2-flex": "flux.2-flex",
}
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def canonical_model(name: str) -> str | None:
    """Return the canonical model name for an alias (``FLUX-1.1-pro``, ``FLUX.1-Kontext-pro``, ...), or ``None``.

    Examples
    --------
    >>> canonical_model("FLUX.1-Kontext-pro"), canonical_model("gpt-image-1-2025-04-15"), canonical_model("gpt-4o")
    ('flux.1-kontext-pro', 'gpt-image-1', None)
    """
    key = _DATED.sub("", name.strip().lower().replace("_", "-").removeprefix("black-forest-labs-"))
    return _ALIASES.get(key.replace(".", "-"))


def capabilities_for(model: str, *, route: str = "deployment") -> ModelCapabilities:
    """Capabilities of ``model`` (any alias) on ``route`` (``"deployment"``, ``"v1"`` or ``"bfl"``).

    Raises
    ------
    UnknownModelError
        Naming the image models this toolkit knows.
    """
    name = canonical_model(model)
    table = BFL_CAPABILITIES if route == "bfl" else CAPABILITIES
    if name is None or name not in table:
        raise UnknownModelError(f"{model!r} is not an image model this toolkit knows; known: {', '.join(table)}")
    return table[name]


def check_request(request: ImageRequest, caps: ModelCapabilities, *, edit: bool) -> None:
    """Validate ``request`` fully: :func:`validate_request` plus the rules between parameters.

    Raises
    ------
    UnsupportedParameterError
        Naming the parameter and what is allowed.
    InvalidArgumentError
        When an edit has no input image.

    Examples
    --------
    >>> caps = capabilities_for("gpt-image-1")
    >>> check_request(ImageRequest("a fox", "gpt-image-1", "1024x1024", options={"output_compression": 50}),
    ...               caps, edit=False)
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.UnsupportedParameterError: output_compression=50 is not supported for model 'gpt-image-1'; allowed: only with output_format jpeg or webp
    """
    validate_request(request, caps)
    model, options = caps.model, request.options
    if edit and not request.images:
        raise InvalidArgumentError("an edit needs at least one input image")
    if not edit and request.images:
        raise UnsupportedParameterError("images", f"{len(request.images)} image(s)", "none for generate(); "
                                        "use edit() to start from images", model=model)
    if "output_compression" in options:
        value = options["output_compression"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            raise UnsupportedParameterError("output_compression", value, "an integer from 0 to 100", model=model)
        if request.output_format not in ("jpeg", "webp"):
            raise UnsupportedParameterError("output_compression", value, "only with output_format jpeg or webp",
                                            model=model)
    if request.background == "transparent" and request.output_format not in (None, "png", "webp"):
        raise UnsupportedParameterError("background", "transparent", "only with output_format png or webp",
                                        model=model)
    if "input_fidelity" in options and not edit:
        raise UnsupportedParameterError("input_fidelity", options["input_fidelity"], "only for edits", model=model)
    if "moderation" in options and edit:
        raise UnsupportedParameterError("moderation", options["moderation"], "only for generate(), not edits",
                                        model=model)
    if "user" in options and not isinstance(options["user"], str):
        raise UnsupportedParameterError("user", options["user"], "a string", model=model)
    for name, low, high in (("safety_tolerance", 0, 6), ("steps", 1, 50)):
        value = options.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
            raise UnsupportedParameterError(name, value, f"an integer from {low} to {high}", model=model)
    guidance = options.get("guidance")
    if guidance is not None and (isinstance(guidance, bool) or not isinstance(guidance, (int, float))
                                 or not 1.5 <= guidance <= 10):
        raise UnsupportedParameterError("guidance", guidance, "a number from 1.5 to 10", model=model)


def size_pixels(size: str) -> tuple[int, int]:
    """``"1024x768"`` -> ``(1024, 768)``."""
    width, _, height = size.partition("x")
    return int(width), int(height)


def capability_table_markdown() -> str:
    """The capability table of every model, as Markdown (for ``docs/models.md``)."""
    rows = ["| model | route | sizes | quality | n | formats | background | style | seed | edit (max images) "
            "| mask | options |", "|" + " --- |" * 12]

    def cell(values) -> str:
        return ", ".join(f"`{v}`" for v in values) if values else "—"

    for route, table in (("deployment / v1", CAPABILITIES), ("Black Forest Labs", BFL_CAPABILITIES)):
        for name, caps in table.items():
            if route == "deployment / v1" and name in BFL_ONLY:
                continue
            if route == "Black Forest Labs" and caps is CAPABILITIES.get(name) and name not in BFL_ONLY:
                continue
            options = "; ".join(f"`{k}`: {cell(v) if isinstance(v, tuple) else v}" for k, v in caps.options.items())
            rows.append(f"| `{name}` | {route} | {cell(caps.sizes)} | {cell(caps.qualities)} | {f'1–{caps.max_n}' if caps.max_n > 1 else '1'} "
                        f"| {cell(caps.output_formats)} | {cell(caps.backgrounds)} | {cell(caps.styles)} "
                        f"| {'yes' if caps.seed else 'no'} | {f'yes ({caps.max_input_images})' if caps.edit else 'no'} "
                        f"| {'yes' if caps.mask_edit else 'no'} | {options or '—'} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # regenerate the table in docs/models.md
    print(capability_table_markdown(), end="")
