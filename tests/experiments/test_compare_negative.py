"""`Experiment.compare()` is a verifier: fed a re-run that did not reproduce its cells, it must say so.

Each test feeds it a deliberately different input (other images for the same request, another request, a
cell the re-run lacks) and checks that exactly the affected rows are reported as not reproduced.
"""

from __future__ import annotations

from imagestudio_nb import Project
from imagestudio_nb.config import Settings
from imagestudio_nb.experiments import Experiment

LOCAL = Settings(default_model="local", default_size="256x256", user="tester")


def _flags(rows):
    return [(row["same_request"], row["same_images"]) for row in rows]


def test_a_rerun_that_got_other_image_bytes_is_reported_as_not_reproduced(azure_standin, standin_settings, tmp_path):
    # A hosted model need not return the same picture for the same request: here the service really
    # answers the identical request with other bytes (smaller pictures), as a changed model would.
    project = Project.create("changed service", workspace=tmp_path)
    exp = Experiment.define("wire", prompts=["a red fox", "a lighthouse"], models=["gpt-image-1"],
                            params={"size": ["1024x1024"]}, project=project, settings=standin_settings)
    exp.run(progress=False)
    azure_standin.state["image_side"] = 32
    again = exp.rerun(progress=False)

    rows = exp.compare(again)
    assert len(rows) == 2
    assert all(row["same_request"] and row["same_wire"] for row in rows)  # the same bytes were sent...
    assert not any(row["same_images"] for row in rows)                    # ...and other bytes came back
    assert all(set(a["assets"]).isdisjoint(b["assets"]) for a, b in zip(exp.cells, again.cells))


def test_a_cell_run_with_another_request_is_reported(tmp_path):
    project = Project.create("other request", workspace=tmp_path)
    exp = Experiment.define("seeds", prompts=["a red fox"], seeds=[1, 2], project=project, settings=LOCAL)
    exp.run(progress=False)
    other = Experiment.define("seeds, second changed", prompts=["a red fox"], seeds=[1, 3], project=project,
                              settings=LOCAL)
    other.run(progress=False)

    assert _flags(exp.compare(other)) == [(True, True), (False, False)]


def test_a_cell_missing_from_the_rerun_is_reported_not_skipped(tmp_path):
    project = Project.create("short rerun", workspace=tmp_path)
    exp = Experiment.define("three", prompts=["a red fox", "a hen", "a cow"], seeds=[4], project=project,
                            settings=LOCAL)
    exp.run(progress=False)
    again = exp.rerun(progress=False)
    del again.data["cells"][1]  # a re-run that lost a cell (stopped early, or edited by hand)

    rows = exp.compare(again)
    assert [row["index"] for row in rows] == [0, 1, 2]
    assert rows[1] == {"index": 1, "rerun_index": None, "same_request": False, "same_wire": False,
                       "same_images": False}
    assert _flags([rows[0], rows[2]]) == [(True, True), (True, True)]


def test_cells_without_images_on_both_sides_are_not_counted_as_the_same_images(tmp_path):
    project = Project.create("no images", workspace=tmp_path)
    exp = Experiment.define("one", prompts=["a red fox"], seeds=[4], project=project, settings=LOCAL)
    exp.run(progress=False)
    again = exp.rerun(progress=False)
    exp.cells[0]["assets"], again.cells[0]["assets"] = [], []  # as a run whose images were all dropped

    assert _flags(exp.compare(again)) == [(True, False)]
