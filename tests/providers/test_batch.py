"""Batches: per-item results and failures, bounded concurrency, resumption from the project, the shared
limiter under concurrency, JSONL/CSV files and the ``imagestudio batch`` command."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from imagestudio_nb import Project
from imagestudio_nb.batch import BatchItem, generate_batch, read_requests
from imagestudio_nb.config import Settings
from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.providers.limiter import set_rate_limit
from tests.providers.helpers import image_requests

LOCAL = Settings(default_model="local", default_size="256x256")


def test_results_and_failures_are_reported_per_item(tmp_path):
    project = Project.create("b", workspace=tmp_path)
    report = generate_batch(["a red fox", {"prompt": "a hen", "size": "999x999"}, {"prompt": "two owls", "n": 2}],
                            project=project, progress=False, settings=LOCAL)
    assert [item.status for item in report.items] == ["ok", "failed", "ok"]
    assert report.items[1].error_type == "UnsupportedParameterError" and "999x999" in report.items[1].error
    assert [len(item.results) for item in report.items] == [1, 0, 2]
    records = project.generations()
    assert sorted(r["batch_key"] for r in records) == sorted([report.items[0].key, report.items[2].key])
    assert report.summary() == {"total": 3, "ok": 2, "partial": 0, "failed": 1, "skipped": 0,
                                "seconds": report.summary()["seconds"]}


def test_a_rerun_skips_what_the_project_holds_and_retries_failures(tmp_path):
    project = Project.create("resume", workspace=tmp_path)
    requests = [{"prompt": f"fox number {i}", "seed": i} for i in range(5)] + [{"prompt": "bad", "quality": "max"}]
    first = generate_batch(requests, project=project, progress=False, settings=LOCAL)
    assert [i.status for i in first.items] == ["ok"] * 5 + ["failed"]
    requests[-1]["quality"] = "high"  # fixed: a different request, so a new key
    second = generate_batch(requests, project=Project.open("resume", workspace=tmp_path), progress=False,
                            settings=LOCAL)
    assert [i.status for i in second.items] == ["skipped"] * 5 + ["ok"]
    assert len(Project.open("resume", workspace=tmp_path).generations()) == 6


def test_identical_requests_are_distinct_items(tmp_path):
    project = Project.create("dup", workspace=tmp_path)
    report = generate_batch(["same prompt", "same prompt"], project=project, progress=False, settings=LOCAL)
    assert len({item.key for item in report.items}) == 2 and len(project.generations()) == 2
    again = generate_batch(["same prompt", "same prompt", "same prompt"], project=project, progress=False,
                           settings=LOCAL)
    assert [i.status for i in again.items] == ["skipped", "skipped", "ok"]


def test_concurrency_is_bounded(monkeypatch):
    import imagestudio_nb.batch as batch

    lock, state = threading.Lock(), {"now": 0, "max": 0}
    real = batch._run_item

    def counting(request, settings):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        try:
            return real(request, settings)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(batch, "_run_item", counting)
    with ThreadPoolExecutor(max_workers=16) as executor:
        report = generate_batch([f"prompt {i}" for i in range(24)], concurrency=3, executor=executor,
                                progress=False, settings=LOCAL)
    assert len(report.ok) == 24 and state["max"] <= 3


def test_a_process_pool_executor_works(tmp_path):
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    project = Project.create("procs", workspace=tmp_path)
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as executor:
        report = generate_batch([f"a kite {i}" for i in range(4)], project=project, executor=executor,
                                progress=False, settings=LOCAL)
    assert len(report.ok) == 4 and len(project.generations()) == 4
    assert project.assets.read(report.items[0].results[0].asset) == report.items[0].results[0].data


def test_azure_batch_shares_the_limiter_and_wastes_nothing_on_429(azure_standin, standin_settings, tmp_path):
    # The stand-in allows 20 requests a second; the limiter is set to 18/s: no request may meet a 429.
    azure_standin.requests_per_second = 20
    set_rate_limit(azure_standin.url, "gpt-image-1", requests_per_second=18)
    project = Project.create("azure", workspace=tmp_path)
    report = generate_batch([{"prompt": f"fox {i}", "model": "gpt-image-1", "quality": "low"} for i in range(30)],
                            project=project, concurrency=8, progress=False, settings=standin_settings)
    assert len(report.ok) == 30
    assert azure_standin.state.get("rate_limited", 0) == 0
    assert len(image_requests(azure_standin)) == 30


def test_azure_batch_recovers_from_429_when_no_rate_is_configured(azure_standin, standin_settings):
    azure_standin.requests_per_second = 10
    report = generate_batch([{"prompt": f"hen {i}", "model": "gpt-image-1"} for i in range(15)],
                            concurrency=6, progress=False, settings=standin_settings)
    assert len(report.ok) == 15  # some requests met 429 and waited for Retry-After, none failed
    assert azure_standin.state.get("rate_limited", 0) > 0


def test_failures_of_every_kind_do_not_stop_the_batch(azure_standin, standin_settings):
    azure_standin.state["blocked_terms"] = ["forbidden"]
    report = generate_batch([{"prompt": "fine", "model": "gpt-image-1"},
                             {"prompt": "forbidden thing", "model": "gpt-image-1"},
                             {"prompt": "fine", "model": "nonexistent-model"}], progress=False,
                            settings=standin_settings)
    assert [(i.status, i.error_type) for i in report.items] == [
        ("ok", None), ("failed", "ContentFilterError"), ("failed", "UnknownModelError")]


def test_read_jsonl_and_csv(tmp_path):
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text('{"prompt": "a fox", "n": 2, "output_compression": 40, "output_format": "jpeg"}\n\n'
                     '# a comment\n{"prompt": "a hen", "id": "hen-1"}\n')
    items = read_requests(jsonl)
    assert items[0] == BatchItem("a fox", n=2, output_format="jpeg", options={"output_compression": 40})
    assert items[1].id == "hen-1"
    table = tmp_path / "r.csv"
    table.write_text("prompt,model,n,seed,moderation,prompt_upsampling\n\"a fox, running\",local,2,7,low,true\n"
                     "42,,,,,\n")
    rows = read_requests(table)
    assert rows[0] == BatchItem("a fox, running", model="local", n=2, seed=7,
                                options={"moderation": "low", "prompt_upsampling": True})
    assert rows[1] == BatchItem("42")


@pytest.mark.parametrize("content, message", [('{"prompt": "ok"}\n{oops\n', "r.jsonl:2: not valid JSON"),
                                              ('["a list"]\n', "JSON object"),
                                              ('{"size": "256x256"}\n', "r.jsonl:1: a batch item needs")])
def test_bad_batch_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "r.jsonl"
    path.write_text(content)
    with pytest.raises(InvalidArgumentError, match=message):
        read_requests(path)


def test_cli_batch_runs_and_resumes(tmp_path, capsys):
    from imagestudio_nb.cli import main

    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"kite {i}", "model": "local", "size": "256x256"})
                              for i in range(3)) + "\n")
    assert main(["batch", str(path), "--project", "cli-batch", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["summary"]["ok"] == 3
    assert main(["batch", str(path), "--project", "cli-batch", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["skipped"] == 3


def test_cli_batch_exit_code_on_failure(tmp_path, capsys):
    from imagestudio_nb.cli import main

    path = tmp_path / "jobs.csv"
    path.write_text("prompt,model,size\nfine,local,256x256\nbad,local,3x3\n")
    assert main(["batch", str(path), "--project", "cli-fail"]) == 6  # a bad request: bad input, not a bug (1)
    captured = capsys.readouterr()
    assert "1 ok" in captured.out and "1 failed" in captured.out
    assert captured.err.strip().splitlines()[-1] == (  # after the progress bar: one line, no traceback
        "error (DataError): 1 of 2 items failed; see the table above (bad inputs: fix them and run the batch "
        "again; done items are kept)")
    assert "Traceback" not in captured.err


def test_cli_batch_exits_5_when_the_service_refuses_items(tmp_path, capsys, azure_standin, monkeypatch, workspace):
    from imagestudio_nb.cli import main
    from tests.standin.images import content_filter_body
    from tests.standin.server import API_KEY

    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", azure_standin.url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENTS", "gpt-image-1=gpt-image-1")
    azure_standin.inject(400, content_filter_body("innererror", {"violence": "high"}))  # refused, not retried
    path = tmp_path / "jobs.csv"
    path.write_text("prompt,model,size\nfine,local,256x256\nrefused,gpt-image-1,1024x1024\n")
    assert main(["batch", str(path), "--project", "cli-fail-5"]) == 5
    assert "PartialResultError" in capsys.readouterr().err
