"""Fixtures for the experiment tests: stand-in settings and fresh limiters."""

from __future__ import annotations

import pytest

from imagestudio_nb.config import Settings
from imagestudio_nb.providers.limiter import reset_limiters
from tests.providers.helpers import endpoint_for
from tests.standin.server import API_KEY


@pytest.fixture(autouse=True)
def fresh_limiters():
    reset_limiters()
    yield
    reset_limiters()


@pytest.fixture
def standin_settings(azure_standin, monkeypatch, tmp_path) -> Settings:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    return Settings(endpoints=[endpoint_for(azure_standin.url)], workspace=tmp_path / "workspace")
