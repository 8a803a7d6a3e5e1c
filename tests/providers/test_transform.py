"""Image-to-image translation on the wire: gpt-image edits carry input_fidelity, FLUX.2 gets the source as
input_image, models that cannot are refused before sending, and records say kind "transform"."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from imagestudio_nb import Project
from imagestudio_nb.errors import UnsupportedParameterError
from imagestudio_nb.transform import transform
from tests.providers.helpers import image_requests


def png(width=64, height=48, colour="olive") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_gpt_image_transform_sends_the_source_and_input_fidelity(azure_standin, standin_settings, tmp_path):
    project = Project.create("i2i", workspace=tmp_path)
    source = png(1200, 800)
    out = transform(source, "the same street in winter", model="gpt-image-2", fidelity="high", project=project,
                    settings=standin_settings, progress=False)
    upload = azure_standin.state["edit_uploads"][-1]
    assert upload["images"] == [source] and upload["mask"] is None
    assert upload["fields"]["input_fidelity"] == "high" and upload["fields"]["size"] == "1200x800"
    record = project.generation(out.record["id"])
    assert record["kind"] == "transform" and record["model"] == "gpt-image-2"
    assert project.assets.read(record["request"]["images"][0]) == source  # the input is kept for a replay


def test_a_model_with_listed_sizes_gets_the_nearest_aspect(azure_standin, standin_settings):
    transform(png(600, 900), "as a watercolour", model="gpt-image-1.5", settings=standin_settings, progress=False)
    assert azure_standin.state["edit_uploads"][-1]["fields"]["size"] == "1024x1536"


def test_flux2_transform_sends_the_source_as_input_image_and_replays_byte_for_byte(azure_standin, standin_settings):
    source = png(1024, 1024)
    first = transform(source, "as a linocut", model="flux.2-pro", seed=5, settings=standin_settings, progress=False)
    second = transform(source, "as a linocut", model="flux.2-pro", seed=5, settings=standin_settings, progress=False)
    body = json.loads(image_requests(azure_standin)[-1].body)
    assert base64.b64decode(body["input_image"]) == source and (body["width"], body["height"]) == (1024, 1024)
    assert first.record["metadata"]["wire"]["body_sha256"] == second.record["metadata"]["wire"]["body_sha256"]
    assert first[0].data == second[0].data


def test_fidelity_on_a_model_without_it_is_refused_not_ignored(azure_standin, standin_settings):
    with pytest.raises(UnsupportedParameterError, match="fidelity"):
        transform(png(), "x", model="flux.2-pro", fidelity="high", settings=standin_settings, progress=False)
    with pytest.raises(UnsupportedParameterError, match="input_fidelity"):
        transform(png(), "x", model="gpt-image-1-mini", fidelity="high", settings=standin_settings, progress=False)
    with pytest.raises(UnsupportedParameterError, match="edits"):
        transform(png(), "x", model="mai-image-2", settings=standin_settings, progress=False)
    assert image_requests(azure_standin) == []


def test_background_removal_through_gpt_image_asks_for_a_transparent_png(azure_standin, standin_settings):
    from imagestudio_nb.transform import BACKGROUND_PROMPT, remove_background_with_model

    out = remove_background_with_model(png(640, 640), model="gpt-image-1.5", settings=standin_settings)
    fields = azure_standin.state["edit_uploads"][-1]["fields"]
    assert fields == {"prompt": BACKGROUND_PROMPT, "model": "gpt-image-1.5", "n": 1, "size": "1024x1024",
                      "background": "transparent", "output_format": "png", "input_fidelity": "high"}
    assert out.record["kind"] == "remove-background" and out[0].image.shape[2] == 4


def test_background_removal_needs_a_model_with_transparency(azure_standin, standin_settings):
    from imagestudio_nb.transform import remove_background_with_model

    for model in ("flux.2-pro", "mai-image-2"):
        with pytest.raises(UnsupportedParameterError, match="transparent"):
            remove_background_with_model(png(), model=model, settings=standin_settings)
    assert image_requests(azure_standin) == []


def test_seamless_texture_by_model_sends_the_shifted_image_and_the_seam_band(azure_standin, standin_settings):
    import numpy as np

    from imagestudio_nb.imaging.codec import decode_image
    from imagestudio_nb.imaging.tiling import seam_visibility
    from imagestudio_nb.textures import make_seamless_with_model

    ramp = (np.linspace(0, 255, 1024)[None, :, None] * np.ones((1024, 1, 3))).astype(np.uint8)
    out = make_seamless_with_model(ramp, "sand", model="gpt-image-1.5", settings=standin_settings)
    upload = azure_standin.state["edit_uploads"][-1]
    sent = decode_image(upload["images"][0], mode="RGB")
    assert np.array_equal(sent, np.roll(ramp, (512, 512), axis=(0, 1)))
    alpha = decode_image(upload["mask"], mode="RGBA")[..., 3]
    assert alpha[512, 20] == 0 and alpha[20, 512] == 0 and alpha[20, 20] == 255  # transparent = repaint the cross
    assert upload["fields"]["size"] == "1024x1024" and out.record["kind"] == "seamless-texture"
    assert seam_visibility(sent) < 3 < seam_visibility(ramp)  # shifting alone moves the seam off the wrap edges
