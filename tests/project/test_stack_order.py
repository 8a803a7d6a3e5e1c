"""A layer's place in the stack is a number (z): moving a layer changes one field, so what others add to the
layer at the same moment is kept (a move by delete and insert lost it)."""

from __future__ import annotations

from pycrdt import Array, Doc

from imagestudio_nb.project import Project
from imagestudio_nb.project.document import in_stack_order

STROKE = {"tool": "brush", "size": 4, "color": "#ff0000", "opacity": 1.0, "hardness": 1.0, "points": [1, 1, 9, 9]}


def test_a_stroke_added_while_another_client_moves_the_layer_is_kept(workspace):
    project = Project.create("Moves", width=16, height=16)
    a, b, c = (project.add_layer("paint", name=n) for n in "abc")
    # Another client (a browser in the room) holds the same state and paints on "a"...
    other = Doc()
    other.apply_update(project.doc.get_update())
    with other.transaction():
        layer = next(m for m in other.get("layers", type=Array) if m["id"] == a)
        layer["strokes"].append(dict(STROKE))
    # ...while this process moves "a" to the top; then each takes in the other's change.
    project.move_layer(a, 2)
    theirs = other.get_update(project.doc.get_state())
    other.apply_update(project.doc.get_update(other.get_state()))
    project.merge_update(theirs)
    assert [l["name"] for l in project.layers()] == ["b", "c", "a"]
    assert len(project.layer(a)["strokes"]) == 1
    assert [l["name"] for l in in_stack_order(other.get("layers", type=Array).to_py())] == ["b", "c", "a"]


def test_moves_and_inserts_keep_every_layer_once_in_the_asked_order(workspace):
    project = Project.create("Shuffle")
    ids = {n: project.add_layer("paint", name=n) for n in "abcde"}
    project.move_layer(ids["e"], 0)
    project.move_layer(ids["a"], 4)
    project.add_layer("paint", name="f", index=2)
    copy = project.duplicate_layer(ids["c"])
    assert [l["name"] for l in project.layers()] == ["e", "b", "f", "c", "c copy", "d", "a"]
    assert copy in [l["id"] for l in project.layers()]
    assert len(project.doc.get("layers", type=Array)) == 7  # nothing deleted and inserted again
    assert [l["name"] for l in Project.open("Shuffle").layers()] == ["e", "b", "f", "c", "c copy", "d", "a"]


def test_many_moves_between_the_same_neighbours_renumber_the_stack(workspace):
    project = Project.create("Squeeze")
    ids = [project.add_layer("paint", name=str(i)) for i in range(4)]
    for turn in range(80):  # halving the gap each time would run out of float precision without renumbering
        project.move_layer(ids[turn % 2 + 2], 1)
    names = [l["name"] for l in project.layers()]
    assert sorted(names) == ["0", "1", "2", "3"] and names[0] == "0"
    zs = [l["z"] for l in project.layers()]
    assert zs == sorted(zs) and min(b - a for a, b in zip(zs, zs[1:])) > 1e-7


def test_layers_a_client_added_without_a_place_sit_where_the_array_puts_them(workspace):
    project = Project.create("Legacy")
    project.add_layer("paint", name="bottom")
    other = Doc()
    other.apply_update(project.doc.get_update())
    from imagestudio_nb.project.document import layer_to_y, new_layer

    plain = new_layer("paint", name="from a plain Yjs client")  # no z, as any editor's client would add it
    with other.transaction():
        other.get("layers", type=Array).append(layer_to_y(plain))
    project.merge_update(other.get_update(project.doc.get_state()))
    project.add_layer("paint", name="top")
    assert [l["name"] for l in project.layers()] == ["bottom", "from a plain Yjs client", "top"]
