"""Fixtures for the prompt tests: settings that point the LLM engine at the loopback Azure stand-in."""

from __future__ import annotations

import pytest

from imagestudio_nb.config import Deployment, Endpoint, Settings
from imagestudio_nb.providers.limiter import reset_limiters
from tests.standin.server import API_KEY


def standin_settings(standin, *, api_version: str | None = "2024-10-21", deployment: str = "gpt-4o-mini",
                     key: str = API_KEY, default_style: str | None = None) -> Settings:
    """Settings whose chat deployment is served by the stand-in."""
    endpoint = Endpoint(name="standin", base_url=standin.url, api_version=api_version, api_key=key,
                        deployments=[Deployment(name=deployment, model="gpt-4o-mini")])
    return Settings(chat_deployment=deployment, endpoints=[endpoint], default_style=default_style)


@pytest.fixture
def chat_settings(azure_standin):
    reset_limiters()
    yield standin_settings(azure_standin)
    reset_limiters()


@pytest.fixture
def offline_settings():
    """No endpoints at all: everything must work offline."""
    return Settings()
