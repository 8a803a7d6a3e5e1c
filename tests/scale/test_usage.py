"""Usage and cost analytics from real generation records (stand-in usage fields), prices, budgets, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from imagestudio_nb.analytics import BudgetWarning, set_budget, usage, usage_chart, usage_records
from imagestudio_nb.batch import generate_batch
from imagestudio_nb.config import Deployment, Endpoint, Settings
from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.pricing import estimate_cost, load_prices, price_for, set_price
from imagestudio_nb.project import Project
from tests.standin.server import API_KEY

IMAGESTUDIO = Path(sys.executable).with_name("imagestudio")


@pytest.fixture
def costs_file(tmp_path, monkeypatch):
    path = tmp_path / "costs.toml"
    monkeypatch.setenv("IMAGESTUDIO_COSTS", str(path))
    return path


def standin_settings(url: str, workspace, user: str) -> Settings:
    endpoint = Endpoint(name="standin", base_url=url, api_key=API_KEY, api_version="2025-04-01-preview",
                        deployments=[Deployment(name="gpt-image-1", model="gpt-image-1"),
                                     Deployment(name="gpt-image-1-mini", model="gpt-image-1-mini")])
    return Settings(endpoints=[endpoint], workspace=workspace, user=user)


def test_usage_sums_tokens_images_and_cost_per_user_project_model_and_day(azure_standin, workspace, costs_file):
    ann, bob = (standin_settings(azure_standin.url, workspace, user) for user in ("ann", "bob"))
    posters, icons = Project.create("posters", workspace=workspace), Project.create("icons", workspace=workspace)
    reports = [
        generate_batch([{"prompt": "a red fox", "model": "gpt-image-1", "quality": "low", "n": 2}],
                       project=posters, settings=ann, progress=False),
        generate_batch([{"prompt": "a blue hen in snow", "model": "gpt-image-1-mini", "quality": "high"}],
                       project=icons, settings=bob, progress=False),
        generate_batch([{"prompt": "a grey owl", "model": "local"}], project=icons, settings=bob, progress=False)]
    assert all(len(report.ok) == 1 for report in reports), [r.failed for r in reports]

    by_user = usage("user", workspace=workspace).set_index("user")
    # The stand-in reports 272 output tokens per low image and 4160 per high one, and a token per prompt word.
    assert by_user.loc["ann", "images"] == 2 and by_user.loc["ann", "output_tokens"] == 544
    assert by_user.loc["ann", "cost_usd"] == pytest.approx((3 * 5.0 + 544 * 40.0) / 1e6)
    assert by_user.loc["bob", "cost_usd"] == pytest.approx((5 * 2.0 + 4160 * 8.0) / 1e6)  # mini's prices
    by_model = usage(("project", "model"), workspace=workspace)
    assert by_model[["project", "model", "generations"]].values.tolist() == [
        ["icons", "gpt-image-1-mini", 1], ["icons", "local", 1], ["posters", "gpt-image-1", 1]]
    assert by_model["unpriced"].sum() == 0  # local is priced (free)
    today = usage("day", workspace=workspace)
    assert len(today) == 1 and today["generations"].item() == 3
    assert usage((), workspace=workspace)["cost_usd"].item() == pytest.approx(by_user["cost_usd"].sum())
    assert usage("user", workspace=workspace, project="posters")["user"].tolist() == ["ann"]
    assert usage("day", workspace=workspace, since="2999-01-01").empty


def test_a_new_price_applies_from_its_day_and_older_generations_keep_theirs(workspace, costs_file):
    project = Project.create("dated", workspace=workspace)
    for gid, day in (("g-old", "2026-11-20"), ("g-new", "2026-12-05")):
        project.add_generation({"id": gid, "created": f"{day}T12:00:00Z", "model": "gpt-image-1", "user": "ann",
                                "usage": {"input_tokens": 0, "output_tokens": 1_000_000}, "seeds": [1]})
    set_price("gpt-image-1", effective="2026-12-01", output_image_per_1m=20.0)

    costs = {r.generation: r.cost_usd for r in usage_records(workspace=workspace)}

    assert costs == {"g-old": pytest.approx(40.0), "g-new": pytest.approx(20.0)}
    assert "2026-12-01" in costs_file.read_text()
    assert price_for("gpt-image-1", "2026-12-01", load_prices()).output_image_per_1m == 20.0


def test_a_model_without_a_price_is_counted_as_unpriced_not_free(workspace, costs_file):
    project = Project.create("odd", workspace=workspace)
    project.add_generation({"id": "g1", "created": "2026-12-01T00:00:00Z", "model": "some-new-model", "seeds": [1]})
    row = usage("model", workspace=workspace).iloc[0]
    assert row["unpriced"] == 1 and row["cost_usd"] == 0
    assert estimate_cost("some-new-model") is None


def test_a_batch_that_would_exceed_the_budget_warns_before_it_runs(azure_standin, workspace, costs_file):
    settings = standin_settings(azure_standin.url, workspace, "ann")
    project = Project.create("budgeted", workspace=workspace)
    set_budget(0.05, project="budgeted")
    items = [{"prompt": f"a fox {i}", "model": "gpt-image-1", "quality": "medium"} for i in range(3)]  # ~$0.042 each

    with pytest.warns(BudgetWarning, match="exceeds project 'budgeted'"):
        report = generate_batch(items, project=project, settings=settings, progress=False)
    assert report.estimated_cost_usd == pytest.approx(3 * estimate_cost("gpt-image-1", quality="medium"), rel=0.01)
    assert len(report.ok) == 3  # warned, not refused

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # within budget: no warning at all
        generate_batch([{"prompt": "a last owl", "model": "local"}], project=project, settings=settings,
                       progress=False, budget_usd=100.0)


def test_usage_refuses_an_unknown_grouping(workspace):
    with pytest.raises(InvalidArgumentError, match="day, month, user"):
        usage("colour", workspace=workspace)


def test_usage_chart_draws_one_bar_per_row(workspace, costs_file):
    frame = pd.DataFrame({"model": ["a", "b"], "generations": [1, 2], "images": [1, 2], "input_tokens": [0, 0],
                          "output_tokens": [0, 0], "cost_usd": [0.5, 1.0], "unpriced": [0, 0]})
    chart = usage_chart(frame)
    assert chart.size == (640, 2 * 22 + 30)
    pixels = chart.convert("RGB").load()
    bar_colour = (66, 120, 200)
    row_a = sum(pixels[x, 24 + 11] == bar_colour for x in range(640))
    row_b = sum(pixels[x, 24 + 22 + 11] == bar_colour for x in range(640))
    assert row_b > 1.9 * row_a > 0  # the longer bar for twice the cost


def test_cli_usage_prints_the_table_and_json(workspace, costs_file):
    project = Project.create("cli-usage", workspace=workspace)
    project.add_generation({"id": "g1", "created": "2026-12-02T09:00:00Z", "model": "dall-e-3", "user": "ann",
                            "request": {"quality": "hd"}, "seeds": [1]})
    project.flush()
    env = dict(os.environ)
    table = subprocess.run([str(IMAGESTUDIO), "usage", "--by", "user,model"], capture_output=True, text=True,
                           env=env, timeout=120)
    assert table.returncode == 0, table.stderr
    assert "dall-e-3" in table.stdout and "total $0.0800" in table.stdout
    data = json.loads(subprocess.run([str(IMAGESTUDIO), "usage", "--by", "month", "--json"], capture_output=True,
                                     text=True, env=env, timeout=120).stdout)
    assert data["rows"] == [{"month": "2026-12", "generations": 1, "images": 1, "input_tokens": 0,
                             "output_tokens": 0, "cost_usd": 0.08, "unpriced": 0}]
    bad = subprocess.run([str(IMAGESTUDIO), "usage", "--by", "colour"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert bad.returncode == 2 and "choose from" in bad.stderr
