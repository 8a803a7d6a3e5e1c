"""Usage and cost analytics from the generation records of a workspace's projects, and budgets.

One row per generation (tokens, images and cost from its usage fields and the dated price table in
``pricing.py``), aggregated per user, project, model and day; a budget warning before a batch would exceed a
monthly budget. It only reads projects; it never changes one.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .errors import InvalidArgumentError
from .pricing import estimate_cost, load_prices, read_costs_file, record_cost, write_costs_file

log = logging.getLogger(__name__)

#: What ``usage(by=...)`` may group on.
GROUPS = ("day", "month", "user", "project", "model", "deployment", "provider", "kind", "status")
#: The summed columns of ``usage()``.
MEASURES = ("generations", "images", "input_tokens", "output_tokens", "cost_usd", "unpriced")


class BudgetWarning(UserWarning):
    """A batch would take this month's cost beyond a budget (the batch still runs)."""


@dataclass(frozen=True)
class UsageRecord:
    """One generation, as analytics sees it."""

    day: str
    month: str
    created: str
    user: str
    project: str
    model: str
    deployment: str
    provider: str
    kind: str
    status: str
    generation: str
    images: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    unpriced: int  # 1 when the model had no price on that day (its cost counts as 0)


def _projects(workspace, project) -> list:
    from .project import Project, list_projects

    if project is not None:
        names = [project] if isinstance(project, (str, Path)) or hasattr(project, "generations") else list(project)
        return [p if hasattr(p, "generations") else Project.open(p, workspace=workspace) for p in names]
    return [Project.open(info.path) for info in list_projects(workspace)]


def usage_records(*, workspace: str | Path | None = None, project=None, since: str | date | None = None,
                  until: str | date | None = None) -> list[UsageRecord]:
    """Every generation of the workspace's projects (or of ``project``: a name, a Project or a list), priced.

    ``since`` / ``until`` (``YYYY-MM-DD``, inclusive) keep the generations of those days.
    """
    prices = load_prices()
    low, high = str(since or "")[:10], str(until or "9999-12-31")[:10]
    rows = []
    for proj in _projects(workspace, project):
        for record in proj.generations():
            created = str(record.get("created", ""))
            if not low <= created[:10] <= high:
                continue
            cost, images, input_tokens, output_tokens = record_cost(record, prices)
            rows.append(UsageRecord(
                day=created[:10], month=created[:7], created=created, user=str(record.get("user") or ""),
                project=proj.name, model=str(record.get("model") or ""),
                deployment=str(record.get("deployment") or ""), provider=str(record.get("provider") or ""),
                kind=str(record.get("kind") or "generate"), status=str(record.get("status") or ""),
                generation=str(record.get("id") or ""), images=images, input_tokens=input_tokens,
                output_tokens=output_tokens, cost_usd=cost or 0.0, unpriced=int(cost is None)))
    return sorted(rows, key=lambda r: r.created)


def usage(by: str | Sequence[str] = ("day", "model"), *, workspace: str | Path | None = None, project=None,
          since: str | date | None = None, until: str | date | None = None):
    """Generations, images, tokens and cost summed per ``by`` (any of ``GROUPS``), as a pandas DataFrame.

    Parameters
    ----------
    by : str or sequence of str
        Group columns, e.g. ``"user"``, ``("project", "model")``, ``("day",)``; ``()`` for one total row.
    workspace, project, since, until
        Which generations (see :func:`usage_records`).

    Returns
    -------
    pandas.DataFrame
        One row per group, the group columns then ``generations, images, input_tokens, output_tokens,
        cost_usd, unpriced``; ``usage_chart(frame)`` draws it.

    Examples
    --------
    >>> from imagestudio_nb.project import Project
    >>> import tempfile
    >>> space = tempfile.mkdtemp()
    >>> p = Project.create("demo", workspace=space)
    >>> _ = p.add_generation({"id": "g1", "created": "2026-12-01T10:00:00Z", "model": "gpt-image-1", "user": "ann",
    ...                       "usage": {"input_tokens": 10, "output_tokens": 1056,
    ...                                 "input_tokens_details": {"text_tokens": 10}}, "seeds": [1]})
    >>> usage("user", workspace=space)[["user", "images", "cost_usd"]].to_dict("records")
    [{'user': 'ann', 'images': 1, 'cost_usd': 0.04229}]
    """
    import pandas as pd

    groups = [by] if isinstance(by, str) else list(by)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise InvalidArgumentError(f"usage(by={unknown!r}): not a grouping; choose from {', '.join(GROUPS)}")
    rows = [asdict(r) for r in usage_records(workspace=workspace, project=project, since=since, until=until)]
    frame = pd.DataFrame(rows, columns=list(UsageRecord.__dataclass_fields__))
    frame["generations"] = 1
    if not groups:
        return frame[list(MEASURES)].sum().to_frame().T.astype({m: "int64" for m in MEASURES if m != "cost_usd"})
    summed = frame.groupby(groups, as_index=False)[list(MEASURES)].sum()
    summed["cost_usd"] = summed["cost_usd"].round(6)
    return summed.sort_values(groups).reset_index(drop=True)


def usage_chart(frame, *, value: str = "cost_usd", width: int = 640, bar_height: int = 22):
    """A horizontal bar chart of one column of a ``usage()`` frame, one bar per row, as a PIL image.

    Drawn with Pillow so that it needs no plotting library; a notebook shows the image as it is.
    """
    from PIL import Image, ImageDraw

    if value not in frame.columns:
        raise InvalidArgumentError(f"usage_chart(value={value!r}): the frame has {', '.join(frame.columns)}")
    labels = [" / ".join(str(v) for v in row) for row in
              frame[[c for c in frame.columns if c not in MEASURES]].itertuples(index=False)] or ["total"]
    values = [float(v) for v in frame[value]]
    label_width = min(260, 7 * max((len(label) for label in labels), default=5) + 10)
    image = Image.new("RGB", (width, bar_height * max(1, len(values)) + 30), "white")
    draw = ImageDraw.Draw(image)
    draw.text((4, 4), f"{value} per {', '.join(c for c in frame.columns if c not in MEASURES) or 'total'}",
              fill="black")
    top, most = max(values, default=0.0) or 1.0, width - label_width - 90
    for k, (label, amount) in enumerate(zip(labels, values)):
        y = 24 + k * bar_height
        draw.text((4, y + 4), label[:36], fill="black")
        draw.rectangle([label_width, y + 3, label_width + max(1, int(most * amount / top)), y + bar_height - 3],
                       fill=(66, 120, 200))
        draw.text((label_width + int(most * amount / top) + 6, y + 4), f"{amount:,.4g}", fill="black")
    return image


def set_budget(monthly_usd: float | None, *, project: str | None = None, path: Path | None = None) -> None:
    """Set (or with ``None`` remove) a monthly budget for the workspace or for one project."""
    if monthly_usd is not None and monthly_usd < 0:
        raise InvalidArgumentError("a budget is a positive amount of USD (or None to remove it)")
    data = read_costs_file(path)
    budgets = dict(data.get("budgets", {}))
    projects = dict(budgets.get("projects", {}))
    if project is None:
        budgets.pop("monthly_usd", None) if monthly_usd is None else budgets.update(monthly_usd=float(monthly_usd))
    else:
        projects.pop(project, None) if monthly_usd is None else projects.update({project: float(monthly_usd)})
    budgets["projects"] = projects
    write_costs_file({**data, "budgets": budgets}, path)


def estimate_requests(requests: Iterable[dict[str, Any]], settings) -> tuple[float, int]:
    """``(estimated USD, requests without a price)`` for generate() keyword-argument dicts."""
    prices, total, unpriced = load_prices(), 0.0, 0
    for request in requests:
        name = request.get("model") or settings.default_model or "local"
        found = settings.find_deployment(name)
        model = found[1].model if found else name
        from .providers.capabilities import canonical_model

        cost = estimate_cost(canonical_model(model) or model, n=int(request.get("n") or 1),
                             quality=request.get("quality"), size=request.get("size"),
                             prompt_tokens=len(str(request.get("prompt", "")).split()), prices=prices)
        if cost is None:
            unpriced += 1
        else:
            total += cost
    return round(total, 6), unpriced


def check_budget(estimate_usd: float, *, project: str | None = None, workspace: str | Path | None = None,
                 budget_usd: float | None = None) -> str | None:
    """Warn (``BudgetWarning``) when this month's cost plus ``estimate_usd`` would exceed a budget.

    The budget is ``budget_usd``, else the project's, else the workspace's monthly budget from the costs
    file. Returns the warning's text, or ``None`` when within budget (or no budget is set).
    """
    budgets = read_costs_file().get("budgets", {})
    checks = []
    if budget_usd is not None:
        checks.append(("this batch's budget", budget_usd, project))
    else:
        if project is not None and project in budgets.get("projects", {}):
            checks.append((f"project {project!r}'s monthly budget", budgets["projects"][project], project))
        if "monthly_usd" in budgets:
            checks.append(("the workspace's monthly budget", budgets["monthly_usd"], None))
    month = date.today().isoformat()[:7]
    for label, limit, scope in checks:
        spent = sum(r.cost_usd for r in usage_records(workspace=workspace, project=scope, since=f"{month}-01"))
        if spent + estimate_usd > limit:
            message = (f"this batch would cost about ${estimate_usd:.2f}; with ${spent:.2f} spent this month that "
                       f"exceeds {label} of ${limit:.2f}. Raise it with set_budget(...) or run fewer items")
            warnings.warn(message, BudgetWarning, stacklevel=3)
            log.warning(message)
            return message
    return None


__all__ = ["BudgetWarning", "GROUPS", "UsageRecord", "check_budget", "estimate_requests", "set_budget", "usage",
           "usage_chart", "usage_records"]
