"""Experiment grids: prompts x models x parameters x seeds expanded into cells, each one generation request.

For a model that takes no seed (gpt-image, dall-e-3) the seed axis becomes a repeat count: the request
carries no seed and the repeats are told apart by their position. A combination the model does not accept
is marked ``invalid`` here, with the reason, and is never sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from ..config import Settings
from ..errors import ImageStudioError, InvalidArgumentError
from ..providers.base import ImageRequest, validate_request
from ..providers.registry import resolve_model

#: Parameters that are ``generate()`` arguments of their own; anything else in ``params`` is a model option.
DIRECT_PARAMS = ("size", "n", "quality", "background", "output_format", "style")


def expand_grid(prompts: Sequence[str], models: Sequence[str], params: Mapping[str, Sequence[Any]] | None,
                seeds: Sequence[int | None] | None, *, settings: Settings) -> list[dict[str, Any]]:
    """Return one cell per combination, prompt-major: ``{"index", "prompt", "model", "params", "seed", "repeat",
    "request", "status", "error"}``.

    Raises
    ------
    InvalidArgumentError
        For an empty axis or a parameter given as a single value instead of a list.
    UnknownModelError
        For a model that is not configured.

    Examples
    --------
    >>> cells = expand_grid(["a fox", "a hen"], ["local"], {"quality": ["low", "high"]}, [1, 2],
    ...                     settings=Settings(default_size="256x256"))
    >>> len(cells), cells[0]["request"]
    (8, {'prompt': 'a fox', 'model': 'local', 'quality': 'low', 'seed': 1})
    """
    prompts, models = list(prompts), list(models)
    params = dict(params or {})
    seeds = list(seeds) if seeds else [None]
    if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
        raise InvalidArgumentError("prompts must be a non-empty list of non-empty strings")
    if not models:
        raise InvalidArgumentError("models must name at least one model, e.g. ['local']")
    for name, values in params.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise InvalidArgumentError(f"params[{name!r}] must be a non-empty list of values, e.g. [{values!r}]")
    capabilities = {model: resolve_model(model, settings).capabilities for model in models}
    names = list(params)
    cells = []
    for prompt, model, values in itertools.product(prompts, models, itertools.product(*params.values())):
        chosen = dict(zip(names, values))
        for repeat, seed in enumerate(seeds):
            caps = capabilities[model]
            sent_seed = seed if caps.seed else None
            request: dict[str, Any] = {"prompt": prompt, "model": model, **chosen}
            if sent_seed is not None:
                request["seed"] = sent_seed
            cell = {"index": len(cells), "prompt": prompt, "model": model, "params": chosen, "seed": seed,
                    "repeat": repeat, "request": request, "status": "pending", "error": None}
            problem = _check(request, caps, settings)
            if problem:
                cell["status"], cell["error"] = "invalid", problem
            cells.append(cell)
    return cells


def _check(request: dict[str, Any], caps, settings: Settings) -> str | None:
    direct = {k: v for k, v in request.items() if k in DIRECT_PARAMS}
    options = {k: v for k, v in request.items() if k not in DIRECT_PARAMS + ("prompt", "model", "seed")}
    size = direct.pop("size", None) or (settings.default_size if settings.default_size in caps.sizes
                                        else caps.sizes[0])
    try:
        validate_request(ImageRequest(prompt=request["prompt"], model=caps.model, size=size, seed=request.get("seed"),
                                      options=options, **direct), caps)
    except ImageStudioError as exc:
        return str(exc)
    return None


def axis_value(cell: Mapping[str, Any], axis: str) -> Any:
    """The value of ``cell`` on ``axis`` (``prompt``, ``model``, ``seed`` or a parameter name)."""
    if axis in ("prompt", "model", "seed", "repeat"):
        return cell[axis]
    return cell["params"].get(axis)


def axis_label(axis: str, value: Any) -> str:
    """A short label such as ``quality=high`` or ``seed 3``."""
    if axis == "prompt":
        return str(value)
    if axis == "model":
        return str(value)
    if axis in ("seed", "repeat"):
        return f"{axis} {value}"
    return f"{axis}={value}"
