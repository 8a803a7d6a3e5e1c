"""Helpers of the storage tests: real child processes on a per-test workspace, and a small real tmpfs.

Every writer here is a separate Python process (or the ``imagestudio`` command), started with this
interpreter; the per-test workspace and config reach them through the environment that
``tests/conftest.py`` sets. Nothing is mocked: failures are real kills, real full disks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

PYTHON = sys.executable
CLI = str(Path(sys.executable).with_name("imagestudio"))


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment (the test's workspace and config included) plus ``extra``."""
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_python(code: str, *args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """Start ``code`` (dedented) in a fresh interpreter; stdout and stderr are pipes of text."""
    return subprocess.Popen([PYTHON, "-c", textwrap.dedent(code), *args], env=env or child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def run_python(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run ``code`` in a fresh interpreter and return its stdout; fails the test on a non-zero exit."""
    process = start_python(code, *args, env=env)
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"child exited {process.returncode}:\n{err[-3000:]}"
    return out


_READ_STATE = """
    import json, sys
    from imagestudio_nb.project import Project
    project = Project.open(sys.argv[1])
    data = project.to_data()
    print(json.dumps(data, sort_keys=True))
"""


def state_in_fresh_process(folder: Path) -> dict:
    """The project's document as a new process sees it after ``Project.open``."""
    return json.loads(run_python(_READ_STATE, str(folder)).strip().splitlines()[-1])


_SAVE_AND_READ_FILE = """
    import sys
    from imagestudio_nb.project import Project
    Project.open(sys.argv[1]).save()
    print(open(sys.argv[1] + "/project.isproj", encoding="utf-8").read())
"""


def saved_file_in_fresh_process(folder: Path) -> dict:
    """``project.isproj`` as written by ``Project.open(folder).save()`` in a new process."""
    return json.loads(run_python(_SAVE_AND_READ_FILE, str(folder)))


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MiB tmpfs, mounted for the test and unmounted after it (needs root, which CI has)."""
    mount_point = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"mounting a tmpfs needs root (run the storage tests as root, as CI does): "
                    f"{result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill_disk(folder: Path) -> Path:
    """Write zeros into ``folder`` until the filesystem refuses another byte; returns the ballast file."""
    ballast = folder / "ballast.bin"
    descriptor = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (1 << 16, 512, 1):  # big chunks first, then down to the last byte
            try:
                while os.write(descriptor, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(descriptor)
    return ballast


_DRIVER = """
    import json, sys, traceback
    from imagestudio_nb.project import Project
    project = Project.open(sys.argv[1])
    print(json.dumps({"ok": True}), flush=True)
    for line in sys.stdin:
        try:
            result = eval(line, {"project": project, "Project": Project})
            print(json.dumps({"ok": True, "result": result}), flush=True)
        except Exception as exc:
            print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
"""


class Driver:
    """A child process holding ``Project.open(folder)`` that evaluates one expression at a time, in lockstep
    with the test: the way to make two processes interleave exactly as a test needs."""

    def __init__(self, folder: Path, **env: str):
        self.process = subprocess.Popen([PYTHON, "-c", textwrap.dedent(_DRIVER), str(folder)],
                                        env=child_env(**env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self._answer()

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the driver died: {self.process.stderr.read()[-3000:]}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise AssertionError(answer["error"])
        return answer.get("result")

    def __call__(self, expression: str):
        """Evaluate ``expression`` (with ``project`` bound) in the child and return its JSON result."""
        self.process.stdin.write(expression.replace("\n", " ") + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture
def drivers():
    """Start :class:`Driver` children with ``drivers(folder)``; all are closed after the test."""
    started: list[Driver] = []

    def start(folder: Path, **env: str) -> Driver:
        started.append(Driver(folder, **env))
        return started[-1]

    yield start
    for driver in started:
        driver.close()
