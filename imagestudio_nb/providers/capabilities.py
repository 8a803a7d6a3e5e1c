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
from .sizes import FLUX_RULE, GPT_IMAGE_2_RULE, MAI_2_RULE, MAI_25_RULE, parse_size

GPT_IMAGE_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
#: gpt-image-2 takes any size within :data:`GPT_IMAGE_2_RULE`; these are the shapes panels offer.
GPT_IMAGE_2_SIZES = ("1024x1024", "1536x1024", "1024x1536", "2048x2048", "2048x1152", "1152x2048",
                     "3840x2160", "2160x3840", "auto")
DALLE3_SIZES = ("1024x1024", "1792x1024", "1024x1792")
#: FLUX takes any width and height from 256 to 1440 in steps of 32; these are the common shapes.
FLUX_SIZES = ("1024x1024", "512x512", "768x768", "1440x1440", "1024x768", "768x1024", "1152x768", "768x1152",
              "1344x768", "768x1344", "1440x960", "960x1440")
MAI_2_SIZES = ("1024x1024", "1024x768", "768x1024")
MAI_25_SIZES = ("1024x1024", "1536x1536", "1536x1024", "1024x1536", "1024x768", "768x1024")

_COMPRESSION = "an integer from 0 to 100 (jpeg and webp only)"
_USER = "a string identifying the end user (for abuse monitoring)"
_PARTIALS = "an integer from 0 to 3: partial images streamed before the final one"
_STREAM = (True, False)


def _gpt_image(model: str, fidelity: tuple[str, ...], description: str, *, sizes=GPT_IMAGE_SIZES,
               size_rule=None) -> ModelCapabilities:
    return ModelCapabilities(
        model=model, provider="azure_openai", sizes=sizes, qualities=("low", "medium", "high", "auto"),
        max_n=10, output_formats=("png", "jpeg", "webp"), backgrounds=("transparent", "opaque", "auto"),
        edit=True, mask_edit=True, max_input_images=16, size_rule=size_rule, max_partial_images=3,
        options={"output_compression": _COMPRESSION, "moderation": ("low", "auto"), "input_fidelity": fidelity,
                 "user": _USER, "partial_images": _PARTIALS, "stream": _STREAM},
        description=description)


def _mai(model: str, sizes: tuple[str, ...], rule, description: str) -> ModelCapabilities:
    return ModelCapabilities(model=model, provider="foundry_mai", sizes=sizes, max_n=1, output_formats=("png",),
                             size_rule=rule, description=description)


#: Canonical model name -> capabilities (for FLUX: on the OpenAI-compatible deployment route).
CAPABILITIES: dict[str, ModelCapabilities] = {
    "gpt-image-1": _gpt_image("gpt-image-1", ("low", "high"), "GPT Image 1: generation and edits with masks."),
    "gpt-image-1-mini": _gpt_image("gpt-image-1-mini", ("low",), "GPT Image 1 mini: cheaper, faster."),
    "gpt-image-1.5": _gpt_image("gpt-image-1.5", ("low", "high"),
                                "GPT Image 1.5: realism and instruction following, faster and cheaper than 1."),
    "gpt-image-2": _gpt_image("gpt-image-2", ("low", "high"),
                              "GPT Image 2: any size up to 4K (edges in multiples of 16), better edits and faces.",
                              sizes=GPT_IMAGE_2_SIZES, size_rule=GPT_IMAGE_2_RULE),
    "dall-e-3": ModelCapabilities(
        model="dall-e-3", provider="azure_openai", sizes=DALLE3_SIZES, qualities=("standard", "hd"), max_n=1,
        output_formats=("png",), styles=("vivid", "natural"), retired="2026-03-04",
        options={"response_format": ("url", "b64_json"), "user": _USER},
        description="DALL-E 3 (legacy, retired on Azure on 2026-03-04): one PNG per request, the prompt is "
                    "revised by the service."),
    "flux-1.1-pro": ModelCapabilities(
        model="flux-1.1-pro", provider="foundry_flux", sizes=FLUX_SIZES, max_n=1, output_formats=("png", "jpeg"),
        size_rule=FLUX_RULE, description="FLUX1.1 [pro] on Azure AI Foundry: fast text-to-image."),
    "flux.1-kontext-pro": ModelCapabilities(
        model="flux.1-kontext-pro", provider="foundry_flux", sizes=FLUX_SIZES, max_n=1,
        output_formats=("png", "jpeg"), edit=True, max_input_images=1, size_rule=FLUX_RULE,
        description="FLUX.1 Kontext [pro]: in-context generation and editing from one reference image."),
    "flux.2-pro": ModelCapabilities(
        model="flux.2-pro", provider="foundry_flux", sizes=FLUX_SIZES, max_n=1, output_formats=("png", "jpeg"),
        seed=True, edit=True, max_input_images=8, size_rule=FLUX_RULE,
        options={"safety_tolerance": "an integer from 0 to 6", "prompt_upsampling": (True, False)},
        description="FLUX.2 [pro] (Black Forest Labs route only): multi-reference editing with up to 8 images."),
    "flux.2-flex": ModelCapabilities(
        model="flux.2-flex", provider="foundry_flux", sizes=FLUX_SIZES, max_n=1, output_formats=("png", "jpeg"),
        seed=True, edit=True, max_input_images=10, size_rule=FLUX_RULE,
        options={"safety_tolerance": "an integer from 0 to 6", "prompt_upsampling": (True, False),
                 "steps": "an integer from 1 to 50", "guidance": "a number from 1.5 to 10"},
        description="FLUX.2 [flex] (Black Forest Labs route only): up to 10 references, typography; steps and "
                    "guidance."),
    "mai-image-2": _mai("mai-image-2", MAI_2_SIZES, MAI_2_RULE, "MAI-Image-2 (Microsoft AI, preview): text-to-image."),
    "mai-image-2e": _mai("mai-image-2e", MAI_2_SIZES, MAI_2_RULE,
                         "MAI-Image-2e (Microsoft AI, preview): text-to-image."),
    "mai-image-2.5": _mai("mai-image-2.5", MAI_25_SIZES, MAI_25_RULE,
                          "MAI-Image-2.5 (Microsoft AI, preview): text-to-image up to 1536x1536."),
    "mai-image-2.5-flash": _mai("mai-image-2.5-flash", MAI_25_SIZES, MAI_25_RULE,
                                "MAI-Image-2.5-Flash (Microsoft AI, preview): faster text-to-image."),
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
#: Models served on Foundry's ``/mai/v1/images/generations`` route.
MAI_MODELS = frozenset(name for name, caps in CAPABILITIES.items() if caps.provider == "foundry_mai")

_ALIASES = {
    "gpt-image-1": "gpt-image-1", "gpt-image-1-mini": "gpt-image-1-mini", "gpt-image-1-5": "gpt-image-1.5",
    "gpt-image-2": "gpt-image-2",
    "mai-image-2": "mai-image-2", "mai-image-2e": "mai-image-2e", "mai-image-2-5": "mai-image-2.5",
    "mai-image-2-5-flash": "mai-image-2.5-flash",
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
    partials = options.get("partial_images")
    if partials is not None and (not isinstance(partials, int) or isinstance(partials, bool)
                                 or not 0 <= partials <= caps.max_partial_images):
        raise UnsupportedParameterError("partial_images", partials,
                                        f"an integer from 0 to {caps.max_partial_images}", model=model)
    if options.get("stream") is False and partials:
        raise UnsupportedParameterError("stream", False, "True (or leave it out) when partial_images is set",
                                        model=model)
    guidance = options.get("guidance")
    if guidance is not None and (isinstance(guidance, bool) or not isinstance(guidance, (int, float))
                                 or not 1.5 <= guidance <= 10):
        raise UnsupportedParameterError("guidance", guidance, "a number from 1.5 to 10", model=model)


def size_pixels(size: str) -> tuple[int, int]:
    """``"1024x768"`` -> ``(1024, 768)``.

    Raises
    ------
    InvalidArgumentError
        When ``size`` is not ``WIDTHxHEIGHT``.
    """
    parsed = parse_size(size)
    if parsed is None:
        raise InvalidArgumentError(f"size must be WIDTHxHEIGHT in pixels, e.g. 1024x768; got {size!r}")
    return parsed


def retirement_notice(caps: ModelCapabilities) -> str | None:
    """The message for a model Azure retired, or ``None``.

    Examples
    --------
    >>> retirement_notice(capabilities_for("dall-e-3"))
    'dall-e-3 was retired on Azure on 2026-03-04: existing deployments no longer answer and new ones cannot be made; use gpt-image-1.5 or gpt-image-2 instead'
    """
    if caps.retired is None:
        return None
    return (f"{caps.model} was retired on Azure on {caps.retired}: existing deployments no longer answer and new "
            "ones cannot be made; use gpt-image-1.5 or gpt-image-2 instead")


def capability_table_markdown() -> str:
    """The capability table of every model, as Markdown (for ``docs/models.md``)."""
    rows = ["| model | route | sizes | quality | n | formats | background | style | seed | edit (max images) "
            "| mask | partial images | options |", "|" + " --- |" * 13]

    def cell(values) -> str:
        return ", ".join(f"`{v}`" for v in values) if values else "—"

    routes = (("deployment / v1", CAPABILITIES), ("Black Forest Labs", BFL_CAPABILITIES))
    for route, table in routes:
        for name, caps in table.items():
            if route == "deployment / v1" and (name in BFL_ONLY or name in MAI_MODELS):
                continue
            if route == "Black Forest Labs" and caps is CAPABILITIES.get(name) and name not in BFL_ONLY:
                continue
            rows.append(_table_row(name, route, caps, cell))
    for name in sorted(MAI_MODELS):
        rows.append(_table_row(name, "MAI (`/mai/v1`)", CAPABILITIES[name], cell))
    return "\n".join(rows) + "\n"


def _table_row(name: str, route: str, caps: ModelCapabilities, cell) -> str:
    options = "; ".join(f"`{k}`: {cell(v) if isinstance(v, tuple) else v}" for k, v in caps.options.items())
    sizes = cell(caps.sizes) if caps.size_rule is None else f"{caps.size_rule.describe()}; e.g. {cell(caps.sizes)}"
    label = f"`{name}` (retired {caps.retired})" if caps.retired else f"`{name}`"
    return (f"| {label} | {route} | {sizes} | {cell(caps.qualities)} | "
            f"{f'1–{caps.max_n}' if caps.max_n > 1 else '1'} "
            f"| {cell(caps.output_formats)} | {cell(caps.backgrounds)} | {cell(caps.styles)} "
            f"| {'yes' if caps.seed else 'no'} | {f'yes ({caps.max_input_images})' if caps.edit else 'no'} "
            f"| {'yes' if caps.mask_edit else 'no'} "
            f"| {f'0–{caps.max_partial_images}' if caps.max_partial_images else 'no'} | {options or '—'} |")


if __name__ == "__main__":  # regenerate the table in docs/models.md
    print(capability_table_markdown(), end="")
