"""Session replay from the update log: every moment can be looked at, rendered and brought back."""

from __future__ import annotations

import pytest

from imagestudio_nb.errors import NotFoundError
from imagestudio_nb.imaging.clips import decode_frames
from imagestudio_nb.project import Project
from imagestudio_nb.project.replay import checkpoint_at, replay, state_at, timelapse, timeline


def _drawn(name="Replay", strokes=60):
    project = Project.create(name, width=128, height=96)
    layer = project.add_layer("paint", name="sketch")
    for i in range(strokes):
        project.add_stroke(layer, {"tool": "brush", "points": [i * 2, 10, i * 2 + 5, 80], "size": 4,
                                   "color": "#%02x2040" % (i * 4)})
    return project, layer


def test_replay_reproduces_the_final_document_exactly(workspace):
    project, layer = _drawn()
    project.add_comment("halfway there")
    project.update_layer(layer, opacity=0.5)
    moments = timeline(project)
    assert [m.seq for m in moments] == sorted(m.seq for m in moments) and len(moments) == 64
    states = list(replay(project))
    assert states[-1][1] == project.to_data()
    counts = [len(data["layers"][0]["strokes"]) if data["layers"] else 0 for _, data in states]
    assert counts == sorted(counts) and counts[-1] == 60


def test_any_moment_comes_back_as_a_checkpoint_and_restoring_it_is_a_forward_change(workspace):
    project, layer = _drawn(strokes=20)
    moments = timeline(project)
    tenth = [m for m in moments if len(state_at(project, m.seq)["layers"] and
                                       state_at(project, m.seq)["layers"][0]["strokes"]) == 10][0]
    checkpoint_at(project, tenth.seq, "ten strokes")
    before = len(timeline(project))
    project.restore("ten strokes")
    assert len(project.layer(layer)["strokes"]) == 10
    assert len(timeline(project)) > before  # nothing rewritten: the restore is one more change
    assert state_at(project, moments[-1].seq)["layers"][0]["strokes"].__len__() == 20
    with pytest.raises(NotFoundError, match="not in the history"):
        state_at(project, 10**9)


def test_the_timelapse_decodes_with_the_expected_number_of_frames(workspace, tmp_path):
    project, _ = _drawn(strokes=40)
    moments = timeline(project)  # 42: the project, the layer, 40 strokes
    path = tmp_path / "lapse.gif"
    data = timelapse(project, path, frames=7, fps=5, max_side=64)
    frames = decode_frames(path.read_bytes())
    step = len(moments) // 7
    expected = len({m.seq for m in moments[step - 1::step]} | {moments[-1].seq})
    assert data == path.read_bytes() and len(frames) == expected
    assert frames[0].shape[:2] == (48, 64)
    assert frames[-1].mean() < frames[0].mean()  # more strokes, darker frame


def test_replay_after_compaction_starts_from_the_kept_keyframe_and_stays_exact(workspace, monkeypatch):
    project, layer = _drawn(strokes=30)
    project.keyframe()
    for i in range(5):
        project.add_stroke(layer, {"tool": "brush", "points": [1, 1, 100, 90], "size": 2, "color": "#000000"})
    project.log.compact(keep_seconds=0)
    moments = timeline(project)
    assert len(moments) == 5
    assert list(replay(project))[-1][1] == project.to_data()
