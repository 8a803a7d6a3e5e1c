"""Session-wide isolation: no test, doctest or notebook sees the user's real config, workspace or Azure keys.

Set at configure time so that kernels started by nbval inherit the same environment. At the end of a run
the summary counts test functions, their parametrised items, doctests and notebook cells separately:
one figure for all of them mixes different things.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest

_SECRET_VARIABLES = (
    "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENTS",
    "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_URL", "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "OPENAI_API_KEY", "IMAGESTUDIO_DEFAULT_MODEL",
)

#: Notebooks that start a real server (Azurite): their cells are slow tests like tests/cloud.
_SLOW_NOTEBOOKS = ("06_cloud_sync.ipynb",)


def isolate_environment(root: Path) -> None:
    """Point config, workspace, history and presets into ``root`` and drop every credential variable."""
    os.environ["IMAGESTUDIO_CONFIG"] = str(root / "config.toml")
    os.environ["IMAGESTUDIO_WORKSPACE"] = str(root / "workspace")
    os.environ["IMAGESTUDIO_USER"] = "tester"
    os.environ["IMAGESTUDIO_PROMPT_HISTORY"] = str(root / "prompt_history.sqlite")
    os.environ["IMAGESTUDIO_PRESETS_DIR"] = str(root / "presets")
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in _SECRET_VARIABLES:
        os.environ.pop(name, None)


def pytest_configure(config):
    isolate_environment(Path(tempfile.mkdtemp(prefix="imagestudio-tests-")))


def _kind(item) -> str:
    """'notebook cell', 'doctest', 'parametrised' (one of several items of a function) or 'function'."""
    if item.path.suffix == ".ipynb":
        return "notebook cell"
    if isinstance(item, pytest.DoctestItem):
        return "doctest"
    return "parametrised" if getattr(item, "callspec", None) is not None else "function"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb" and item.path.name in _SLOW_NOTEBOOKS:
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session):
    kinds = Counter(_kind(item) for item in session.items)
    functions = {(str(item.path), item.originalname) for item in session.items
                 if _kind(item) in ("function", "parametrised")}
    session.config._imagestudio_counts = (len(functions), kinds, {item.nodeid: _kind(item) for item in session.items})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = getattr(config, "_imagestudio_counts", None)
    if counts is None or not sum(counts[1].values()):
        return
    functions, kinds, kind_of = counts
    passed = Counter(kind_of.get(report.nodeid, "function") for report in terminalreporter.stats.get("passed", ())
                     if getattr(report, "when", "call") == "call")
    terminalreporter.write_sep("-", "what was collected (and passed)")
    terminalreporter.write_line(
        f"{functions} test functions, run as {kinds['function'] + kinds['parametrised']} items "
        f"({kinds['parametrised']} of them parametrised variants); {kinds['doctest']} doctests; "
        f"{kinds['notebook cell']} notebook cells")
    if passed:
        terminalreporter.write_line(
            f"passed: {passed['function'] + passed['parametrised']} test items, {passed['doctest']} doctests, "
            f"{passed['notebook cell']} notebook cells")
