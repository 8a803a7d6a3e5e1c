"""The provider protocol (DESIGN.md D4): requests, results, per-model capabilities and their validation.

A provider turns an :class:`ImageRequest` into encoded images. It never stores anything: the
generation layer turns every result into an asset plus a provenance record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import InvalidArgumentError, UnsupportedParameterError
from .sizes import SizeRule


@dataclass(frozen=True)
class ModelCapabilities:
    """What a model accepts. Empty tuples mean the parameter is not supported at all."""

    model: str
    provider: str
    sizes: tuple[str, ...]
    qualities: tuple[str, ...] = ()
    max_n: int = 1
    output_formats: tuple[str, ...] = ("png",)
    backgrounds: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    seed: bool = False
    edit: bool = False
    mask_edit: bool = False
    max_input_images: int = 0
    #: A free WIDTHxHEIGHT within limits, besides the listed ``sizes`` (which are then the common shapes).
    size_rule: SizeRule | None = None
    #: Most partial images the model streams before the final one (0 = no streaming).
    max_partial_images: int = 0
    #: ISO date on which Azure retired the model; it stays in the table as legacy.
    retired: str | None = None
    #: Further options: name -> allowed values (a tuple) or a description of the range (a string).
    options: Mapping[str, tuple | str] = field(default_factory=dict)
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for panels, the CLI and docs tables)."""
        data = asdict(self)
        data["options"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


@dataclass
class ImageRequest:
    """A generation or edit request, as the user asked for it (before a provider maps it to the wire)."""

    prompt: str
    model: str
    size: str
    n: int = 1
    seed: int | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None
    style: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: Encoded input images for edits and image-to-image (PNG/JPEG/WebP bytes).
    images: list[bytes] = field(default_factory=list)
    #: PNG whose alpha marks the area to edit (transparent = edit), as the OpenAI API expects.
    mask: bytes | None = None

    @property
    def is_edit(self) -> bool:
        return bool(self.images)

    def to_record(self) -> dict[str, Any]:
        """JSON-able record of the request; input images and the mask appear as SHA-256 hashes."""
        data = {k: v for k, v in asdict(self).items() if k not in ("images", "mask")}
        data["options"] = dict(self.options)
        if self.images:
            data["images"] = [hashlib.sha256(b).hexdigest() for b in self.images]
        if self.mask is not None:
            data["mask"] = hashlib.sha256(self.mask).hexdigest()
        return data


@dataclass
class GeneratedImage:
    """One encoded image returned by a provider."""

    data: bytes
    revised_prompt: str | None = None
    seed: int | None = None


@dataclass
class PartialImage:
    """A partial image streamed before the final one (``partial_images`` on models that stream)."""

    #: 0-based index of this partial image within its output image.
    index: int
    data: bytes
    #: Which output image (0 to n-1) this is a partial of.
    output: int = 0
    #: Seconds since the request was sent.
    elapsed: float = 0.0

    @property
    def image(self):
        """The pixels as a uint8 array."""
        from ..imaging.codec import decode_image

        return decode_image(self.data)


@dataclass
class ProviderResult:
    """What a provider returns for one request."""

    images: list[GeneratedImage]
    provider: str
    model: str
    deployment: str | None = None
    endpoint: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    #: Response metadata worth keeping (ids, created, filter results); never secrets.
    metadata: dict[str, Any] = field(default_factory=dict)


ProgressCallback = Callable[[int], None]
PartialCallback = Callable[[PartialImage], None]


@runtime_checkable
class ImageProvider(Protocol):
    """The protocol every image backend implements."""

    name: str

    def capabilities(self) -> dict[str, ModelCapabilities]:
        """Capabilities of each model this provider instance serves."""
        ...

    def generate(self, request: ImageRequest, *, progress: ProgressCallback | None = None) -> ProviderResult:
        """Create ``request.n`` images from a prompt."""
        ...

    def edit(self, request: ImageRequest, *, progress: ProgressCallback | None = None) -> ProviderResult:
        """Edit ``request.images`` (optionally within ``request.mask``) following the prompt."""
        ...


def validate_request(request: ImageRequest, caps: ModelCapabilities) -> None:
    """Raise a clear error for any parameter ``caps`` does not allow.

    Raises
    ------
    UnsupportedParameterError
        Naming the parameter, the value and the model's allowed values.
    InvalidArgumentError
        For an empty prompt or a value of the wrong type.

    Examples
    --------
    >>> caps = ModelCapabilities("m", "p", sizes=("512x512",), max_n=2)
    >>> validate_request(ImageRequest("a cat", "m", "1024x1024"), caps)
    Traceback (most recent call last):
    ...
    imagestudio_nb.errors.UnsupportedParameterError: size='1024x1024' is not supported for model 'm'; allowed: 512x512
    """
    model = caps.model
    if not isinstance(request.prompt, str) or not request.prompt.strip():
        raise InvalidArgumentError("prompt must be a non-empty string")
    if request.size not in caps.sizes:
        problem = caps.size_rule.problem(request.size) if caps.size_rule is not None else "not a listed size"
        if problem:
            allowed = caps.sizes if caps.size_rule is None else (
                f"{caps.size_rule.describe()}, or one of {', '.join(caps.sizes)} ({problem})")
            raise UnsupportedParameterError("size", request.size, allowed, model=model)
    if not isinstance(request.n, int) or isinstance(request.n, bool) or not 1 <= request.n <= caps.max_n:
        raise UnsupportedParameterError("n", request.n, f"an integer from 1 to {caps.max_n}", model=model)
    if request.seed is not None:
        if not caps.seed:
            raise UnsupportedParameterError("seed", request.seed, "none (this model takes no seed)", model=model)
        if not isinstance(request.seed, int) or isinstance(request.seed, bool) or not 0 <= request.seed < 2**32:
            raise UnsupportedParameterError("seed", request.seed, "an integer from 0 to 2**32-1", model=model)
    for name, allowed in (("quality", caps.qualities), ("background", caps.backgrounds),
                          ("output_format", caps.output_formats), ("style", caps.styles)):
        value = getattr(request, name)
        if value is not None and value not in allowed:
            raise UnsupportedParameterError(name, value, allowed or "none (not supported)", model=model)
    for name, value in request.options.items():
        if name not in caps.options:
            raise UnsupportedParameterError(name, value, sorted(caps.options) or "no extra options", model=model)
        allowed = caps.options[name]
        if isinstance(allowed, tuple) and value not in allowed:
            raise UnsupportedParameterError(name, value, allowed, model=model)
    if request.images:
        if not caps.edit:
            raise UnsupportedParameterError("images", f"{len(request.images)} image(s)", "none (no edits)", model=model)
        if len(request.images) > max(1, caps.max_input_images):
            raise UnsupportedParameterError("images", len(request.images),
                                            f"at most {max(1, caps.max_input_images)} input image(s)", model=model)
    if request.mask is not None and not caps.mask_edit:
        raise UnsupportedParameterError("mask", "a mask", "none (no mask edits)", model=model)
