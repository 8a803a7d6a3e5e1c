"""A kernel holding a project takes in other processes' changes between cells, without being asked.

A real IPython kernel (jupyter_client) opens a project; another process adds layers; without any read
through the Project API, the kernel's document (which its widgets show) has them within a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager

import pytest
from jupyter_client.manager import start_new_kernel

pytestmark = pytest.mark.slow


outputs: list = []


def _run(client, code: str) -> str:
    reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: outputs.append(msg))
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")


@contextmanager
def _kernel_holding(folder, poll_seconds: str):
    """A real IPython kernel with ``p`` open on ``folder`` and ``raw()`` counting layers without a refresh."""
    manager, client = start_new_kernel(kernel_name="python3",
                                       env={**os.environ, "IMAGESTUDIO_POLL_SECONDS": poll_seconds})
    try:
        _run(client, textwrap.dedent(f"""
            from pycrdt import Array
            from imagestudio_nb.project import Project
            p = Project.open({str(folder)!r})
            raw = lambda: len(p.doc.get("layers", type=Array))  # the document itself, no refresh
        """))
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _add_layers_elsewhere(folder, count: int) -> None:
    subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        from imagestudio_nb.project import Project
        q = Project.open({str(folder)!r})
        for i in range({count}):
            q.add_layer("paint", name=f"from outside {{i}}")
    """)], check=True, timeout=120)


def test_a_kernel_merges_other_processes_rows_between_cells(workspace):
    from imagestudio_nb.project import Project

    project = Project.create("Polled")
    project.close()
    with _kernel_holding(project.path, "0.2") as client:
        _add_layers_elsewhere(project.path, 3)
        deadline = time.monotonic() + 15
        seen = "0"
        while time.monotonic() < deadline:
            outputs.clear()
            seen = _run(client, "print(raw())").strip()
            if seen == "3":
                break
            time.sleep(0.3)
        assert seen == "3"


def test_without_polling_the_document_waits_for_a_read(workspace):
    from imagestudio_nb.project import Project

    project = Project.create("Unpolled")
    project.close()
    with _kernel_holding(project.path, "0") as client:
        _add_layers_elsewhere(project.path, 1)
        time.sleep(1.5)
        outputs.clear()
        assert _run(client, "print(raw())").strip() == "0"
        outputs.clear()
        assert _run(client, "print(len(p.layers()), raw())").strip() == "1 1"  # a read takes it in
