"""Prices per model, dated and updatable, and the cost of one generation record from its usage fields.

The table ships with list prices as read on the date each entry carries (USD); a deployment's contract may
differ, so ``set_price`` records your own in ``costs.toml`` beside the config file (or ``$IMAGESTUDIO_COSTS``)
with the date it takes effect. A generation is priced by the newest entry in effect on its day. This module
never sends anything anywhere; it only reads records.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .errors import ConfigError, InvalidArgumentError

#: Output tokens of one gpt-image image by quality and size (OpenAI's published table), for estimates.
IMAGE_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}


@dataclass(frozen=True)
class Price:
    """What one model costs from ``effective`` on: per million tokens, or per image (by quality, ``*`` any).

    Examples
    --------
    >>> Price("gpt-image-1", "2025-04-23", output_image_per_1m=40.0).cost_of_tokens(output_tokens=1056)
    0.04224
    """

    model: str
    effective: str
    input_text_per_1m: float = 0.0
    input_image_per_1m: float = 0.0
    output_image_per_1m: float = 0.0
    per_image: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def cost_of_tokens(self, *, input_text_tokens: int = 0, input_image_tokens: int = 0,
                       output_tokens: int = 0) -> float:
        return round((input_text_tokens * self.input_text_per_1m + input_image_tokens * self.input_image_per_1m
                      + output_tokens * self.output_image_per_1m) / 1e6, 6)

    def image_price(self, quality: str | None) -> float:
        return self.per_image.get(quality or "*", self.per_image.get("*", 0.0))


_LIST = "list price as published, USD; check your agreement"
#: The shipped table (``set_price`` adds newer entries on top of it).
DEFAULT_PRICES: tuple[Price, ...] = (
    Price("gpt-image-1", "2025-04-23", 5.0, 10.0, 40.0, note=_LIST),
    Price("gpt-image-1-mini", "2025-10-06", 2.0, 2.5, 8.0, note=_LIST),
    Price("gpt-image-1.5", "2025-12-16", 5.0, 8.0, 32.0, note=_LIST),
    Price("dall-e-3", "2023-11-06", per_image={"standard": 0.04, "hd": 0.08, "*": 0.04}, note=_LIST),
    Price("flux-1.1-pro", "2025-06-30", per_image={"*": 0.04}, note=_LIST),
    Price("flux.1-kontext-pro", "2025-06-30", per_image={"*": 0.04}, note=_LIST),
    Price("flux.2-pro", "2025-11-25", per_image={"*": 0.05}, note=_LIST),
    Price("flux.2-flex", "2025-11-25", per_image={"*": 0.06}, note=_LIST),
    Price("local", "2025-01-01", note="offline placeholder generator: free"),
)


def costs_path() -> Path:
    """The file of your prices and budgets: ``$IMAGESTUDIO_COSTS``, or ``costs.toml`` beside the config file."""
    explicit = os.environ.get("IMAGESTUDIO_COSTS")
    if explicit:
        return Path(explicit)
    from .config import config_path

    return config_path().parent / "costs.toml"


def read_costs_file(path: Path | None = None) -> dict[str, Any]:
    """The costs file as data (``{}`` when there is none)."""
    path = path or costs_path()
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}; fix or delete it") from None


def write_costs_file(data: dict[str, Any], path: Path | None = None) -> Path:
    """Replace the costs file atomically."""
    import tomli_w

    path = path or costs_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.part")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_prices(path: str | Path | None = None) -> list[Price]:
    """The shipped table plus every entry of the prices file, oldest first per model."""
    path = Path(path) if path is not None else costs_path()
    entries = list(DEFAULT_PRICES)
    for row in read_costs_file(path).get("prices", []):
        try:
            entries.append(Price(**row))
        except TypeError as exc:
            raise ConfigError(f"{path}: a [[prices]] entry is malformed ({exc}); fields: "
                              f"{', '.join(Price.__dataclass_fields__)}") from None
    return sorted(entries, key=lambda p: (p.model, p.effective))


def set_price(model: str, *, effective: str | date, input_text_per_1m: float = 0.0, input_image_per_1m: float = 0.0,
              output_image_per_1m: float = 0.0, per_image: dict[str, float] | None = None, note: str = "",
              path: str | Path | None = None) -> Price:
    """Record a model's price from ``effective`` on (earlier generations keep the price of their day).

    Examples
    --------
    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "costs.toml"
    >>> set_price("gpt-image-1", effective="2026-12-01", output_image_per_1m=30.0, path=file).effective
    '2026-12-01'
    >>> price_for("gpt-image-1", "2026-12-06", load_prices(file)).output_image_per_1m
    30.0
    >>> price_for("gpt-image-1", "2026-11-30", load_prices(file)).output_image_per_1m
    40.0
    """
    day = effective.isoformat() if isinstance(effective, date) else str(effective)
    try:
        date.fromisoformat(day)
    except ValueError:
        raise InvalidArgumentError(f"effective={effective!r} must be a date like 2026-12-01") from None
    price = Price(model, day, float(input_text_per_1m), float(input_image_per_1m), float(output_image_per_1m),
                  dict(per_image or {}), note)
    path = Path(path) if path is not None else costs_path()
    data = read_costs_file(path)
    kept = [row for row in data.get("prices", []) if (row.get("model"), row.get("effective")) != (model, day)]
    write_costs_file({**data, "prices": [*kept, asdict(price)]}, path)
    return price


def price_for(model: str, day: str, prices: list[Price]) -> Price | None:
    """The newest entry for ``model`` in effect on ``day`` (``YYYY-MM-DD``), or ``None``."""
    candidates = [p for p in prices if p.model == model and p.effective <= day[:10]]
    return candidates[-1] if candidates else None


def record_cost(record: dict[str, Any], prices: list[Price]) -> tuple[float | None, int, int, int]:
    """``(cost in USD or None when unpriced, images, input tokens, output tokens)`` of one generation record."""
    usage = record.get("usage") or {}
    details = usage.get("input_tokens_details") or {}
    input_tokens = int(usage.get("input_tokens") or 0)
    output_tokens = int(usage.get("output_tokens") or 0)
    images = len(record.get("assets") or []) or len(record.get("seeds") or [])
    price = price_for(str(record.get("model")), str(record.get("created", ""))[:10], prices)
    if price is None:
        return None, images, input_tokens, output_tokens
    if price.per_image:
        return round(images * price.image_price((record.get("request") or {}).get("quality")), 6), images, \
            input_tokens, output_tokens
    image_tokens = int(details.get("image_tokens") or 0)
    text_tokens = int(details.get("text_tokens", input_tokens - image_tokens) or 0)
    cost = price.cost_of_tokens(input_text_tokens=text_tokens, input_image_tokens=image_tokens,
                                output_tokens=output_tokens)
    return cost, images, input_tokens, output_tokens


def estimate_cost(model: str, *, n: int = 1, quality: str | None = None, size: str | None = None,
                  prompt_tokens: int = 50, prices: list[Price] | None = None, day: str | None = None) -> float | None:
    """What one request will likely cost, before sending it (``None`` when the model has no price).

    Token-priced models are estimated from the published output tokens per quality and size (medium and
    1024x1024 when not given or not listed).

    Examples
    --------
    >>> estimate_cost("gpt-image-1", quality="low", size="1024x1024", prompt_tokens=0, day="2026-01-01")
    0.01088
    """
    prices = load_prices() if prices is None else prices
    price = price_for(model, day or date.today().isoformat(), prices)
    if price is None:
        return None
    if price.per_image:
        return round(n * price.image_price(quality), 6)
    per_quality = IMAGE_TOKENS.get(quality or "medium", IMAGE_TOKENS["medium"])
    tokens = per_quality.get(size or "1024x1024", per_quality["1024x1024"])
    return price.cost_of_tokens(input_text_tokens=prompt_tokens, output_tokens=n * tokens)
