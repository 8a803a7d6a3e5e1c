"""Every kind of client edits one project at once, and they all end with the same document.

A real JupyterLab with jupyter-collaboration; three plain Yjs clients in node (yjs + y-websocket, as three
users) adding layers and strokes in the project's room; a kernel-like Python process holding ``Project``
(writing through the update log) adding layers and strokes and deleting one of its layers; and the CLI
(``imagestudio project merge`` of a suggestion with layers of its own, ``imagestudio layer add``, ``remove``
and ``move``, ``imagestudio project comment``), all at the same time. Every party must end with the same
layers, in the same order, with the same strokes in the same order, and exactly what was made: nothing
lost, nothing doubled. So must the room's file on disk and a fresh ``Project.open``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from imagestudio_nb.collab import open_collaboration_session
from imagestudio_nb.project import Project
from tests.collab.conftest import USERS

pytestmark = pytest.mark.slow

NODE_PARTIES = {"A": ("bo", 10000), "B": ("cy", 20000), "C": ("dee", 30000)}  # party: (user, first stroke id)
KERNEL_FIRST_ID, FORK_FIRST_ID = 40000, 50000
LAYERS_EACH, STROKES_EACH, FORK_LAYERS, COMMENTS, CLI_LAYERS = 5, 20, 3, 4, 2
PAUSE = 0.4  # seconds between a party's edits: the node clients and the kernel edit for about 10 s
NAME = "Converge"

# What was made: the base layer, each party's layers (two strokes each) and its strokes on the base layer,
# the suggestion's layers (two strokes each), the CLI's layers and comments; one kernel layer and one CLI
# layer are deleted (softly).
EXPECTED = {
    "layers": 1 + (len(NODE_PARTIES) + 1) * LAYERS_EACH + FORK_LAYERS + CLI_LAYERS,
    "strokes": (len(NODE_PARTIES) + 1) * (STROKES_EACH + 2 * LAYERS_EACH) + 2 * FORK_LAYERS,
    "comments": COMMENTS,
    "deleted": 2,
}


def state_of(layers: list[dict], comments: list[dict]) -> dict:
    """What every party must agree on (the same shape the node client prints)."""
    return {"layers": [[layer["name"], bool(layer.get("deleted")),
                        [round(stroke["points"][0]) for stroke in layer.get("strokes") or []]] for layer in layers],
            "comments": [comment["text"] for comment in comments]}


def counts_of(state: dict) -> dict:
    return {"layers": len(state["layers"]), "strokes": sum(len(layer[2]) for layer in state["layers"]),
            "comments": len(state["comments"]), "deleted": sum(layer[1] for layer in state["layers"])}


def stroke(first: int) -> dict:
    return {"tool": "brush", "size": 6, "color": "#d1242f", "points": [first, 10, first + 3, 14, first + 6, 20]}


def kernel_party(folder: str, start_at: float) -> None:
    """The kernel: a Python process holding the project, writing through the log while the others edit."""
    project = Project.open(folder)
    time.sleep(max(0.0, start_at - time.time()))
    first_edit = time.time()
    base = next(layer["id"] for layer in project.layers() if layer["name"] == "base")
    next_id, mine = KERNEL_FIRST_ID, []
    every = STROKES_EACH // LAYERS_EACH
    for i in range(STROKES_EACH):
        project.add_stroke(base, stroke(next_id))
        next_id += 1
        if i % every == every - 1:
            mine.append(project.add_layer("paint", name=f"K-L{len(mine)}"))
            for _ in range(2):
                project.add_stroke(mine[-1], stroke(next_id))
                next_id += 1
        time.sleep(PAUSE)
    project.remove_layer(mine[0])
    last_edit = time.time()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        project.refresh()
        state = state_of(project.layers(include_deleted=True), project.to_data()["comments"])
        if all(counts_of(state)[key] >= value for key, value in EXPECTED.items()):
            break
        time.sleep(0.1)
    time.sleep(1.5)  # anything doubled or late arrives too
    project.refresh()
    print(json.dumps({"state": state_of(project.layers(include_deleted=True), project.to_data()["comments"]),
                      "edits": [first_edit * 1000, last_edit * 1000]}))


def _environment(root: Path) -> dict[str, str]:
    repository = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "IMAGESTUDIO_USER": "ana", "IMAGESTUDIO_WORKSPACE": str(root),
            "PYTHONPATH": os.pathsep.join([repository, os.environ.get("PYTHONPATH", "")])}


def _cli(root: Path, *args: str) -> str:
    done = subprocess.run([str(Path(sys.executable).with_name("imagestudio")), *args], capture_output=True,
                          text=True, timeout=180, env=_environment(root))
    assert done.returncode == 0, f"imagestudio {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


def test_node_clients_a_kernel_and_the_cli_converge_with_nothing_lost_or_doubled(multiuser_lab, node_client,
                                                                                 monkeypatch):
    root = multiuser_lab.root
    for key, value in _environment(root).items():
        monkeypatch.setenv(key, value)
    project = Project.create(NAME, workspace=root)
    project.add_layer("paint", name="base")
    for user, _ in NODE_PARTIES.values():
        project.set_role(user, "editor")
    project.close()
    _cli(root, "project", "suggest", NAME, f"{NAME} fork")
    fork = Project.open(f"{NAME} fork")
    for i in range(FORK_LAYERS):
        layer = fork.add_layer("paint", name=f"F-L{i}")
        fork.add_stroke(layer, stroke(FORK_FIRST_ID + 2 * i))
        fork.add_stroke(layer, stroke(FORK_FIRST_ID + 2 * i + 1))
    fork.close()
    path = f"{project.path.name}/project.isproj"

    base = multiuser_lab.url.replace("http://", "ws://") + "/api/collaboration/room"
    start_at = time.time() + 6  # node clients have joined and the kernel has opened the project by then
    nodes = {}
    for party, (user, first_id) in NODE_PARTIES.items():
        session = open_collaboration_session(multiuser_lab.url, path, token=USERS[user])
        script = {"party": party, "layers": LAYERS_EACH, "strokes": STROKES_EACH, "first_id": first_id,
                  "pause_ms": PAUSE * 1000, "expect": EXPECTED, "timeout_ms": 180000,
                  "start_at": start_at * 1000}
        nodes[party] = subprocess.Popen(["node", str(node_client.with_name("edit_client.mjs")), base, session.room,
                                         session.session_id, USERS[user], json.dumps(script)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kernel = subprocess.Popen([sys.executable, "-m", "tests.collab.test_convergence_clients", str(project.path),
                               str(start_at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_environment(root))
    cli_runs: list[tuple[float, float]] = []

    def cli_party():
        time.sleep(max(0.0, start_at - time.time()))
        # A suggestion's layers merged, layers added and one deleted, a layer nobody else edits moved.
        commands = [["layer", "add", NAME, "--name", "CLI-L0"], ["project", "merge", NAME, f"{NAME} fork"],
                    *(["layer", "add", NAME, "--name", f"CLI-L{i}"] for i in range(1, CLI_LAYERS)),
                    ["layer", "remove", NAME, "CLI-L1"], ["layer", "move", NAME, "F-L0", "0"],
                    *(["project", "comment", NAME, f"cli-{i}"] for i in range(COMMENTS))]
        for command in commands:
            if command[:2] in (["layer", "remove"], ["layer", "move"]):  # by id: ask the CLI for it
                listed = json.loads(_cli(root, "layer", "list", NAME, "--json"))
                rows = listed["layers"] if isinstance(listed, dict) else listed
                command[3] = next(row["id"] for row in rows if row["name"] == command[3])
            started = time.time()
            _cli(root, *command)
            cli_runs.append((started * 1000, time.time() * 1000))

    cli = threading.Thread(target=cli_party)
    cli.start()

    finals, windows = {}, {}
    for party, process in nodes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        answer = json.loads(out.strip().splitlines()[-1])
        assert answer["denials"] == [], answer["denials"]
        finals[f"node {party}"], windows[f"node {party}"] = answer["state"], answer["edits"]
    out, err = kernel.communicate(timeout=300)
    assert kernel.returncode == 0, err[-3000:]
    answer = json.loads(out.strip().splitlines()[-1])
    finals["kernel"], windows["kernel"] = answer["state"], answer["edits"]
    cli.join(300)
    assert len(cli_runs) == COMMENTS + CLI_LAYERS + 3
    # All at once: the CLI added a layer and merged the suggestion while every other party was editing.
    for cli_started, cli_ended in cli_runs[:2]:
        for party, (first, last) in windows.items():
            assert first < cli_ended and cli_started < last, (party, windows, cli_runs)

    reopened = Project.open(project.path)
    finals["Project.open"] = state_of(reopened.layers(include_deleted=True), reopened.to_data()["comments"])
    deadline = time.monotonic() + 60  # the room writes its file after a quiet spell
    while time.monotonic() < deadline:
        on_disk = json.loads((project.path / "project.isproj").read_text())
        finals["room's file"] = state_of(on_disk["layers"], on_disk["comments"])
        if finals["room's file"] == finals["Project.open"]:
            break
        time.sleep(0.5)

    layer_names = ["base", *(f"{p}-L{i}" for p in [*NODE_PARTIES, "K"] for i in range(LAYERS_EACH)),
                   *(f"F-L{i}" for i in range(FORK_LAYERS)), *(f"CLI-L{i}" for i in range(CLI_LAYERS))]
    stroke_ids = [first + i for first in [*(f for _, f in NODE_PARTIES.values()), KERNEL_FIRST_ID]
                  for i in range(STROKES_EACH + 2 * LAYERS_EACH)]
    stroke_ids += [FORK_FIRST_ID + i for i in range(2 * FORK_LAYERS)]
    assert convergence_problems(finals, layer_names, stroke_ids) == []
    reference = finals["Project.open"]
    assert counts_of(reference) == EXPECTED
    assert sorted(layer[0] for layer in reference["layers"] if layer[1]) == ["CLI-L1", "K-L0"]
    assert reference["layers"][0][0] == "F-L0"  # moved to the bottom by the CLI
    assert sorted(reference["comments"]) == [f"cli-{i}" for i in range(COMMENTS)]
    # Each party's own strokes stay in the order it made them, on the base layer too.
    base_strokes = next(layer[2] for layer in reference["layers"] if layer[0] == "base")
    for first in [*(f for _, f in NODE_PARTIES.values()), KERNEL_FIRST_ID]:
        own = [sid for sid in base_strokes if first <= sid < first + 10000]
        assert own == sorted(own) and len(own) == STROKES_EACH
    print("converged:", {party: counts_of(state) for party, state in finals.items()})
    shown = [*windows.items(), ("cli", (cli_runs[0][0], cli_runs[-1][1])), ("cli add", cli_runs[0]),
             ("cli merge", cli_runs[1])]
    print("edit windows (s from the start):",
          {party: [round((t - start_at * 1000) / 1000, 2) for t in window] for party, window in shown})


def convergence_problems(finals: dict[str, dict], layer_names: list[str], stroke_ids: list[int]) -> list[str]:
    """What keeps ``finals`` (party: state) from being one document holding exactly what was made."""
    reference = finals["Project.open"]
    problems = [f"{party} differs from Project.open" for party, state in finals.items() if state != reference]
    for what, made, found in (("layer", layer_names, [layer[0] for layer in reference["layers"]]),
                              ("stroke", stroke_ids, [sid for layer in reference["layers"] for sid in layer[2]])):
        made_count, found_count = Counter(made), Counter(found)
        problems += [f"{what} {key} lost" for key in made_count - found_count]
        problems += [f"{what} {key} doubled" for key, n in found_count.items() if n > 1 and made_count[key] == 1]
        problems += [f"{what} {key} was never made" for key in found_count if key not in made_count]
    return problems


def test_a_client_that_doubles_a_stroke_is_caught_though_every_party_agrees(lab, node_client, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_USER", "ana")
    project = Project.create("Doubled", workspace=lab.root)
    project.add_layer("paint", name="base")
    project.close()
    session = open_collaboration_session(lab.url, "Doubled/project.isproj", token=lab.token)
    script = {"party": "A", "layers": 1, "strokes": 3, "first_id": 10000, "pause_ms": 30, "double_last": True,
              "expect": {"layers": 2, "strokes": 6}, "timeout_ms": 60000}
    done = subprocess.run(["node", str(node_client.with_name("edit_client.mjs")),
                           lab.url.replace("http://", "ws://") + "/api/collaboration/room", session.room,
                           session.session_id, lab.token, json.dumps(script)], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    finals = {"node A": json.loads(done.stdout.strip().splitlines()[-1])["state"]}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the room's updates reach the log within a fraction of a second
        reopened = Project.open(project.path)
        finals["Project.open"] = state_of(reopened.layers(include_deleted=True), reopened.to_data()["comments"])
        if finals["Project.open"] == finals["node A"]:
            break
        time.sleep(0.3)
    problems = convergence_problems(finals, ["base", "A-L0"], list(range(10000, 10005)))
    assert problems == ["stroke 10002 doubled"], problems

if __name__ == "__main__":
    kernel_party(sys.argv[1], float(sys.argv[2]))
