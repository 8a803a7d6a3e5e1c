"""Several real processes writing one project at once: nothing lost, nothing doubled, every exit code 0."""

from __future__ import annotations

import subprocess
import threading
from collections import Counter

import pytest

from imagestudio_nb.project import Project

from .conftest import CLI, child_env, saved_file_in_fresh_process, start_python, state_in_fresh_process

ROUNDS = 15


def _generation_keys(data: dict) -> Counter:
    return Counter((g["request"]["prompt"], g["request"]["seed"]) for g in data["generations"])


def _cli_loop(prompt: str, codes: list[int], errors: list[str]) -> None:
    for seed in range(ROUNDS):
        done = subprocess.run([CLI, "generate", prompt, "--model", "local", "--seed", str(seed), "--size", "256x256",
                               "--project", "Shared"], env=child_env(), capture_output=True, text=True, timeout=300)
        codes.append(done.returncode)
        if done.returncode:
            errors.append(done.stderr[-2000:])


_PYTHON_GENERATOR = """
    import sys
    import imagestudio_nb
    for seed in range(int(sys.argv[2])):
        imagestudio_nb.generate(sys.argv[1], model="local", size="256x256", seed=seed, project="Shared",
                                progress=False)
"""


@pytest.mark.slow
def test_two_cli_loops_and_a_python_process_keep_all_45_generations(workspace):
    Project.create("Shared", width=256, height=256)
    codes: dict[str, list[int]] = {"cli-a": [], "cli-b": []}
    errors: list[str] = []
    writer = start_python(_PYTHON_GENERATOR, "python writer", str(ROUNDS))
    loops = [threading.Thread(target=_cli_loop, args=(f"{name} loop", codes[name], errors)) for name in codes]
    for loop in loops:
        loop.start()
    _, writer_err = writer.communicate(timeout=600)
    for loop in loops:
        loop.join(timeout=600)
    assert writer.returncode == 0, writer_err[-3000:]
    assert not errors, errors
    assert codes == {"cli-a": [0] * ROUNDS, "cli-b": [0] * ROUNDS}

    expected = Counter({(prompt, seed): 1 for prompt in ("cli-a loop", "cli-b loop", "python writer")
                        for seed in range(ROUNDS)})
    opened = state_in_fresh_process(Project.open("Shared").path)
    assert len(opened["generations"]) == 45
    assert _generation_keys(opened) == expected
    saved = saved_file_in_fresh_process(Project.open("Shared").path)
    assert _generation_keys(saved) == expected
    # Each generation's image reached the project's assets as well.
    referenced = {digest for g in saved["generations"] for digest in g["assets"]}
    assert len(referenced) == 45 and referenced <= set(saved["assets"])


_LAYER_WRITER = """
    import random, sys, time
    from imagestudio_nb.project import Project
    project = Project.open("Kernels")
    rng = random.Random(sys.argv[1])
    for i in range(20):
        project.add_layer("paint", name=f"{sys.argv[1]}-{i}")
        time.sleep(rng.uniform(0.1, 0.3))
"""


@pytest.mark.slow
def test_two_python_processes_adding_layers_keep_all_40(workspace):
    Project.create("Kernels")
    writers = [start_python(_LAYER_WRITER, name) for name in ("first", "second")]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err[-3000:]
    expected = sorted(f"{name}-{i}" for name in ("first", "second") for i in range(20))
    folder = Project.open("Kernels").path
    opened = state_in_fresh_process(folder)
    assert sorted(layer["name"] for layer in opened["layers"]) == expected
    assert len({layer["id"] for layer in opened["layers"]}) == 40
    saved = saved_file_in_fresh_process(folder)
    assert sorted(layer["name"] for layer in saved["layers"]) == expected
    # Each writer's own layers keep the order it added them in.
    for name in ("first", "second"):
        own = [layer["name"] for layer in saved["layers"] if layer["name"].startswith(name)]
        assert own == [f"{name}-{i}" for i in range(20)]


_STROKE_WRITER = """
    import sys
    from imagestudio_nb.project import Project
    project = Project.open(sys.argv[1])
    layer = project.add_layer("paint", name=sys.argv[2])
    for i in range(int(sys.argv[3])):
        project.add_stroke(layer, {"points": [i, i, i + 1, i + 1], "token": f"{sys.argv[2]}-{i}"})
"""


def test_three_fast_stroke_writers_keep_each_stroke_once_in_its_layer(workspace):
    from imagestudio_nb.project.ylog import UpdateLog

    folder = Project.create("Strokes").path
    writers = [start_python(_STROKE_WRITER, str(folder), name, "400") for name in ("w0", "w1", "w2")]
    for writer in writers:
        _, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err[-3000:]
    state = state_in_fresh_process(folder)
    for layer in state["layers"]:
        tokens = [stroke["token"] for stroke in layer["strokes"]]
        assert Counter(tokens) == Counter(f"{layer['name']}-{i}" for i in range(400)), \
            f"{layer['name']}: {len(tokens)} strokes, {len(set(tokens))} distinct"
    log = UpdateLog(folder, create=False)
    try:  # no process took another's snapshot of the log for a hand edit of the file
        assert [row.seq for row in log.rows() if row.origin == "file"] == []
    finally:
        log.close()
