"""Prompt experiments: grids, batched runs kept in the project, scores and notes, the comparison grid,
exports, and re-runs that send the same bytes again."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from imagestudio_nb import Project
from imagestudio_nb.config import Settings
from imagestudio_nb.errors import InvalidArgumentError, NotFoundError, UnknownModelError
from imagestudio_nb.experiments import Experiment, expand_grid, list_experiments
from imagestudio_nb.imaging.codec import decode_image
from tests.providers.helpers import image_requests

LOCAL = Settings(default_model="local", default_size="256x256", user="tester")


@pytest.fixture
def project(tmp_path):
    return Project.create("lab", workspace=tmp_path)


def test_grid_is_the_product_of_its_axes_prompt_major():
    cells = expand_grid(["a", "b"], ["local"], {"quality": ["low", "high"], "style": ["vivid"]}, [1, 2, 3],
                        settings=LOCAL)
    assert len(cells) == 2 * 2 * 1 * 3
    assert [(c["prompt"], c["params"]["quality"], c["seed"]) for c in cells[:4]] == [
        ("a", "low", 1), ("a", "low", 2), ("a", "low", 3), ("a", "high", 1)]
    assert cells[5]["request"] == {"prompt": "a", "model": "local", "quality": "high", "style": "vivid", "seed": 3}


def test_combinations_a_model_refuses_are_marked_invalid_and_never_sent(azure_standin, standin_settings, tmp_path):
    project = Project.create("inv", workspace=tmp_path)
    exp = Experiment.define("q", prompts=["a fox"], models=["gpt-image-1", "dall-e-3"],
                            params={"quality": ["high", "hd"]}, project=project, settings=standin_settings)
    status = {(c["model"], c["params"]["quality"]): c["status"] for c in exp.cells}
    assert status == {("gpt-image-1", "high"): "pending", ("gpt-image-1", "hd"): "invalid",
                      ("dall-e-3", "high"): "invalid", ("dall-e-3", "hd"): "pending"}
    assert "allowed: low, medium, high, auto" in exp.cells[1]["error"]
    exp.run(progress=False)
    assert len(image_requests(azure_standin)) == 2
    assert [c["status"] for c in exp.cells] == ["ok", "invalid", "invalid", "ok"]


def test_seeds_become_repeats_for_models_without_seeds(azure_standin, standin_settings, tmp_path):
    project = Project.create("rep", workspace=tmp_path)
    exp = Experiment.define("r", prompts=["a fox"], models=["gpt-image-1"], seeds=[1, 2, 3], project=project,
                            settings=standin_settings)
    assert all("seed" not in c["request"] for c in exp.cells) and [c["repeat"] for c in exp.cells] == [0, 1, 2]
    exp.run(progress=False)
    assert len(image_requests(azure_standin)) == 3 and len({c["generation"] for c in exp.cells}) == 3


def test_bad_axes_are_refused():
    with pytest.raises(InvalidArgumentError, match="list of values"):
        expand_grid(["a"], ["local"], {"quality": "low"}, None, settings=LOCAL)
    with pytest.raises(InvalidArgumentError, match="prompts"):
        expand_grid([], ["local"], None, None, settings=LOCAL)
    with pytest.raises(UnknownModelError):
        expand_grid(["a"], ["no-such-model"], None, None, settings=LOCAL)


def test_an_experiment_is_stored_in_the_project_and_loads_back(project):
    exp = Experiment.define("fox study", prompts=["a red fox"], seeds=[1, 2], project=project, settings=LOCAL)
    path = project.path / "experiments" / f"{exp.id}.json"
    assert json.loads(path.read_text())["cells"][0]["status"] == "pending"
    exp.run(progress=False)
    again = Experiment.load(Project.open("lab", workspace=project.path.parent), exp.id[:6])
    assert [c["status"] for c in again.cells] == ["ok", "ok"]
    assert again.cells[0]["assets"] == exp.cells[0]["assets"]
    assert Experiment.load(project, "fox study").id == exp.id
    assert list_experiments(project)[0]["name"] == "fox study"
    with pytest.raises(NotFoundError, match="fox study"):
        Experiment.load(project, "nothing")
    assert not list(path.parent.glob("*.tmp"))


def test_results_are_generations_of_the_project_with_their_cell_key(project):
    exp = Experiment.define("k", prompts=["a kite"], seeds=[4], project=project, settings=LOCAL)
    exp.run(progress=False)
    record = project.generation(exp.cells[0]["generation"])
    assert record["batch_key"] and record["request"]["seed"] == 4
    assert exp.cells[0]["executed"] == record["request"]


def test_a_cell_done_but_not_saved_is_taken_from_the_project_not_generated_again(project):
    exp = Experiment.define("twice", prompts=["a", "b"], project=project, settings=LOCAL)
    exp.run(progress=False)
    assets = exp.cells[1]["assets"]
    exp.cells[1].update(status="pending", assets=[])  # as if the run had stopped before saving the experiment
    report = exp.run(progress=False)
    assert report.summary()["total"] == 1 and report.summary()["skipped"] == 1
    assert len(project.generations()) == 2
    assert exp.cells[1]["status"] == "ok" and exp.cells[1]["assets"] == assets


def test_run_again_retries_the_failed_cells_only(azure_standin, standin_settings, tmp_path):
    project = Project.create("retry", workspace=tmp_path)
    azure_standin.state["blocked_terms"] = ["storm"]
    exp = Experiment.define("f", prompts=["a calm sea", "a storm"], models=["gpt-image-1"], project=project,
                            settings=standin_settings)
    exp.run(progress=False)
    assert [c["status"] for c in exp.cells] == ["ok", "failed"]
    assert "content filter" in exp.cells[1]["error"]
    azure_standin.state["blocked_terms"] = []
    azure_standin.log.clear()
    exp.run(progress=False)
    assert [c["status"] for c in exp.cells] == ["ok", "ok"]
    assert [json.loads(e.body)["prompt"] for e in image_requests(azure_standin)] == ["a storm"]


def test_scores_and_notes_are_saved_and_found_by_coordinates(project):
    exp = Experiment.define("s", prompts=["a fox", "a hen"], params={"quality": ["low", "high"]}, seeds=[1],
                            project=project, settings=LOCAL)
    exp.run(progress=False)
    exp.score({"prompt": "a hen", "quality": "high"}, 5).annotate(0, "too dark", by="ana")
    stored = Experiment.load(project, exp.id)
    assert stored.cell(prompt="a hen", quality="high")["score"] == 5
    assert stored.cells[0]["notes"][0]["text"] == "too dark" and stored.cells[0]["notes"][0]["by"] == "ana"
    with pytest.raises(InvalidArgumentError):
        exp.score(0, "great")
    with pytest.raises(NotFoundError, match="2 cells match"):
        exp.cell(prompt="a fox")


def test_comparison_grid_lays_out_rows_and_columns(project):
    exp = Experiment.define("grid", prompts=["a fox", "a hen"], params={"quality": ["low", "high"]}, seeds=[1, 2],
                            project=project, settings=LOCAL)
    exp.run(progress=False)
    sheet = exp.sheet(cell=64)
    assert len(sheet.rows) == 2 and len(sheet.columns) == 4
    assert sheet.columns[0] == "quality=low · seed 1"
    by_seed = exp.sheet(rows="seed", cell=64)
    assert by_seed.rows == ["seed 1", "seed 2"] and len(by_seed.columns) == 4
    picture = decode_image(exp._repr_png_(), mode="RGB")
    assert picture.shape[1] > picture.shape[0] > 2 * 192
    assert sheet.image.std() > 10  # not a blank page


def test_failed_cells_show_as_empty_boxes(project):
    exp = Experiment.define("f", prompts=["a fox"], params={"size": ["256x256", "7x7"]}, project=project,
                            settings=LOCAL)
    exp.run(progress=False)
    sheet = exp.sheet(cell=64)
    assert [c["status"] for c in exp.cells] == ["ok", "invalid"]
    assert sheet.image.shape[2] == 3 and sheet.columns == ["size=256x256", "size=7x7"]


def test_exports_to_pandas_csv_and_json(project, tmp_path):
    exp = Experiment.define("e", prompts=["a fox"], params={"quality": ["low", "high"]}, seeds=[1], project=project,
                            settings=LOCAL)
    exp.run(progress=False)
    exp.score(1, 3.5)
    frame = exp.to_pandas()
    assert list(frame["param.quality"]) == ["low", "high"] and frame["score"].iloc[1] == 3.5
    rows = list(csv.DictReader(io.StringIO(exp.to_csv(tmp_path / "e.csv"))))
    assert rows[1]["score"] == "3.5" and (tmp_path / "e.csv").exists()
    data = json.loads(exp.to_json(tmp_path / "e.json"))
    assert data["cells"][0]["executed"]["quality"] == "low"


def test_rerun_on_the_local_model_reproduces_the_images(project):
    exp = Experiment.define("local", prompts=["a red fox", "a hen"], seeds=[1, 2], project=project, settings=LOCAL)
    exp.run(progress=False)
    again = exp.rerun(progress=False)
    assert again.data["rerun_of"] == exp.id and len(again.cells) == 4
    assert all(row["same_request"] and row["same_images"] for row in exp.compare(again))
    assert len(project.generations()) == 8  # the re-run is new work, not skipped as done


def test_rerun_sends_the_same_bytes_to_azure(azure_standin, standin_settings, tmp_path):
    project = Project.create("azure-lab", workspace=tmp_path)
    exp = Experiment.define("wire", prompts=["a red fox", "a lighthouse"], models=["gpt-image-1", "flux-2-pro"],
                            params={"size": ["1024x1024"]}, project=project, settings=standin_settings)
    exp.run(progress=False)
    first = sorted(e.body for e in image_requests(azure_standin))
    assert all(c["executed"]["seed"] is not None for c in exp.cells if c["model"] == "flux-2-pro")  # chosen, kept
    azure_standin.log.clear()
    again = Experiment.load(Project.open("azure-lab", workspace=tmp_path), exp.id, settings=standin_settings).rerun(
        progress=False)
    second = sorted(e.body for e in image_requests(azure_standin))
    assert first == second and len(first) == 4
    comparison = exp.compare(again)
    assert all(row["same_request"] and row["same_wire"] for row in comparison) and len(comparison) == 4


def test_rerun_needs_a_run_first(project):
    exp = Experiment.define("none", prompts=["a"], project=project, settings=LOCAL)
    with pytest.raises(InvalidArgumentError, match="run"):
        exp.rerun()


def test_an_experiment_without_a_project_runs_in_memory():
    exp = Experiment.define("mem", prompts=["a fox"], seeds=[1, 2], settings=LOCAL)
    exp.run(progress=False)
    assert exp.save() is None
    assert exp.sheet(cell=48).image.shape[2] == 3
    assert np.asarray(exp.sheet(cell=48).image).mean() < 250
