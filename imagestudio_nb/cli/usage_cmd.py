"""``imagestudio usage``: the CLI face of :func:`imagestudio_nb.analytics.usage`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ._output import JsonOption, print_json, print_table


def usage_command(
    by: Annotated[str, typer.Option(help="Group by these, comma-separated: day, month, user, project, model, "
                                         "deployment, provider, kind, status.")] = "day,model",
    project: Annotated[Optional[str], typer.Option(help="Only this project (default: the whole workspace).")] = None,
    since: Annotated[Optional[str], typer.Option(help="From this day on (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Up to this day (YYYY-MM-DD), inclusive.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Generations, images, tokens and cost (USD, from the dated price table) per day, model, user, project."""
    from ..analytics import usage

    groups = [g.strip() for g in by.split(",") if g.strip()]
    frame = usage(groups, project=project, since=since, until=until)
    rows = frame.to_dict("records")
    if json_output:
        print_json({"by": groups, "rows": rows, "total_cost_usd": round(float(frame["cost_usd"].sum()), 6)})
        return
    print_table([{**row, "cost_usd": f"{row['cost_usd']:.4f}"} for row in rows],
                [*groups, "generations", "images", "input_tokens", "output_tokens", "cost_usd", "unpriced"],
                title="usage")
    print(f"total ${float(frame['cost_usd'].sum()):.4f} over {int(frame['generations'].sum())} generations"
          + (f"; {int(frame['unpriced'].sum())} had no price (see imagestudio_nb.pricing.set_price)"
             if int(frame["unpriced"].sum()) else ""))


def register(app: typer.Typer) -> None:
    app.command("usage")(usage_command)
