"""Generation batches on a real two-worker Dask cluster against the loopback stand-in's rate limit.

The stand-in runs in a process of its own (``standin_service.py``), as a service does, so that its arrival
times are not delayed by this process storing the results.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from imagestudio_nb.batch import generate_batch
from imagestudio_nb.config import Deployment, Endpoint, Settings
from imagestudio_nb.project import Project
from imagestudio_nb.providers.limiter import limiter_stats
from tests.scale.standin_service import StandInService
from tests.standin.server import API_KEY

pytestmark = pytest.mark.slow

RATE = 10


def settings_for(url: str, workspace, *, per_minute: float | None = RATE * 60) -> Settings:
    deployment = Deployment(name="gpt-image-1", model="gpt-image-1", requests_per_minute=per_minute)
    # The key is in the settings object (not the environment) because it must reach the worker processes.
    endpoint = Endpoint(name="standin", base_url=url, api_key=API_KEY, api_version="2025-04-01-preview",
                        deployments=[deployment])
    return Settings(endpoints=[endpoint], workspace=workspace, default_model="gpt-image-1")


@pytest.fixture(scope="module")
def limited_standin():
    with StandInService(requests_per_second=RATE) as service:
        yield service


@pytest.fixture
def standin(limited_standin):
    limited_standin.reset()
    return limited_standin


def most_in_one_second(times: list[float]) -> int:
    """The largest number of arrivals the stand-in saw within any one-second window."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_two_workers_share_one_rate_limit_and_results_reach_the_project(cluster, standin, workspace):
    settings = settings_for(standin.url, workspace)
    project = Project.create("dask-batch", workspace=workspace)
    items = [{"prompt": f"a red fox, study {i}", "quality": "low"} for i in range(40)]

    report = generate_batch(items, project=project, executor=cluster, concurrency=8, progress=False,
                            settings=settings)

    assert report.summary()["ok"] == 40, report.failed[:1]
    arrivals, refused = standin.arrivals()
    assert refused == 0  # not one request answered 429
    assert len(arrivals) == 40 and most_in_one_second(arrivals) <= RATE
    # The cluster-wide spacing: any eleven consecutive arrivals span at least a second.
    assert min(b - a for a, b in zip(arrivals, arrivals[RATE:])) >= 1.0
    per_worker = cluster.run(limiter_stats)
    acquired = [sum(s["acquired"] for s in stats.values()) for stats in per_worker.values()]
    assert len(acquired) == 2 and all(n > 0 for n in acquired) and sum(acquired) == 40  # both workers sent
    stored = Project.open("dask-batch", workspace=workspace).generations()
    assert sorted(r["batch_key"] for r in stored) == sorted(item.key for item in report.items)
    again = generate_batch(items, project=project, executor=cluster, progress=False, settings=settings)
    assert again.summary()["skipped"] == 40  # resumable: the project holds them all


def test_without_the_shared_service_two_workers_send_twice_the_rate(cluster, standin, workspace):
    """The failure the cluster service exists for: a limiter per worker lets N workers send N times the rate."""
    settings = settings_for(standin.url, workspace)
    items = [{"prompt": f"a blue hen, study {i}", "quality": "low"} for i in range(30)]

    # A plain Executor (not the Client) runs the calls on the workers with a limiter each.
    report = generate_batch(items, executor=cluster.get_executor(), concurrency=8, progress=False,
                            settings=settings)

    assert report.summary()["ok"] == 30
    arrivals, refused = standin.arrivals()
    assert refused > 0 and most_in_one_second(arrivals) > RATE


IMAGESTUDIO = Path(sys.executable).with_name("imagestudio")


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(IMAGESTUDIO), *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_batch_runs_on_a_dask_scheduler_with_the_key_from_the_environment(cluster, standin, workspace,
                                                                            tmp_path):
    # The workers were started before this key was set: it reaches them inside the settings.
    config = tmp_path / "cluster.toml"
    config.write_text(f'default_model = "gpt-image-1"\n[[endpoints]]\nname = "standin"\nbase_url = "{standin.url}"\n'
                      f'api_version = "2025-04-01-preview"\n[[endpoints.deployments]]\nname = "gpt-image-1"\n'
                      f'model = "gpt-image-1"\nrequests_per_minute = {RATE * 60}\n')
    requests = tmp_path / "requests.jsonl"
    requests.write_text("".join(json.dumps({"prompt": f"a green owl {i}", "quality": "low"}) + "\n"
                                for i in range(15)))
    env = {**os.environ, "IMAGESTUDIO_CONFIG": str(config), "AZURE_OPENAI_API_KEY": API_KEY}

    done = run_cli("batch", str(requests), "--project", "owls", "--dask", cluster.scheduler.address, "--json",
                   env=env)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["ok"] == 15
    arrivals, refused = standin.arrivals()
    assert refused == 0 and len(arrivals) == 15 and most_in_one_second(arrivals) <= RATE
    assert len(Project.open("owls", workspace=workspace).generations()) == 15


def test_cli_batch_names_an_unreachable_scheduler(workspace, tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"prompt": "a fox"}\n')
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    failed = run_cli("batch", str(requests), "--project", "p", "--dask", address, env=dict(os.environ))
    assert failed.returncode == 4 and "no Dask scheduler answered" in failed.stderr and "Traceback" not in failed.stderr
