"""Session-wide isolation: no test, doctest or notebook sees the user's real config, workspace or Azure keys.

Set at configure time so that kernels started by nbval inherit the same environment.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SECRET_VARIABLES = (
    "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENTS",
    "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_URL", "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "OPENAI_API_KEY", "IMAGESTUDIO_DEFAULT_MODEL",
)


def pytest_configure(config):
    root = Path(tempfile.mkdtemp(prefix="imagestudio-tests-"))
    os.environ["IMAGESTUDIO_CONFIG"] = str(root / "config.toml")
    os.environ["IMAGESTUDIO_WORKSPACE"] = str(root / "workspace")
    os.environ["IMAGESTUDIO_USER"] = "tester"
    os.environ["IMAGESTUDIO_PROMPT_HISTORY"] = str(root / "prompt_history.sqlite")
    os.environ["IMAGESTUDIO_PRESETS_DIR"] = str(root / "presets")
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in _SECRET_VARIABLES:
        os.environ.pop(name, None)
