"""Fixtures shared by the test suite: an isolated config and workspace per test, real servers per session."""

from __future__ import annotations

import pytest

from tests.standin.fixtures import azure_standin, azure_standin_session  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Give each test its own empty config file and workspace folder."""
    monkeypatch.setenv("IMAGESTUDIO_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("IMAGESTUDIO_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.setenv("IMAGESTUDIO_USER", "tester")
    monkeypatch.setenv("IMAGESTUDIO_PROMPT_HISTORY", str(tmp_path / "prompt_history.sqlite"))
    monkeypatch.setenv("IMAGESTUDIO_PRESETS_DIR", str(tmp_path / "presets"))
    from imagestudio_nb.providers.registry import clear_cache

    clear_cache()
    yield tmp_path


@pytest.fixture
def workspace(isolated_settings):
    """The per-test workspace folder."""
    path = isolated_settings / "workspace"
    path.mkdir(exist_ok=True)
    return path
