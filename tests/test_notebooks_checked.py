"""The tutorials check what they claim, and those checks can fail.

nbval (``--nbval-lax``) runs every notebook but compares a cell's output only when the cell is marked
``# NBVAL_CHECK_OUTPUT`` *and* the notebook stores an output for it; a marked cell without one is
silently not compared. So: every checked cell must have a stored output, a demo ``try/except`` must
fail when its error does not come, every notebook must check something, and a notebook run against a
broken library must fail (shown here by breaking one function in a real kernel).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from tests.notebook_outputs import is_checked

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

#: Notebooks whose owners have not yet turned their claims into checks. The test below fails as soon as one
#: of them checks something, so this list cannot go stale: remove the name then.
NOT_YET_CHECKED = {"03_canvas.ipynb", "05_background_removal.ipynb"}


def _code_cells(path: Path):
    notebook = nbformat.read(path, as_version=4)
    return [(index, cell) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]


def _checks(path: Path) -> int:
    """How many checks the notebook makes: asserts, explicit raises of AssertionError, and checked cells."""
    count = 0
    for _, cell in _code_cells(path):
        count += is_checked(cell)
        count += sum(isinstance(node, ast.Assert) for node in ast.walk(ast.parse(cell.source)))
    return count


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_checked_cell_has_a_stored_output(path):
    unchecked = [index for index, cell in _code_cells(path)
                 if is_checked(cell) and (cell.execution_count is None or not cell.outputs)]
    assert not unchecked, (f"{path.name}: cells {unchecked} are marked NBVAL_CHECK_OUTPUT but store no output, so "
                           f"nbval compares nothing; run `.venv/bin/python -m tests.notebook_outputs {path}`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_demo_error_cell_fails_when_the_error_does_not_come(path):
    # `try: ... except SomeError: print(...)` passes when nothing is raised; an `else: raise` makes it fail.
    lenient = []
    for index, cell in _code_cells(path):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Try) and node.handlers and not any(isinstance(n, ast.Raise) for n in node.orelse):
                lenient.append(f"cell {index}, line {node.lineno}")
    assert not lenient, f"{path.name}: try/except without `else: raise AssertionError(...)` at {lenient}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_checks_what_it_claims(path):
    if path.name in NOT_YET_CHECKED:
        assert _checks(path) == 0, f"{path.name} checks its claims now: remove it from NOT_YET_CHECKED"
    else:
        assert _checks(path) >= 3, f"{path.name} makes claims but checks fewer than three of them"


def _run_with(path: Path, breakage: str, timeout: int = 600) -> str:
    """Run the notebook in a real kernel after ``breakage`` (code run first); return the error it stops with."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(breakage))
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    return str(failure.value)


@pytest.mark.slow  # starts Azurite
def test_the_cloud_notebook_fails_when_revoking_a_link_does_nothing():
    error = _run_with(next(p for p in NOTEBOOKS if p.name == "06_cloud_sync.ipynb"),
                      "import imagestudio_nb.cloud\nimagestudio_nb.cloud.revoke = lambda *args, **kwargs: None")
    assert "the link still opens after revoke" in error


def test_the_quickstart_fails_when_a_checkpoint_diff_sees_no_change():
    breakage = ("from imagestudio_nb.project import Project\n"
                "_diff = Project.diff\n"
                "Project.diff = lambda self, *args: {**_diff(self, *args), 'layers_changed': {}}")
    error = _run_with(next(p for p in NOTEBOOKS if p.name == "01_quickstart.ipynb"), breakage)
    assert 'changes["layers_changed"]' in error and "AssertionError" in error
