"""Azurite for the cloud tests: one server per session, started here; fresh containers per test."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from imagestudio_nb.cloud import connect
from imagestudio_nb.cloud.azurite import start_azurite

REPO = Path(__file__).resolve().parents[2]
AZURITE = REPO / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"


def pytest_collection_modifyitems(config, items):
    """Every test that starts or uses Azurite (a real server) is marked ``slow``, as the README says."""
    for item in items:
        if {"azurite", "private_azurite"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def _require_azurite() -> None:
    if not AZURITE.is_file() and not shutil.which("azurite-blob"):
        pytest.fail("Azurite is not installed: run `make test` (or `scripts/install-system-deps.sh`), which installs "
                    "a pinned azurite into .tools/azurite", pytrace=False)


@pytest.fixture(scope="session")
def azurite():
    """A running Azurite blob service on 127.0.0.1 (port chosen by the system), for the whole session."""
    _require_azurite()
    server = start_azurite(Path(tempfile.mkdtemp(prefix="azurite-tests-")))
    yield server
    server.close()
    shutil.rmtree(server.location, ignore_errors=True)


@pytest.fixture
def private_azurite(tmp_path):
    """An Azurite of this test's own, which the test may stop, kill and restart."""
    _require_azurite()
    server = start_azurite(tmp_path / "azurite-data")
    yield server
    server.close()


def container_name(request) -> str:
    """A container name (3-63 of [a-z0-9-]) unique to the test."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    return f"t-{base}-{abs(hash(request.node.nodeid)) % 10**8}"


@pytest.fixture
def cloud(azurite, request):
    """A connected cloud workspace in a container of its own, failing fast when the server is gone."""
    return connect(connection_string=azurite.connection_string, container=container_name(request),
                   retry_total=1, retry_backoff=0.05, timeout=10)


@pytest.fixture
def machines(tmp_path):
    """Two local workspaces, as on two computers."""
    a, b = tmp_path / "machine-a", tmp_path / "machine-b"
    a.mkdir()
    b.mkdir()
    return a, b


def noise_png(seed: int, size: int = 24) -> np.ndarray:
    """A small random image (a distinct asset per seed)."""
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def make_project(name: str, workspace: Path, *, assets: int = 3, seed: int = 0):
    """A project with ``assets`` image layers."""
    from imagestudio_nb.project import Project

    project = Project.create(name, workspace=workspace, owner="tester")
    for index in range(assets):
        info = project.assets.add(noise_png(seed * 1000 + index), tags=["test"])
        project.add_layer("image", asset=info.hash, name=f"Layer {index}")
    return project


def remote_blobs(workspace, prefix: str = "") -> dict[str, bytes]:
    """Every base blob under ``prefix`` with its content."""
    container = workspace.container
    return {name: container.get_blob_client(name).download_blob().readall()
            for name in container.list_blob_names(name_starts_with=workspace.prefix + prefix)}
