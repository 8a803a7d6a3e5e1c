"""The tutorials check what they claim, and those checks can fail.

nbval (``--nbval-lax``) runs every notebook but compares a cell's output only when the cell is marked
``# NBVAL_CHECK_OUTPUT`` *and* the notebook stores an output for it; a marked cell without one is
silently not compared. So: every checked cell must have a stored output, a demo ``try/except`` must
fail when its error does not come, every notebook must check something, a notebook run against a
broken library must fail (shown here by breaking one function per notebook in a real kernel), and the
suite's nbval configuration must really compare a checked cell with its stored output.
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
NOT_YET_CHECKED: set[str] = set()


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

    import psutil

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(breakage))
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})

    def stop_what_the_kernel_started(**_):
        # A notebook stopped part-way never reaches the cell that stops its servers (Azurite, JupyterLab).
        provisioner = client.km.provisioner
        pid = getattr(provisioner, "pid", None) or getattr(getattr(provisioner, "process", None), "pid", None)
        if pid:
            for child in psutil.Process(pid).children(recursive=True):
                child.kill()

    client.on_cell_error = stop_what_the_kernel_started
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    return str(failure.value)


@pytest.mark.slow  # starts Azurite
def test_the_cloud_notebook_fails_when_revoking_a_link_does_nothing():
    error = _run_with(next(p for p in NOTEBOOKS if p.name == "06_cloud_sync.ipynb"),
                      "import imagestudio_nb.cloud\nimagestudio_nb.cloud.revoke = lambda *args, **kwargs: None")
    assert "the link still opens after revoke" in error


#: One library function broken per notebook, and the check of that notebook that must catch it.
BREAKAGES = {
    "01_quickstart.ipynb": (
        "from imagestudio_nb.project import Project\n_diff = Project.diff\n"
        "Project.diff = lambda self, *args: {**_diff(self, *args), 'layers_changed': {}}",
        'changes["layers_changed"]'),
    "02_prompt_experiments.ipynb": (
        "from imagestudio_nb.experiments import Experiment\n_compare = Experiment.compare\n"
        "Experiment.compare = lambda self, other: [{**row, 'same_images': row['index'] != 5}\n"
        "                                          for row in _compare(self, other)]",
        "assert len(comparison) == 8"),
    "04_filters.ipynb": (
        "import imagestudio_nb.imaging.presets as presets\n_import = presets.import_preset\n"
        "def import_dropping_a_step(*args, **kwargs):\n"
        "    preset = _import(*args, **kwargs)\n"
        "    return {**preset, 'chain': preset['chain'][:-1]}\n"
        "presets.import_preset = import_dropping_a_step",
        "chain_hash(imported"),
    "11_coediting.ipynb": (  # restoring a deleted layer does nothing
        "from imagestudio_nb.project import Project\nProject.restore_layer = lambda self, layer_id: None",
        "assert sketch in"),
    "07_prompt_enhancement.ipynb": (
        "from imagestudio_nb.prompts import PromptHistory\n_top = PromptHistory.top_rated\n"
        "PromptHistory.top_rated = lambda self, **k: _top(self, **k)[::-1]",
        "assert best =="),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_a_notebook_fails_when_the_function_it_shows_is_broken(name):
    breakage, failing_check = BREAKAGES[name]
    error = _run_with(next(p for p in NOTEBOOKS if p.name == name), breakage)
    assert "AssertionError" in error and failing_check in error, error[-2000:]


def test_nbval_compares_a_checked_cell_with_its_stored_output(tmp_path):
    # The suite's own configuration (pyproject.toml) on a copy of the quickstart whose stored output of the
    # checked cell (the first picture's SHA-256) was altered by one character: nbval must report it.
    import subprocess
    import sys

    source = next(p for p in NOTEBOOKS if p.name == "01_quickstart.ipynb")
    notebook = nbformat.read(source, as_version=4)
    checked = [cell for cell in notebook.cells if is_checked(cell)]
    assert checked, "the quickstart has a checked cell"
    text = checked[0].outputs[0]["text"]
    checked[0].outputs[0]["text"] = ("1" if text[0] != "1" else "2") + text[1:]
    altered = tmp_path / source.name
    nbformat.write(notebook, altered)
    repo = source.parents[1]
    done = subprocess.run([sys.executable, "-m", "pytest", "-c", str(repo / "pyproject.toml"), "--rootdir", str(repo),
                           "-p", "no:cacheprovider", "-q", str(altered)], cwd=repo, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "Cell outputs differ" in done.stdout and "1 failed" in done.stdout, done.stdout[-3000:]
