"""Style kits: a named, versioned look (reference images with weights, a locked prompt suffix and avoid-list,
model parameters, a description) reused across generations, compiled per backend.

Compilation per model (the request on the wire is what the tests check):

- FLUX.2 (up to 8 or 10 references): the references, heaviest first, as ``input_image`` ... ``input_image_N``;
- FLUX.1 Kontext: the heaviest reference alone;
- gpt-image (and ``local``): the references as ``image[]`` with ``input_fidelity`` from the kit;
- models that take no image (DALL-E 3, MAI, FLUX1.1 [pro]): the prompt alone, with the kit's description added.

Weights order and select references; no Azure model takes a per-image weight. Kits are stored as
``<project>/stylekits/<name>.json`` (every version kept, written atomically) and their references as assets;
the document itself has no place for them yet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np  # the examples below use it

from .errors import InvalidArgumentError, NotFoundError
from .generation import GenerationResults, _as_png_bytes, _open_project, edit, generate
from .imaging.codec import decode_image
from .imaging.style_metrics import ConsistencyReport, consistency, describe_style
from .project.document import now_iso
from .providers.base import ModelCapabilities

SEED_POLICIES = ("fixed", "increment", "random")
KIT_FOLDER = "stylekits"


@dataclass
class StyleKit:
    """One version of a style kit."""

    name: str
    version: int
    references: list[dict[str, Any]]  # [{"asset": sha256, "weight": float}]
    prompt_suffix: str = ""
    avoid: list[str] = field(default_factory=list)
    #: model, size, quality, seed_policy (fixed|increment|random), seed, fidelity (low|high).
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    created: str = ""

    def prompt(self, text: str, *, with_description: bool = False) -> str:
        """``text`` with the locked suffix, the description (for models without references) and the avoid-list.

        Examples
        --------
        >>> StyleKit("ink", 1, [], prompt_suffix="ink wash, rice paper", avoid=["colour"]).prompt("a heron")
        'a heron, ink wash, rice paper. Avoid: colour'
        """
        parts = [text.strip()]
        if self.prompt_suffix:
            parts.append(self.prompt_suffix)
        if with_description and self.description:
            parts.append(f"style: {self.description}")
        prompt = ", ".join(parts)
        return f"{prompt}. Avoid: {', '.join(self.avoid)}" if self.avoid else prompt

    def ranked_references(self) -> list[dict[str, Any]]:
        """References heaviest first (stable for equal weights)."""
        return sorted(self.references, key=lambda r: -r["weight"])


@dataclass
class CompiledKit:
    """What a kit becomes for one model: the prompt, the images sent, the options and notes on what was left out."""

    route: str  # "references" | "image[]" | "prompt-only"
    prompt: str
    images: list[bytes]
    options: dict[str, Any]
    notes: list[str]


def _kit_path(project, name: str) -> Path:
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise InvalidArgumentError(f"a style kit name must be a plain name; got {name!r}")
    return Path(project.path) / KIT_FOLDER / f"{name}.json"


def _versions(project, name: str) -> list[dict[str, Any]]:
    path = _kit_path(project, name)
    return json.loads(path.read_text())["versions"] if path.exists() else []


def _save(project, kit: StyleKit) -> StyleKit:
    from .project.files import write_atomic

    versions = _versions(project, kit.name)
    kit.version = len(versions) + 1
    kit.created = now_iso()
    versions.append(asdict(kit))
    path = _kit_path(project, kit.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"name": kit.name, "versions": versions}, indent=1, sort_keys=True))
    return kit


def _check_params(params: dict[str, Any]) -> None:
    policy = params.get("seed_policy", "fixed")
    if policy not in SEED_POLICIES:
        raise InvalidArgumentError(f"seed_policy={policy!r} is not supported; allowed: {', '.join(SEED_POLICIES)}")
    if params.get("fidelity") not in (None, "low", "high"):
        raise InvalidArgumentError(f"fidelity={params['fidelity']!r} is not supported; allowed: low, high")
    unknown = set(params) - {"model", "size", "quality", "seed_policy", "seed", "fidelity"}
    if unknown:
        raise InvalidArgumentError(f"unknown kit parameters {sorted(unknown)}; allowed: model, size, quality, "
                                   "seed_policy, seed, fidelity")


def create_style_kit(project, name: str, references: Sequence[Any], *, weights: Sequence[float] | None = None,
                     prompt_suffix: str = "", avoid: Sequence[str] = (), params: dict[str, Any] | None = None,
                     description: str | None = None) -> StyleKit:
    """Create a kit (or a new version of it) in ``project``; reference images are stored as assets.

    ``references`` are images (bytes, arrays, PIL) or asset hashes of the project. ``description`` defaults to
    :func:`~imagestudio_nb.imaging.style_metrics.describe_style` of the references (offline rules).

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb import Project
    >>> project = Project.create("kits", workspace=tempfile.mkdtemp())
    >>> kit = create_style_kit(project, "ember", [np.full((64, 64, 3), (220, 110, 40), np.uint8)],
    ...                        prompt_suffix="glowing embers", params={"seed_policy": "increment", "seed": 10})
    >>> kit.version, kit.description.split(";")[0]
    (1, 'warm, mid-tone, saturated colours')
    """
    project = _open_project(project)
    if not references:
        raise InvalidArgumentError("a style kit needs at least one reference image")
    weights = list(weights) if weights is not None else [1.0] * len(references)
    if len(weights) != len(references) or any(not 0 < w <= 1 for w in weights):
        raise InvalidArgumentError("give one weight in (0, 1] per reference")
    params = dict(params or {})
    _check_params(params)
    hashes = []
    for reference in references:
        if isinstance(reference, str):
            hashes.append(project.assets.resolve(reference))
        else:
            hashes.append(project.assets.add(_as_png_bytes(reference, name="references"),
                                             source=f"style-kit:{name}", tags=[f"style-kit:{name}"]).hash)
    if description is None:
        description = describe_style([project.assets.read_array(h, mode="RGB") for h in hashes])
    kit = StyleKit(name, 0, [{"asset": h, "weight": float(w)} for h, w in zip(hashes, weights)], prompt_suffix,
                   list(avoid), params, description)
    return _save(project, kit)


def update_style_kit(project, name: str, **changes: Any) -> StyleKit:
    """Save a new version of a kit with ``changes`` (prompt_suffix, avoid, params, description, references)."""
    project = _open_project(project)
    kit = load_style_kit(project, name)
    for key, value in changes.items():
        if key not in ("prompt_suffix", "avoid", "params", "description", "references"):
            raise InvalidArgumentError(f"cannot change {key!r} of a style kit")
        setattr(kit, key, list(value) if key == "avoid" else value)
    _check_params(kit.params)
    return _save(project, kit)


def load_style_kit(project, name: str, *, version: int | None = None) -> StyleKit:
    """The latest (or a given) version of a kit.

    Raises
    ------
    NotFoundError
        Naming the kits (or versions) that exist.
    """
    project = _open_project(project)
    versions = _versions(project, name)
    if not versions:
        raise NotFoundError(f"no style kit {name!r} in project {project.name!r}; kits: "
                            f"{', '.join(list_style_kits(project)) or 'none'}")
    if version is None:
        return StyleKit(**versions[-1])
    if not 1 <= version <= len(versions):
        raise NotFoundError(f"style kit {name!r} has versions 1 to {len(versions)}; no version {version}")
    return StyleKit(**versions[version - 1])


def list_style_kits(project) -> list[str]:
    """Names of the project's style kits."""
    folder = Path(_open_project(project).path) / KIT_FOLDER
    return sorted(p.stem for p in folder.glob("*.json")) if folder.exists() else []


def compile_kit(kit: StyleKit, caps: ModelCapabilities, project, prompt: str, *,
                extra_references: Sequence[bytes] = ()) -> CompiledKit:
    """What ``kit`` becomes for the model described by ``caps`` (see the module docstring)."""
    notes: list[str] = []
    stored = [project.assets.read(r["asset"]) for r in kit.ranked_references()]
    # Series mode: the latest outputs count most, then the kit's references by weight.
    images = [*reversed(list(extra_references)), *stored]
    options: dict[str, Any] = {}
    if not caps.edit:
        notes.append(f"{caps.model} takes no reference images: the kit's description is added to the prompt")
        return CompiledKit("prompt-only", kit.prompt(prompt, with_description=True), [], options, notes)
    limit = max(1, caps.max_input_images)
    if len(images) > limit:
        notes.append(f"{caps.model} takes at most {limit} image(s): the {len(images) - limit} lightest left out")
        images = images[:limit]
    fidelity = kit.params.get("fidelity")
    if "input_fidelity" in caps.options:
        allowed = caps.options["input_fidelity"]
        chosen = fidelity or "high"
        if isinstance(allowed, tuple) and chosen not in allowed:
            notes.append(f"{caps.model} takes input_fidelity {', '.join(allowed)}: {allowed[0]} used")
            chosen = allowed[0]
        options["input_fidelity"] = chosen
        route = "image[]"
    else:
        if fidelity:
            notes.append(f"{caps.model} has no input_fidelity: the kit's fidelity is not used")
        route = "references"
    return CompiledKit(route, kit.prompt(prompt), images, options, notes)


def _seed(kit: StyleKit, caps: ModelCapabilities, index: int, seed: int | None) -> int | None:
    if seed is not None or not caps.seed:
        return seed
    base = kit.params.get("seed")
    policy = kit.params.get("seed_policy", "fixed")
    if base is None or policy == "random":
        return None
    return base + index if policy == "increment" else base


def generate_with_kit(prompt: str, kit: StyleKit | str, *, project, model: str | None = None, n: int = 1,
                      seed: int | None = None, index: int = 0, extra_references: Sequence[bytes] = (),
                      settings=None, progress: bool = False, **options: Any) -> GenerationResults:
    """Generate in the kit's style: its references, suffix, avoid-list and parameters, compiled for ``model``.

    The record names the kit and version (``record["style_kit"]``) and what compiling left out.

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb import Project
    >>> project = Project.create("kit-demo", workspace=tempfile.mkdtemp())
    >>> kit = create_style_kit(project, "ember", [np.full((64, 64, 3), (220, 110, 40), np.uint8)],
    ...                        prompt_suffix="glowing embers", params={"model": "local", "size": "256x256"})
    >>> out = generate_with_kit("a fox", kit, project=project, seed=1)
    >>> out.record["style_kit"]["route"], out.record["request"]["prompt"]
    ('image[]', 'a fox, glowing embers')
    """
    from .config import load_config
    from .providers.registry import resolve_model

    project = _open_project(project)
    if isinstance(kit, str):
        kit = load_style_kit(project, kit)
    settings = settings or project.config()
    model = model or kit.params.get("model") or settings.default_model or "local"
    caps = resolve_model(model, settings or load_config()).capabilities
    compiled = compile_kit(kit, caps, project, prompt, extra_references=extra_references)
    params: dict[str, Any] = {"size": kit.params.get("size"), "n": n, "seed": _seed(kit, caps, index, seed)}
    if kit.params.get("quality"):
        if caps.qualities and kit.params["quality"] in caps.qualities:
            params["quality"] = kit.params["quality"]
        else:
            compiled.notes.append(f"{caps.model} does not take quality {kit.params['quality']!r}: not used")
    record = {"style_kit": {"name": kit.name, "version": kit.version, "route": compiled.route,
                            "notes": compiled.notes}}
    if compiled.images:
        return edit(compiled.prompt, compiled.images, model=model, project=project, settings=settings,
                    progress=progress, _record=record, **params, **compiled.options, **options)
    return generate(compiled.prompt, model=model, project=project, settings=settings, progress=progress,
                    _record=record, **params, **options)


@dataclass
class SeriesResult:
    """A series made with a kit: the results in order and how consistent they stayed with the kit."""

    results: list[GenerationResults]
    consistency: ConsistencyReport


def generate_series(prompts: Sequence[str], kit: StyleKit | str, *, project, model: str | None = None,
                    feedback: int = 1, settings=None, **options: Any) -> SeriesResult:
    """Series mode: each output is fed back as a reference for the next (the latest ``feedback`` outputs), and
    the outputs are scored against the kit's references (:func:`~imagestudio_nb.imaging.style_metrics.consistency`).

    Examples
    --------
    >>> import tempfile
    >>> from imagestudio_nb import Project
    >>> project = Project.create("series", workspace=tempfile.mkdtemp())
    >>> kit = create_style_kit(project, "sea", [np.full((64, 64, 3), (30, 90, 160), np.uint8)],
    ...                        params={"model": "local", "size": "256x256", "seed_policy": "increment", "seed": 3})
    >>> series = generate_series(["a boat", "a harbour"], kit, project=project)
    >>> [r.record["seeds"] for r in series.results], len(series.consistency.scores)
    ([[3], [4]], 2)
    """
    project = _open_project(project)
    if isinstance(kit, str):
        kit = load_style_kit(project, kit)
    outputs: list[bytes] = []
    results = []
    for index, prompt in enumerate(prompts):
        result = generate_with_kit(prompt, kit, project=project, model=model, index=index, settings=settings,
                                   extra_references=outputs[-feedback:] if feedback else (), **options)
        results.append(result)
        outputs.append(result[0].data)
    references = [project.assets.read_array(r["asset"], mode="RGB") for r in kit.references]
    report = consistency(references, [decode_image(data, mode="RGB") for data in outputs])
    return SeriesResult(results, report)
