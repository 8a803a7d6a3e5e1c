"""Convergence: three processes apply random operations to one project at once; they end with equal
states that hold every acknowledged operation exactly once (and no removed layer).

Each worker is a real process with its own seeded generator. It records an operation only once the call
returned (the change is then in the log); an operation aimed at a layer another process removed meanwhile
raises ``NotFoundError`` and is not recorded. Workers wait for each other before their final ``refresh()``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

from imagestudio_nb.project import Project

from .conftest import start_python, state_in_fresh_process

_WORKER = """
    import json, random, sys, time
    from pathlib import Path
    from imagestudio_nb.errors import NotFoundError
    from imagestudio_nb.project import Project

    folder, me, seed, steps, barrier = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
    rng = random.Random(seed)
    project = Project.open(folder)
    acks = []
    for step in range(steps):
        layers = project.layers()
        op = rng.choice(["add", "add", "remove", "move", "update", "stroke", "comment"]) if layers else "add"
        target = rng.choice(layers)["id"] if layers else None
        token = f"{me}-{step}"
        try:
            if op == "add":
                acks.append(["add", project.add_layer("paint", name=token, index=rng.randrange(len(layers) + 1))])
            elif op == "remove":
                project.remove_layer(target)
                acks.append(["remove", target])
            elif op == "move":
                project.move_layer(target, rng.randrange(len(layers)))
                acks.append(["move", target])
            elif op == "update":
                project.update_layer(target, opacity=round(rng.random(), 3), name=token)
                acks.append(["update", target])
            elif op == "stroke":
                project.add_stroke(target, {"points": [step, step, step + 1, step + 1], "token": token})
                acks.append(["stroke", target, token])
            else:
                acks.append(["comment", project.add_comment(token)])
        except NotFoundError:
            pass
        time.sleep(rng.uniform(0.0, 0.03))
    (barrier / me).touch()
    deadline = time.monotonic() + 120
    while len(list(barrier.iterdir())) < 3:
        if time.monotonic() > deadline:
            sys.exit("another worker did not finish its operations")
        time.sleep(0.05)
    time.sleep(0.2)
    project.refresh()
    print(json.dumps({"acks": acks, "state": project.to_data()}, sort_keys=True))
"""

STEPS = 25


def _run_workers(folder, seed: int, tmp_path) -> list[dict]:
    barrier = tmp_path / f"barrier-{seed}"
    barrier.mkdir()
    workers = [start_python(_WORKER, str(folder), name, str(seed * 10 + i), str(STEPS), str(barrier))
               for i, name in enumerate(("a", "b", "c"))]
    outputs: dict[int, tuple[str, str]] = {}
    readers = [threading.Thread(target=lambda i=i, w=w: outputs.__setitem__(i, w.communicate()))
               for i, w in enumerate(workers)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 300
    while any(reader.is_alive() for reader in readers):
        # A worker that failed would keep the others waiting at the barrier: stop them.
        if any(w.returncode not in (None, 0) for w in workers) or time.monotonic() > deadline:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
        time.sleep(0.1)
    for i, worker in enumerate(workers):
        assert worker.returncode == 0, f"a worker exited {worker.returncode}:\n{outputs[i][1][-3000:]}"
    return [json.loads(outputs[i][0].strip().splitlines()[-1]) for i in range(len(workers))]



@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_three_processes_converge_with_every_acknowledged_operation_once(workspace, tmp_path, seed):
    project = Project.create(f"Converge{seed}")
    for i in range(3):
        project.add_layer("paint", name=f"base-{i}")
    project.close()
    outputs = _run_workers(project.path, seed, tmp_path)

    states = [output["state"] for output in outputs]
    assert states[0] == states[1] == states[2], "the three processes ended with different documents"
    assert state_in_fresh_process(project.path) == json.loads(json.dumps(states[0], sort_keys=True))

    acks = [ack for output in outputs for ack in output["acks"]]
    layers = Counter(layer["id"] for layer in states[0]["layers"])  # deleted ones too (soft delete)
    shown = {layer["id"] for layer in states[0]["layers"] if not layer.get("deleted")}
    removed = {ack[1] for ack in acks if ack[0] == "remove"}
    added = [ack[1] for ack in acks if ack[0] == "add"]
    assert all(count == 1 for count in layers.values()), f"layers doubled: {layers.most_common(3)}"
    assert not removed & shown, f"removed layers came back: {removed & shown}"
    assert removed <= set(layers), "a removed layer is no longer restorable"
    assert len(added) >= 10
    missing = [layer for layer in added if layer not in removed and layer not in layers]
    assert not missing, f"acknowledged layers lost: {missing}"
    comments = Counter(comment["text"] for comment in states[0]["comments"])
    assert sorted(ack[1] for ack in acks if ack[0] == "comment") == \
        sorted(comment["id"] for comment in states[0]["comments"])
    assert all(count == 1 for count in comments.values())
    tokens = Counter(stroke["token"] for layer in states[0]["layers"] for stroke in layer["strokes"])
    for _, layer, token in (ack for ack in acks if ack[0] == "stroke"):  # kept on deleted layers too
        assert tokens[token] == 1, f"acknowledged stroke {token} on layer {layer} found {tokens[token]} times"


# --- the same races, made deterministic: two processes in lockstep -----------------------------------

def _names(state: dict) -> list[str]:
    return [layer["name"] for layer in state["layers"] if not layer.get("deleted")]


def test_removing_a_layer_after_another_process_inserted_below_it_removes_that_layer(workspace, drivers):
    project = Project.create("StaleRemove")
    target = project.add_layer("paint", name="A")
    project.close()
    first, second = drivers(project.path), drivers(project.path)
    second('project.add_layer("paint", name="B", index=0)')  # first has not looked since: it holds [A]
    first(f'project.remove_layer("{target}")')
    assert _names(state_in_fresh_process(project.path)) == ["B"]


def test_moving_a_layer_another_process_just_moved_keeps_every_layer_once(workspace, drivers):
    project = Project.create("StaleMove")
    ids = [project.add_layer("paint", name=name) for name in "ABC"]
    project.close()
    first, second = drivers(project.path), drivers(project.path)
    second(f'project.move_layer("{ids[0]}", 2)')  # [B, C, A]; first still holds [A, B, C]
    first(f'project.move_layer("{ids[0]}", 1)')
    assert sorted(_names(state_in_fresh_process(project.path))) == ["A", "B", "C"]


def test_moving_a_layer_keeps_a_stroke_another_process_just_added_to_it(workspace, drivers):
    project = Project.create("MoveStroke")
    ids = [project.add_layer("paint", name=name) for name in "AB"]
    project.close()
    first, second = drivers(project.path), drivers(project.path)
    second(f'project.add_stroke("{ids[0]}", {{"points": [1, 2, 3, 4]}})')  # first has not seen the stroke
    first(f'project.move_layer("{ids[0]}", 1)')
    layers = state_in_fresh_process(project.path)["layers"]
    assert [layer["name"] for layer in layers] == ["B", "A"]
    assert layers[1]["strokes"] == [{"points": [1, 2, 3, 4]}]


def test_the_lockstep_harness_sees_a_correct_removal_as_correct(workspace, drivers):
    # The control for the tests above: the same interleaving, with the removing process looking first.
    project = Project.create("FreshRemove")
    target = project.add_layer("paint", name="A")
    project.close()
    first, second = drivers(project.path), drivers(project.path)
    second('project.add_layer("paint", name="B", index=0)')
    assert first("project.refresh()") is True
    first(f'project.remove_layer("{target}")')
    assert _names(state_in_fresh_process(project.path)) == ["B"]
    assert first("[layer['name'] for layer in project.layers()]") == ["B"]
