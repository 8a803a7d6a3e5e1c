"""Sora 2 video jobs through the real openai SDK against the stand-in (create, poll, download, failures), the
offline placeholder clip, and clips stored in a project with provenance; videos are decoded back with PyAV."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from imagestudio_nb import Project
from imagestudio_nb.errors import (ContentFilterError, DataError, InvalidArgumentError, ProviderError,
                                   UnsupportedParameterError)
from imagestudio_nb.imaging.clips import clip_info, decode_frames
from imagestudio_nb.video import generate_video, read_video
from tests.standin.video import _parts


def png(width: int, height: int, colour="teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def video_requests(standin) -> list:
    return [e for e in standin.log if "/videos" in e.path]


@pytest.mark.parametrize("size, seconds, shape", [("1280x720", 4, (128, 72)), ("720x1280", 8, (72, 128))])
def test_sora_job_is_created_polled_downloaded_and_stored(azure_standin, standin_settings, tmp_path, size, seconds,
                                                          shape):
    project = Project.create("clips", workspace=tmp_path)
    updates = []
    clip = generate_video("waves rolling onto a beach", size=size, seconds=seconds, project=project,
                          settings=standin_settings, poll_interval=0.01, progress=False, on_progress=updates.append)
    create = video_requests(azure_standin)[0]
    assert (create.method, create.path) == ("POST", "/openai/v1/videos") and "api-version" not in create.query
    fields = {k: v.decode() for k, v in _parts(create.headers["content-type"], create.body).items()}
    assert fields == {"model": "sora-2", "prompt": "waves rolling onto a beach", "size": size,
                      "seconds": str(seconds)}
    assert [u.status for u in updates] == ["in_progress", "in_progress", "completed"]
    assert [u.progress for u in updates] == [33, 67, 100]
    downloads = [(e.path.rsplit("/", 1)[-1], e.query.get("variant")) for e in video_requests(azure_standin)
                 if e.path.endswith("/content")]
    assert downloads == [("content", "video"), ("content", "thumbnail")]
    # A real MP4: decoded back with PyAV.
    info = clip_info(clip.data)
    assert (info.width, info.height) == shape and info.frames == seconds * 8 and info.codec == "h264"
    assert info.duration == pytest.approx(seconds, abs=0.2)
    # Stored beside the assets, named by hash, with its thumbnail as an asset and a provenance record.
    assert clip.path == project.path / "videos" / f"{clip.sha256}.mp4"
    assert hashlib.sha256(clip.path.read_bytes()).hexdigest() == clip.sha256
    record = project.generation(clip.record["id"])
    assert record["kind"] == "video" and record["model"] == "sora-2" and record["deployment"] == "sora-2"
    assert record["video"]["sha256"] == clip.sha256 and record["metadata"]["job_id"].startswith("video_")
    assert project.assets.read(record["assets"][0]) == clip.thumbnail
    assert read_video(project, clip.sha256) == clip.data


def test_image_to_video_sends_the_reference_which_must_match_the_size(azure_standin, standin_settings):
    reference = png(1280, 720)
    generate_video("the teal wall cracks", input_reference=reference, settings=standin_settings, poll_interval=0.01,
                   progress=False)
    assert azure_standin.state["video_references"] == [reference]
    with pytest.raises(InvalidArgumentError, match="fit=True"):
        generate_video("x", input_reference=png(640, 480), settings=standin_settings, progress=False)
    assert len(azure_standin.state["video_references"]) == 1  # the wrong size never left the machine
    generate_video("x", input_reference=png(640, 480), fit=True, settings=standin_settings, poll_interval=0.01,
                   progress=False)
    assert Image.open(io.BytesIO(azure_standin.state["video_references"][-1])).size == (1280, 720)


def test_the_stand_in_refuses_a_reference_of_another_size_on_its_own(azure_standin, standin_settings):
    # Sent past the client's check (straight through the provider's SDK client): the service's own refusal.
    from imagestudio_nb.video import _sora

    sora = _sora(None, standin_settings)
    with pytest.raises(ProviderError, match="must match"):
        sora._call(lambda client: client.videos.create(model="sora-2", prompt="x", size="1280x720", seconds="4",
                                                       input_reference=("r.png", png(64, 64), "image/png")))


@pytest.mark.parametrize("kwargs, parameter", [({"size": "1920x1080"}, "size"), ({"seconds": 5}, "seconds"),
                                                ({"seconds": True}, "seconds")])
def test_what_sora_does_not_take_fails_before_sending(azure_standin, standin_settings, kwargs, parameter):
    with pytest.raises(UnsupportedParameterError) as caught:
        generate_video("x", settings=standin_settings, progress=False, **kwargs)
    assert caught.value.parameter == parameter and video_requests(azure_standin) == []


def test_a_failed_job_raises_a_clear_error_and_stores_nothing(azure_standin, standin_settings, tmp_path):
    project = Project.create("failing", workspace=tmp_path)
    azure_standin.state["failing_video_terms"] = ["glitch"]
    with pytest.raises(ProviderError, match=r"video job video_\w+ failed \(video_generation_failed"):
        generate_video("a glitch in time", project=project, settings=standin_settings, poll_interval=0.01,
                       progress=False)
    assert project.generations() == [] and not (project.path / "videos").exists()
    assert not [e for e in video_requests(azure_standin) if e.path.endswith("/content")]


def test_a_moderated_job_and_a_refused_prompt_are_content_filter_errors(azure_standin, standin_settings):
    azure_standin.state["moderated_video_terms"] = ["storm"]
    with pytest.raises(ContentFilterError, match="moderation_blocked"):
        generate_video("a storm", settings=standin_settings, poll_interval=0.01, progress=False)
    azure_standin.state["blocked_terms"] = ["forbidden"]
    with pytest.raises(ContentFilterError):
        generate_video("something forbidden", settings=standin_settings, progress=False)


def test_a_job_that_does_not_finish_in_time_names_its_id(azure_standin, standin_settings):
    azure_standin.state["video_steps"] = 1000
    with pytest.raises(ProviderError, match=r"still in_progress .*resume_video\('video_"):
        generate_video("slow", settings=standin_settings, poll_interval=0.01, timeout=0.05, progress=False)


def test_a_sora_job_does_not_take_a_seed(azure_standin, standin_settings):
    with pytest.raises(InvalidArgumentError, match="no seed"):
        generate_video("x", seed=3, settings=standin_settings, progress=False)


def test_the_local_clip_is_deterministic_and_stored_like_sora(tmp_path):
    from imagestudio_nb.video import local_frames

    project = Project.create("offline", workspace=tmp_path)
    a = generate_video("a red fox", model="local", seconds=4, seed=5, project=project, progress=False)
    frames = local_frames("a red fox", seconds=4, seed=5)
    assert all((x == y).all() for x, y in zip(frames, local_frames("a red fox", seconds=4, seed=5)))
    assert not all((x == y).all() for x, y in zip(frames, local_frames("a red fox", seconds=4, seed=6)))
    decoded = decode_frames(a.data, limit=1)[0]
    assert np.abs(decoded.astype(int) - frames[0]).mean() < 4  # what was stored is those frames, H.264-encoded
    info = a.info
    assert (info.width, info.height, info.frames) == (1280, 720, 48) and info.duration == pytest.approx(4, abs=0.1)
    assert project.generation(a.record["id"])["seeds"] == [5]
    assert read_video(project, a.sha256) == a.data


def test_the_local_clip_animates_a_reference_image(tmp_path):
    reference = np.zeros((720, 1280, 3), np.uint8)
    reference[:, :640] = (250, 20, 20)
    clip = generate_video("pan", model="local", input_reference=reference, seconds=4, progress=False)
    first = decode_frames(clip.data, limit=1)[0]
    assert first[360, 200, 0] > 200 and first[360, 1100, 0] < 60  # the reference's red half, not a placeholder


def test_a_damaged_stored_video_is_refused(tmp_path):
    project = Project.create("damaged", workspace=tmp_path)
    clip = generate_video("a red fox", model="local", seconds=4, seed=1, project=project, progress=False)
    clip.path.write_bytes(clip.data[:-10] + b"0123456789")
    with pytest.raises(DataError, match="damaged"):
        read_video(project, clip.sha256)
    with pytest.raises(DataError, match="no video"):
        read_video(project, "0" * 64)


def test_a_timed_out_job_is_collected_later_with_resume_video(azure_standin, standin_settings, tmp_path):
    import re

    from imagestudio_nb.video import resume_video

    project = Project.create("resumed", workspace=tmp_path)
    azure_standin.state["video_steps"] = 3
    with pytest.raises(ProviderError) as caught:
        generate_video("slow tide", settings=standin_settings, poll_interval=0.01, timeout=0, progress=False)
    job_id = re.search(r"resume_video\('(video_\w+)'", str(caught.value)).group(1)
    clip = resume_video(job_id, project=project, settings=standin_settings, poll_interval=0.01)
    assert clip_info(clip.data).frames == 4 * 8
    record = project.generation(clip.record["id"])
    assert record["metadata"] == {"job_id": job_id, "resumed": True} and record["request"]["prompt"] == "slow tide"
