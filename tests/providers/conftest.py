"""Fixtures for the Azure provider tests: settings pointing at the loopback stand-in, fresh limiters."""

from __future__ import annotations

import pytest

from imagestudio_nb.config import Settings
from imagestudio_nb.providers.limiter import reset_limiters
from tests.standin.server import API_KEY

from tests.providers.helpers import endpoint_for


@pytest.fixture(autouse=True)
def fresh_limiters():
    """Limiters are process-wide by design; give every test its own."""
    reset_limiters()
    yield
    reset_limiters()


@pytest.fixture
def standin_settings(azure_standin, monkeypatch, tmp_path) -> Settings:
    """Settings with one endpoint (key from AZURE_OPENAI_API_KEY) serving every stand-in deployment."""
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    return Settings(endpoints=[endpoint_for(azure_standin.url)], workspace=tmp_path / "workspace")
