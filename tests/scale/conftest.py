"""A real Dask ``LocalCluster`` (two worker processes on 127.0.0.1) for the scale-out tests, once per session."""

from __future__ import annotations

import pytest

from imagestudio_nb.providers.limiter import reset_limiters, use_shared_pacers


@pytest.fixture(scope="session")
def dask_client():
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the message is the point
        pytest.fail("Dask is missing: install the extra with `.venv/bin/pip install -e '.[dask]'`")
    cluster = LocalCluster(n_workers=2, threads_per_worker=4, processes=True, host="127.0.0.1",
                           dashboard_address=None, worker_dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(2, timeout=120)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def cluster(dask_client):
    """The session's client, with every worker's (and this process's) limiters forgotten around the test."""
    for target in (dask_client.run, lambda f, *a: f(*a)):
        target(use_shared_pacers, None)
        target(reset_limiters)
    yield dask_client
    use_shared_pacers(None)
    reset_limiters()
