"""pytest fixtures for the stand-in: one server per session, reset before each test that uses it."""

from __future__ import annotations

import pytest

from .server import AzureStandIn


@pytest.fixture(scope="session")
def azure_standin_session():
    server = AzureStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def azure_standin(azure_standin_session):
    azure_standin_session.reset()
    yield azure_standin_session
    azure_standin_session.reset()
