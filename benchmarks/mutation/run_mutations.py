"""Mutation evidence: break one line of the implementation per area and show which tests notice.

For each mutation the package, its tests and the pytest configuration are copied to a temporary folder
(``shutil.copytree``), ONE line is changed there by a string replacement that must match exactly once, and
the area's key test file(s) run against that copy (``PYTHONPATH=<copy>`` first, ``cwd=<copy>`` so the
``pythonpath = ["."]`` of pyproject.toml points at the copy too). The working tree is never touched.

A mutation that no test catches is reported as SURVIVED: that is evidence as well (a gap in the tests).

Run: ``.venv/bin/python benchmarks/mutation/run_mutations.py`` (a few minutes; each area's run is small).
Not collected by pytest (benchmarks/ is outside ``testpaths`` and there are no test functions here).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COPIED = ("imagestudio_nb", "tests", "pyproject.toml", "conftest.py")
#: Installed tools the tests start (Azurite), linked rather than copied: they are only run, never mutated.
LINKED = (".tools",)


@dataclass(frozen=True)
class Mutation:
    area: str
    what: str  # the bug it imitates
    module: str  # path of the file inside the repository
    old: str  # must occur exactly once in the file
    new: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation("project", "the update log skips the append (the INSERT writes nothing)",
             "imagestudio_nb/project/ylog.py",
             "cursor = db.execute(\"INSERT INTO updates (time, user, origin, kind, data) VALUES (?, ?, ?, 'update', ?)\",",
             "cursor = db.execute(\"SELECT ?, ?, ?, ?\",",
             ("tests/project/test_saving.py", "tests/project/test_project.py")),
    Mutation("project", "merge: an inverted comparison when restoring the layers' order",
             "imagestudio_nb/project/merge.py",
             "if rank[a] > rank[b]:", "if rank[a] < rank[b]:",
             ("tests/project/test_merge.py",)),
    Mutation("providers", "the Azure OpenAI request body drops `n`",
             "imagestudio_nb/providers/azure_openai.py",
             '"prompt": request.prompt, "n": request.n,', '"prompt": request.prompt,',
             ("tests/providers/test_azure_wire.py",)),
    Mutation("cloud", "verify trusts a local copy without checking its hash",
             "imagestudio_nb/cloud/verify.py",
             "return data if sha256_hex(data) == digest else None", "return data",
             ("tests/cloud/test_verify_negative.py",)),
    Mutation("filters", "sepia: one coefficient with transposed digits (0.394 for 0.349)",
             "imagestudio_nb/imaging/filters/vintage.py",
             "[0.349 - 0.349 * r,", "[0.349 - 0.394 * r,",
             ("tests/imaging/test_filters_colour.py",)),
    Mutation("background", "remove_background skips the guided refinement (returns the coarse matte)",
             "imagestudio_nb/imaging/background/removal.py",
             "return refine_mod.refine_guided(rgb, coarse)", "return coarse.astype(np.float32)",
             ("tests/background/test_refine.py", "tests/background/test_segmentation.py")),
    Mutation("widgets", "the document relay sends an update back to its source instead of the other views",
             "imagestudio_nb/widgets/docsync.py",
             "if view is not self._source:", "if view is self._source:",
             ("tests/widgets/test_canvas.py",)),
)


def _copy_repo(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    for name in LINKED:
        if (REPO / name).exists():
            (target / name).symlink_to(REPO / name, target_is_directory=True)


def _mutate(root: Path, mutation: Mutation) -> None:
    path = root / mutation.module
    text = path.read_text()
    found = text.count(mutation.old)
    if found != 1:
        raise SystemExit(f"{mutation.module}: {mutation.old!r} occurs {found} times, not once; update the mutation")
    path.write_text(text.replace(mutation.old, mutation.new))


def _imports_from(root: Path, env: dict, module: str) -> Path:
    """Where the test run will import ``module`` from (must be the mutated copy)."""
    dotted = module.removesuffix(".py").replace("/", ".")
    done = subprocess.run([sys.executable, "-c", f"import importlib; print(importlib.import_module({dotted!r}).__file__)"], cwd=root, env=env,
                          capture_output=True, text=True, check=True)
    return Path(done.stdout.strip())


def _pytest(root: Path, env: dict, tests: tuple[str, ...]) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", *tests, "-x", "-q", "-p", "no:cacheprovider",
                           "-m", "not browser"], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    out = done.stdout
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", out, flags=re.M)
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|errors?)\b", out)}
    why = next((line[1:].strip() for line in out.splitlines() if line.startswith("E ")), "")
    return {"failed": counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0),
            "passed": counts.get("passed", 0), "first": failed[:2], "why": why[:160], "seconds": seconds,
            "returncode": done.returncode, "tail": out[-1500:]}


def run(mutation: Mutation) -> dict:
    """Run the tests on an intact copy (they must pass), then on the same copy with the mutation."""
    with tempfile.TemporaryDirectory(prefix="mutation-") as folder:
        root = Path(folder)
        _copy_repo(root)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
        imported = _imports_from(root, env, mutation.module)
        if root not in imported.parents:
            raise SystemExit(f"the tests would import {imported}, not the copy")
        baseline = _pytest(root, env, mutation.tests)
        if baseline["failed"] or baseline["returncode"] != 0:
            raise SystemExit(f"{mutation.tests} fail without the mutation:\n{baseline['tail']}")
        _mutate(root, mutation)
        return {**_pytest(root, env, mutation.tests), "baseline_passed": baseline["passed"]}


def main() -> None:
    print(f"load average at start: {os.getloadavg()}")
    rows = []
    for mutation in MUTATIONS:
        result = run(mutation)
        caught = result["failed"] > 0
        if not caught and result["returncode"] not in (0, 1):
            print(result["tail"])
        verdict = "CAUGHT" if caught else "SURVIVED"
        print(f"[{verdict}] {mutation.area}: {mutation.what}\n"
              f"    {mutation.module}: {mutation.old!r} -> {mutation.new!r}\n"
              f"    ran {', '.join(mutation.tests)} (-x): {result['failed']} failed, {result['passed']} passed "
              f"before stopping ({result['baseline_passed']} passed unmutated), {result['seconds']:.0f} s; "
              f"first failing: {', '.join(result['first']) or '-'}\n    why: {result['why'] or '-'}",
              flush=True)
        rows.append((mutation, result, verdict))
    print(f"load average at end: {os.getloadavg()}")
    print("\n| area | mutation | tests run | result | first failing test |\n|---|---|---|---|---|")
    for mutation, result, verdict in rows:
        tests = ", ".join(f"`{Path(t).name}`" for t in mutation.tests)
        first = ", ".join(f"`{name.split('::', 1)[-1]}`" for name in result["first"]) or "none"
        print(f"| {mutation.area} | {mutation.what} | {tests} | {verdict}: {result['failed']} failed, "
              f"{result['passed']} passed (-x) | {first} |")


if __name__ == "__main__":
    main()
