"""Filter chains: validate, hash and apply an ordered list of ``{"filter": name, "params": {...}}``.

A chain is plain JSON data stored on a layer; applying it never changes the source image. Consecutive
colour steps are fused into one ``cv2.transform`` or one ``cv2.LUT`` pass (clipping once per pass),
which is what makes a chain cost little more than its slowest step. ``render_preview`` renders at
preview size first and returns JPEG bytes for the widgets. Nothing here reads files or knows Jupyter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from ..errors import InvalidArgumentError, UnsupportedParameterError
from .codec import check_image_array, encode_image
from .filters import get_filter
from .filters.colour_ops import apply_colour_ops

#: Version of the chain semantics; part of every chain hash, so changing it invalidates derived assets.
CHAIN_VERSION = 1

Chain = Sequence[Mapping[str, Any]]
AssetLoader = Callable[[str], np.ndarray]


def validate_chain(chain: Chain | str) -> list[dict[str, Any]]:
    """Check a chain and return it normalised: every step with its full parameter set.

    ``chain`` may also be a JSON string. Steps may be written ``{"filter": name, "params": {...}}``
    (the canonical form) or ``{"filter": name, ...params}``; unknown filters, unknown parameters,
    wrong types and out-of-range values raise an error naming the step and what is allowed.

    Raises
    ------
    InvalidArgumentError
        When the chain is not a list of steps.
    UnsupportedParameterError
        For an unknown filter (the message lists the known ones) or a bad parameter (it names the range).

    Examples
    --------
    >>> validate_chain([{"filter": "brightness", "params": {"amount": 0.1}}])
    [{'filter': 'brightness', 'params': {'amount': 0.1}}]
    >>> validate_chain('[{"filter": "contrast", "amount": 0.2}]')[0]["params"]
    {'amount': 0.2}
    """
    if isinstance(chain, (str, bytes)):
        try:
            chain = json.loads(chain)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(f"chain is not valid JSON: {exc}") from None
    if isinstance(chain, Mapping) and "chain" in chain:  # a preset object
        chain = chain["chain"]
    if not isinstance(chain, Sequence) or isinstance(chain, (str, bytes)):
        raise InvalidArgumentError(
            'a chain must be a list of steps like {"filter": "brightness", '
            f'"params": {{"amount": 0.1}}}}; got {type(chain).__name__}'
        )
    steps = []
    for index, step in enumerate(chain):
        if not isinstance(step, Mapping) or "filter" not in step:
            raise InvalidArgumentError(
                f'chain step {index} must be an object with a "filter" name; got {step!r}'
            )
        extra = {k: v for k, v in step.items() if k not in ("filter", "params")}
        params = dict(step.get("params") or {}, **extra)
        try:
            spec = get_filter(step["filter"])
            steps.append({"filter": spec.name, "params": spec.validate(params)})
        except UnsupportedParameterError as exc:
            raise UnsupportedParameterError(
                f"chain step {index}: {exc.parameter}", exc.value, exc.allowed
            ) from None
    return steps


def canonical_json(data: Any) -> str:
    """Compact JSON with sorted keys: the same data always gives the same text.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1.5, "x"]})
    '{"a":[1.5,"x"],"b":1}'
    """
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def chain_hash(chain: Chain | str) -> str:
    """A stable SHA-256 (hex) of the normalised chain, used with a source hash to key derived assets.

    Equivalent spellings (defaults written or omitted, ints for floats) hash the same.

    Examples
    --------
    >>> chain_hash([{"filter": "contrast"}]) == chain_hash([{"filter": "contrast", "params": {"amount": 0}}])
    True
    >>> len(chain_hash([]))
    64
    """
    text = canonical_json({"version": CHAIN_VERSION, "chain": validate_chain(chain)})
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _stages(steps: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Group steps: runs of fusable colour steps become one ``("colour", ops)`` stage."""
    stages: list[tuple[str, Any]] = []
    for step in steps:
        spec = get_filter(step["filter"])
        if spec.is_identity(step["params"]):
            continue
        if spec.colour_op is not None:
            op = spec.colour_op(**step["params"])
            if stages and stages[-1][0] == "colour":
                stages[-1][1].append(op)
            else:
                stages.append(("colour", [op]))
        else:
            stages.append(("filter", (spec, step["params"])))
    return stages


def apply_chain(
    image: np.ndarray, chain: Chain | str, *, scale: float = 1.0, load_asset: AssetLoader | None = None
) -> np.ndarray:
    """Apply a filter chain to an RGB or RGBA uint8 image and return a new image of the same shape.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 RGB or RGBA; never modified.
    chain : list of dict or str
        Steps ``{"filter": name, "params": {...}}`` in order (or their JSON text).
    scale : float
        Size of ``image`` relative to the image the chain was designed on: pixel-length parameters
        (unit ``px``) are multiplied by it, so a preview at a quarter size looks like the full render.
    load_asset : callable, optional
        ``load_asset(hash) -> uint8 array`` for filters that take an asset (a user's texture).

    Returns
    -------
    numpy.ndarray
        A new uint8 array. Steps with identity parameters are skipped; consecutive colour steps are
        computed as one pass without clipping in between.

    Raises
    ------
    InvalidArgumentError, UnsupportedParameterError
        For a bad image or chain (see ``validate_chain``).

    Examples
    --------
    >>> img = np.full((2, 2, 3), 100, np.uint8)
    >>> apply_chain(img, [{"filter": "brightness", "params": {"amount": 0.1}},
    ...                   {"filter": "contrast", "params": {"amount": 0.5}}])[0, 0].tolist()
    [124, 124, 124]
    """
    check_image_array(image)
    if not (isinstance(scale, (int, float)) and scale > 0):
        raise InvalidArgumentError(f"scale={scale!r} must be a number above 0")
    out = image
    for kind, data in _stages(validate_chain(chain)):
        if kind == "colour":
            out = apply_colour_ops(out, data)
        else:
            spec, params = data
            out = spec.run(out, params, scale=scale, load_asset=load_asset)
    return out.copy() if out is image else out


#: The name DESIGN.md uses for the public function.
apply_filters = apply_chain


def render_preview(
    image: np.ndarray,
    chain: Chain | str,
    *,
    max_side: int = 1024,
    format: str = "jpeg",
    quality: int = 85,
    load_asset: AssetLoader | None = None,
) -> bytes:
    """Render a live preview: shrink to ``max_side`` (area averaging) first, apply the chain, encode.

    Pixel-length parameters are scaled with the image, so the preview matches the full-size render.
    JPEG previews use 4:2:0 chroma (libjpeg-turbo through simplejpeg): about 2 ms at 1024x1024.

    Returns
    -------
    bytes
        The encoded preview (JPEG drops alpha; ask for ``"png"`` or ``"webp"`` to keep it).

    Examples
    --------
    >>> data = render_preview(np.zeros((4000, 3000, 3), np.uint8), [{"filter": "sepia"}], max_side=200)
    >>> data[:3], len(data) < 10_000
    (b'\\xff\\xd8\\xff', True)
    """
    check_image_array(image)
    if not isinstance(max_side, int) or max_side < 1:
        raise InvalidArgumentError(f"max_side={max_side!r} must be a positive integer")
    steps = validate_chain(chain)
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = image
    if scale < 1:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        scale = size[0] / w
    out = apply_chain(small, steps, scale=scale, load_asset=load_asset)
    if str(format).lower() in ("jpeg", "jpg"):
        if not 1 <= int(quality) <= 100:
            raise InvalidArgumentError(f"quality={quality!r} is out of range; allowed: 1..100")
        import simplejpeg

        rgb = cv2.cvtColor(out, cv2.COLOR_RGBA2RGB) if out.shape[2] == 4 else out
        return simplejpeg.encode_jpeg(rgb, quality=int(quality), colorspace="RGB", colorsubsampling="420")
    return encode_image(out, format, quality=quality)


__all__ = [
    "apply_chain",
    "apply_filters",
    "validate_chain",
    "chain_hash",
    "canonical_json",
    "render_preview",
    "CHAIN_VERSION",
]
