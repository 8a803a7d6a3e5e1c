"""make_video: clips from a list, a project's generations and layers, an experiment grid; formats decoded back."""

from __future__ import annotations

import numpy as np
import pytest

from imagestudio_nb import Project, generate
from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.imaging.clips import clip_info, decode_frames
from imagestudio_nb.montage import make_video
from imagestudio_nb.video import read_video


def test_generations_become_a_stored_clip_with_holds_and_crossfades(tmp_path):
    project = Project.create("montage", workspace=tmp_path)
    for seed in (1, 2, 3):
        generate("a red fox", model="local", size="256x256", seed=seed, project=project, progress=False)
    clip = make_video("generations", project=project, fps=8, seconds_per_image=1, transition=0.5, store=True)
    info = clip_info(clip.data)
    assert (info.width, info.height, info.frames) == (256, 256, 3 * 8 + 2 * 4)
    assert read_video(project, clip.sha256) == clip.data
    assert project.generation(clip.record["id"])["request"]["source"] == "generations"
    # a held frame shows the first generation (lossy: compared on average)
    first = project.assets.read_array(project.generations()[0]["assets"][0], mode="RGB")
    assert np.abs(decode_frames(clip.data, limit=1)[0].astype(int) - first).mean() < 6


def test_layers_and_formats(tmp_path):
    project = Project.create("layers", workspace=tmp_path)
    for colour in ((200, 0, 0), (0, 200, 0)):
        asset = project.assets.add(np.full((64, 96, 3), colour, np.uint8)).hash
        project.add_layer("image", asset=asset)
    for fmt, codec in (("mp4", "h264"), ("webm", "vp9"), ("gif", "gif")):
        clip = make_video("layers", project=project, fps=4, seconds_per_image=0.5, transition=0, format=fmt)
        info = clip_info(clip.data)
        assert info.codec == codec and (info.width, info.height) == (96, 64)
        assert info.frames == 4 or fmt == "gif"  # GIF muxers may merge identical frames


def test_an_experiment_grid_becomes_a_clip(tmp_path):
    from imagestudio_nb.experiments import Experiment

    project = Project.create("grid", workspace=tmp_path)
    experiment = Experiment.define("g", prompts=["a fox", "a hen"], models=["local"],
                                   params={"size": ["256x256"]}, seeds=[1], project=project)
    experiment.run(concurrency=1, progress=False)
    clip = make_video(experiment, fps=4, seconds_per_image=1, transition=0, pan_and_zoom=True)
    assert clip_info(clip.data).frames == 8


def test_what_cannot_be_a_source_is_refused(tmp_path):
    project = Project.create("empty", workspace=tmp_path)
    with pytest.raises(InvalidArgumentError, match="no images"):
        make_video("generations", project=project)
    with pytest.raises(InvalidArgumentError, match="allowed"):
        make_video("history", project=project)
    with pytest.raises(InvalidArgumentError, match="needs project"):
        make_video("layers")
    with pytest.raises(InvalidArgumentError, match="format"):
        make_video([np.zeros((8, 8, 3), np.uint8)], format="avi")


def test_the_checkpoint_history_plays_as_a_clip(tmp_path):
    project = Project.create("history", workspace=tmp_path, width=96, height=64)
    red = project.assets.add(np.full((64, 96, 3), (220, 20, 20), np.uint8)).hash
    layer = project.add_layer("image", asset=red)
    project.checkpoint("red")
    blue = project.assets.add(np.full((64, 96, 3), (20, 20, 220), np.uint8)).hash
    project.update_layer(layer, asset=blue)
    project.checkpoint("blue")
    clip = make_video("checkpoints", project=project, fps=4, seconds_per_image=1, transition=0)
    frames = decode_frames(clip.data)
    assert len(frames) == 8 and frames[0][32, 48, 0] > 180 and frames[-1][32, 48, 2] > 180
    assert project.layer(layer)["asset"] == blue  # nothing was restored
