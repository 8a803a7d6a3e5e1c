"""Execute a notebook and store the outputs that nbval compares: the cells marked ``# NBVAL_CHECK_OUTPUT``.

Under ``--nbval-lax`` nbval compares a checked cell's output with the one stored in the notebook, and
silently compares nothing when none is stored; ``tests/test_notebooks_checked.py`` fails on such a cell.
After changing a checked cell, run::

    .venv/bin/python -m tests.notebook_outputs notebooks/06_cloud_sync.ipynb [--all]

It runs the notebook in a fresh kernel (its folder as working directory, a throw-away workspace and config,
as the test suite does) and writes back the checked cells' outputs; ``--all`` keeps every cell's output
(for a notebook meant to be read with its results, such as 07). Other cells are stored without output.
Execution timings are dropped so that a re-run changes nothing that did not change.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat

CHECK_MARKER = "NBVAL_CHECK_OUTPUT"
CHECK_TAG = "nbval-check-output"


def is_checked(cell) -> bool:
    """Whether nbval compares this code cell's output (comment marker or metadata tag)."""
    if cell.cell_type != "code":
        return False
    marked = any(line.strip().lstrip("#").strip() == CHECK_MARKER
                 for line in cell.source.splitlines() if line.strip().startswith("#"))
    return marked or CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def isolated_environment(root: Path) -> dict[str, str]:
    """The environment the test suite gives kernels (see the root conftest.py): nothing of the user's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    saved = dict(os.environ)
    try:
        module.isolate_environment(root)
        return dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def execute(path: Path, *, keep_all: bool = False, timeout: int = 600) -> nbformat.NotebookNode:
    """Run ``path`` in a fresh kernel and return it with the outputs to store."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="notebook-outputs-") as scratch:
        env = isolated_environment(Path(scratch))
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if keep_all or is_checked(cell):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
        else:
            cell.outputs, cell.execution_count = [], None
    return notebook


def main(argv: list[str]) -> None:
    keep_all = "--all" in argv
    for name in (a for a in argv if not a.startswith("--")):
        path = Path(name).resolve()
        nbformat.write(execute(path, keep_all=keep_all), path)
        print("stored the checked outputs of", path.name)


if __name__ == "__main__":
    main(sys.argv[1:])
