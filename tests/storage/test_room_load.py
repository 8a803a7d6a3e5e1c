"""How the server's room document (``YIsproj``) loads the project file it is handed, in process."""

from __future__ import annotations

from imagestudio_nb.project import Project
from imagestudio_nb.project import ydoc as ydoc_module
from imagestudio_nb.project.document import doc_to_data
from imagestudio_nb.project.ydoc import YIsproj


def test_a_file_the_log_wrote_loads_from_the_log_unparsed_and_a_hand_edit_is_merged(workspace, monkeypatch):
    project = Project.create("Room")
    project.add_layer("paint", name="Ink")
    project.flush()
    text = (project.path / "project.isproj").read_text(encoding="utf-8")
    project.add_layer("paint", name="Later")  # in the log, not yet in the file
    monkeypatch.chdir(workspace)  # outside a server, room paths are relative to the working folder
    room = YIsproj()
    room.path = "Room/project.isproj"  # binding: the room learns the file's hash
    parsed = []
    real_loads = ydoc_module.loads_document
    monkeypatch.setattr(ydoc_module, "loads_document", lambda *a, **k: parsed.append(1) or real_loads(*a, **k))
    try:
        # The loader's throwaway document (no path) is handed the file, as jupyter-collaboration does.
        loader = YIsproj()
        loader.set(text)
        assert parsed == [] and [layer["name"] for layer in doc_to_data(loader.ydoc)["layers"]] == ["Ink", "Later"]

        edited = YIsproj()  # a file changed by hand is not the log's: parsed and merged field by field
        edited.set(text.replace('"Ink"', '"Inked"'))
        assert len(parsed) == 2  # the file, and the snapshot it is merged against
        assert [layer["name"] for layer in doc_to_data(edited.ydoc)["layers"]] == ["Inked", "Later"]
    finally:
        room._unbind()
