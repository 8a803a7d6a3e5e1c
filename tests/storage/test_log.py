"""The update log's own behaviour: keyframes, compaction, catching up across a compaction, rows' labels."""

from __future__ import annotations

import json

from pycrdt import Doc

from imagestudio_nb.project import Project
from imagestudio_nb.project.document import doc_to_data
from imagestudio_nb.project.ylog import LOG_NAME, UpdateLog, read_state

from .conftest import CLI, child_env, run_python, state_in_fresh_process

_STROKES = """
    import sys
    from imagestudio_nb.project import Project
    project = Project.open(sys.argv[1])
    layer = sys.argv[3] if len(sys.argv) > 3 else project.add_layer("paint", name="ink")
    for i in range(int(sys.argv[2])):
        project.add_stroke(layer, {"points": [i, i + 1, i + 2, i + 3], "color": "#123456", "width": 3})
    project.save()
    print(layer)
"""


def _rows(folder, kinds):
    log = UpdateLog(folder, create=False)
    try:
        return log.rows(kinds=kinds)
    finally:
        log.close()


def _doc_from_state(state: bytes) -> Doc:
    doc = Doc()
    doc.apply_update(state)
    return doc


def _missing_from(doc: Doc, other: Doc) -> int:
    """Bytes of the update ``doc`` would need from ``other`` (0: it holds all of ``other``'s items).

    Only for documents without deletions: a delete set travels in every update.
    """
    return len(other.get_update(doc.get_state())) - len(Doc().get_update())


def test_keyframes_appear_after_the_configured_number_of_updates(workspace):
    folder = Project.create("Keys").path
    assert len(_rows(folder, ("keyframe",))) == 1  # the one `create` writes
    run_python(_STROKES, str(folder), "45", env=child_env(IMAGESTUDIO_KEYFRAME_EVERY="10"))
    keyframes = _rows(folder, ("keyframe",))
    updates = _rows(folder, ("update",))
    assert len(updates) == 1 + 1 + 45  # create, the layer, the strokes: compaction kept them (7-day window)
    assert len(keyframes) >= 2, keyframes
    newest = keyframes[-1]
    assert sum(1 for row in updates if row.seq > newest.seq) < 10  # save() wrote one when 10 had piled up
    # The newest keyframe and the updates after it rebuild what replaying every update from the start does.
    replayed = Doc()
    for row in updates:
        replayed.apply_update(row.data)
    from_keyframe = _doc_from_state(newest.data)
    for row in updates:
        if row.seq > newest.seq:
            from_keyframe.apply_update(row.data)
    assert len(doc_to_data(replayed)["layers"][0]["strokes"]) == 45
    assert doc_to_data(from_keyframe) == doc_to_data(replayed)
    assert _missing_from(from_keyframe, replayed) == 0 and _missing_from(replayed, from_keyframe) == 0


def test_no_keyframe_before_the_configured_number_of_updates(workspace):
    folder = Project.create("FewKeys").path
    run_python(_STROKES, str(folder), "45", env=child_env(IMAGESTUDIO_KEYFRAME_EVERY="1000"))
    assert len(_rows(folder, ("keyframe",))) == 1


def _settled_size(folder) -> int:
    """The log's size with its write-ahead file folded in. (Its -wal file is as large as SQLite left it: 4 MB
    while any connection is open, none once the last one closed, so counting it measured which processes
    still had the log open rather than what compaction did.)"""
    log_ = UpdateLog(folder, create=False)
    try:
        log_._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return log_.size()
    finally:
        log_.close()


def test_compaction_keeps_the_state_and_shrinks_the_file(workspace):
    folder = Project.create("Compact").path
    layer = run_python(_STROKES, str(folder), "400",
                       env=child_env(IMAGESTUDIO_KEYFRAME_EVERY="100000")).strip()
    before_state = state_in_fresh_process(folder)
    before_size = _settled_size(folder)
    assert len(_rows(folder, ("update",))) == 402

    run_python(_STROKES, str(folder), "1", layer,
               env=child_env(IMAGESTUDIO_KEYFRAME_EVERY="10", IMAGESTUDIO_LOG_KEEP_SECONDS="0"))
    after_state = state_in_fresh_process(folder)
    after_size = _settled_size(folder)

    strokes = after_state["layers"][0]["strokes"]
    assert len(strokes) == 401 and strokes[:400] == before_state["layers"][0]["strokes"]
    after_state["layers"][0]["strokes"] = strokes[:400]
    assert after_state == before_state  # nothing else moved
    assert len(_rows(folder, ("update",))) <= 1  # the old updates went into the keyframe
    # 400 strokes are 400 strokes' worth of content, in a keyframe as in updates: what goes is the rows'
    # own overhead (measured: 100 KB before, 64 KB after).
    assert after_size < 0.8 * before_size, (before_size, after_size)


def test_a_process_idle_across_a_compaction_catches_up(workspace):
    project = Project.create("Idle")
    layer = project.add_layer("paint", name="ink")
    project.add_stroke(layer, {"points": [0, 0, 1, 1]})
    # Another process writes 150 strokes and compacts everything this process has not read yet.
    run_python(_STROKES, str(project.path), "150", layer,
               env=child_env(IMAGESTUDIO_KEYFRAME_EVERY="20", IMAGESTUDIO_LOG_KEEP_SECONDS="0"))
    assert len(_rows(project.path, ("update",))) < 20  # the rows this process missed are gone

    assert project.refresh()
    assert len(project.layer(layer)["strokes"]) == 151
    project.add_stroke(layer, {"points": [9, 9, 8, 8]})  # and its own writes still land once
    fresh = state_in_fresh_process(project.path)
    assert len(fresh["layers"]) == 1
    assert len(fresh["layers"][0]["strokes"]) == 152
    assert fresh == json.loads(json.dumps(project.to_data(), sort_keys=True))


def test_read_state_equals_the_live_documents_state(workspace):
    project = Project.create("State")
    for i in range(5):
        project.add_layer("paint", name=f"L{i}")
    project.add_comment("look here")
    run_python(_STROKES, str(project.path), "3")  # rows from another process too
    project.refresh()
    from_log = _doc_from_state(read_state(project.path))
    assert doc_to_data(from_log) == project.to_data()
    # The same Y items, not only the same values: neither document holds an item the other lacks.
    assert _missing_from(project.doc, from_log) == 0 and _missing_from(from_log, project.doc) == 0


def test_rows_carry_user_and_origin(workspace):
    folder = Project.create("Who").path
    run_python("""
        import sys
        from imagestudio_nb.project import Project
        Project.open(sys.argv[1]).add_layer("paint", name="from-kernel")
    """, str(folder), env=child_env(IMAGESTUDIO_USER="ada", IMAGESTUDIO_ORIGIN="kernel"))
    run_python("""
        import sys
        from imagestudio_nb.project import Project
        Project.open(sys.argv[1]).add_layer("paint", name="from-script")
    """, str(folder), env=child_env(IMAGESTUDIO_USER="grace"))
    rows = _rows(folder, ("update",))
    assert [(row.user, row.origin) for row in rows[-2:]] == [("ada", "kernel"), ("grace", "python")]
    assert rows[0].origin == "create" and rows[0].user == "tester"
    assert all(row.time > 0 for row in rows)


def test_the_command_line_labels_its_rows_cli(workspace):
    import subprocess

    folder = Project.create("ByCli").path
    done = subprocess.run([CLI, "generate", "a heron", "--model", "local", "--size", "256x256", "--seed", "1",
                           "--project", "ByCli"], env=child_env(IMAGESTUDIO_USER="linus"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = _rows(folder, ("update",))
    assert (rows[-1].user, rows[-1].origin) == ("linus", "cli")


def test_a_garbage_log_is_not_taken_for_a_log(workspace):
    folder = Project.create("Garbage").path
    Project.open(folder).close()
    (folder / LOG_NAME).write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (folder / (LOG_NAME + suffix)).unlink(missing_ok=True)
    try:
        UpdateLog(folder, create=False).read_all()
    except Exception as exc:  # the damage is reported, never read as an empty project
        assert "damaged" in str(exc) or "not a database" in str(exc)
    else:
        raise AssertionError("a garbage log was read as a log")
