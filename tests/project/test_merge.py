"""The update log keeps one history, so copies edited apart merge without loss."""

from __future__ import annotations

import shutil

from pycrdt import Array, Doc

from imagestudio_nb.project import Project
from imagestudio_nb.project.ylog import read_state


def test_two_copies_edited_apart_merge_without_loss_or_duplicates(workspace):
    original = Project.create("Merge")
    shared = original.add_layer("paint", name="Shared")
    original.save()  # the copy is made behind the API's back: put everything on disk first
    shutil.copytree(original.path, workspace / "Merge copy")
    copy = Project.open("Merge copy")

    original.add_layer("text", name="Only here")
    copy.update_layer(shared, opacity=0.3)
    copy.add_comment("from the other machine")

    original.merge_update(copy.doc.get_update(original.doc.get_state()))
    merged = Project.open("Merge")
    assert [layer["name"] for layer in merged.layers()] == ["Shared", "Only here"]
    assert merged.layer(shared)["opacity"] == 0.3
    assert [c["text"] for c in merged.comments()] == ["from the other machine"]


def test_json_edited_elsewhere_is_applied_on_top_of_the_saved_history(workspace):
    project = Project.create("Edited")
    kept = project.add_layer("paint", name="Kept")
    project.save()
    path = project.path / "project.isproj"
    path.write_text(path.read_text().replace('"Kept"', '"Renamed by an editor"'))
    del project
    import gc

    gc.collect()
    reopened = Project.open("Edited")
    assert [layer["name"] for layer in reopened.layers()] == ["Renamed by an editor"]
    reopened.save()
    fresh = Doc()
    fresh.apply_update(read_state(reopened.path))
    # The state kept in the log is the same history with the editor's change on top (same layer id, new name)
    assert fresh.get("layers", type=Array).to_py() == reopened.doc.get("layers", type=Array).to_py()
    assert [(layer["id"], layer["name"]) for layer in fresh.get("layers", type=Array).to_py()] == \
        [(kept, "Renamed by an editor")]


def test_a_file_that_reorders_layers_is_merged_in_the_files_order(workspace):
    # The mutation script found that inverting the order repair in merge.py failed no test.
    from imagestudio_nb.project.document import new_doc
    from imagestudio_nb.project.document import in_stack_order
    from imagestudio_nb.project.merge import merge_data

    project = Project.create("Order")
    ids = [project.add_layer("paint", name=name) for name in "ABCD"]
    data = project.to_data()
    doc = new_doc(data)
    reordered = {**data, "layers": [data["layers"][i] for i in (2, 0, 3, 1)]}  # C A D B
    assert merge_data(doc, reordered)
    stack = in_stack_order(doc.get("layers", type=Array).to_py())
    assert [layer["name"] for layer in stack] == ["C", "A", "D", "B"]
    assert [layer["id"] for layer in stack] == [ids[i] for i in (2, 0, 3, 1)]
    # By their places: no layer was deleted and inserted again (that loses what others add to it meanwhile).
    assert [layer["id"] for layer in doc.get("layers", type=Array).to_py()] == ids
    assert not merge_data(doc, reordered)  # merging the same file again changes nothing


def test_merging_many_layers_reads_ids_not_whole_layers(monkeypatch):
    """Loading a 500-layer file into an empty room took 20 s: every insert converted every layer, strokes and
    all, to Python to find ids. Counted, not timed: the layers' conversions must not grow with their square."""
    from pycrdt import Map

    from imagestudio_nb.project.document import doc_to_data, new_document_data
    from imagestudio_nb.project.merge import merge_data

    data = new_document_data("Many")
    data["layers"] = [{"id": f"L{i}", "kind": "paint", "name": f"Layer {i}", "z": float(i),
                       "strokes": [{"tool": "brush", "size": 5, "color": "#333333", "points": [i, 1, i + 9, 7]}]}
                      for i in range(200)]
    conversions = [0]
    to_py = Map.to_py

    def counted(self):
        conversions[0] += 1
        return to_py(self)
    monkeypatch.setattr(Map, "to_py", counted)
    doc = Doc()
    assert merge_data(doc, data, origin="load")
    merged = conversions[0]
    monkeypatch.setattr(Map, "to_py", to_py)
    assert [layer["id"] for layer in doc_to_data(doc)["layers"]] == [f"L{i}" for i in range(200)]
    assert merged < 200, merged  # was 200 * 201 (each layer, at each insert), and as often again for positions
