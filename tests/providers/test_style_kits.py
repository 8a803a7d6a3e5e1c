"""Style kits compiled per backend and checked on the wire (FLUX.2 references, gpt-image image[] with fidelity,
prompt only), series mode feeding outputs back, seed policies, versions."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from imagestudio_nb import Project
from imagestudio_nb.errors import InvalidArgumentError, NotFoundError
from imagestudio_nb.style_kits import (create_style_kit, generate_series, generate_with_kit, list_style_kits,
                                       load_style_kit, update_style_kit)
from tests.providers.helpers import image_requests


def png(colour, size=(64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def project(tmp_path):
    return Project.create("styled", workspace=tmp_path)


@pytest.fixture
def kit(project):
    refs = [png("red"), png("green"), png("blue")]
    return create_style_kit(project, "poster", refs, weights=[0.2, 1.0, 0.6], prompt_suffix="flat screen print",
                            avoid=["text", "photo"], params={"seed_policy": "fixed", "seed": 42, "quality": "high",
                                                             "fidelity": "low"})


def test_flux2_gets_the_references_heaviest_first_and_the_seed(azure_standin, standin_settings, project, kit):
    out = generate_with_kit("a lighthouse", kit, project=project, model="flux.2-pro", settings=standin_settings)
    body = json.loads(image_requests(azure_standin)[-1].body)
    sent = [base64.b64decode(body[k]) for k in ("input_image", "input_image_2", "input_image_3")]
    assert sent == [png("green"), png("blue"), png("red")] and "input_image_4" not in body
    assert body["prompt"] == "a lighthouse, flat screen print. Avoid: text, photo" and body["seed"] == 42
    assert "quality" not in body and "input_fidelity" not in body
    notes = out.record["style_kit"]["notes"]
    assert out.record["style_kit"]["route"] == "references" and out.record["style_kit"]["version"] == 1
    assert any("quality" in n for n in notes) and any("fidelity" in n for n in notes)


def test_flux2_pro_takes_eight_of_nine_references(azure_standin, standin_settings, project):
    colours = ["red", "green", "blue", "white", "black", "yellow", "cyan", "magenta", "orange"]
    kit = create_style_kit(project, "many", [png(c) for c in colours], weights=[1.0] * 8 + [0.1])
    out = generate_with_kit("x", kit, project=project, model="flux.2-pro", settings=standin_settings)
    body = json.loads(image_requests(azure_standin)[-1].body)
    assert "input_image_8" in body and "input_image_9" not in body
    assert png("orange") not in [base64.b64decode(v) for k, v in body.items() if k.startswith("input_image")]
    assert any("at most 8" in n for n in out.record["style_kit"]["notes"])


def test_gpt_image_gets_image_array_with_the_kit_fidelity_and_quality(azure_standin, standin_settings, project,
                                                                      kit):
    generate_with_kit("a lighthouse", kit, project=project, model="gpt-image-1.5", settings=standin_settings)
    upload = azure_standin.state["edit_uploads"][-1]
    assert upload["images"] == [png("green"), png("blue"), png("red")]
    assert upload["fields"]["input_fidelity"] == "low" and upload["fields"]["quality"] == "high"
    assert upload["fields"]["prompt"] == "a lighthouse, flat screen print. Avoid: text, photo"
    assert image_requests(azure_standin)[-1].body.count(b'name="image[]"') == 3


def test_a_fidelity_the_model_lacks_is_replaced_and_noted(azure_standin, standin_settings, project):
    kit = create_style_kit(project, "hi", [png("red")], params={"fidelity": "high"})
    out = generate_with_kit("x", kit, project=project, model="gpt-image-1-mini", settings=standin_settings)
    assert azure_standin.state["edit_uploads"][-1]["fields"]["input_fidelity"] == "low"
    assert any("low used" in n for n in out.record["style_kit"]["notes"])


@pytest.mark.parametrize("model", ["dall-e-3", "mai-image-2"])
def test_models_without_references_get_the_prompt_and_description(azure_standin, standin_settings, project, kit,
                                                                  model):
    out = generate_with_kit("a lighthouse", kit, project=project, model=model, settings=standin_settings,
                            **({"response_format": "b64_json"} if model == "dall-e-3" else {}))
    body = json.loads(image_requests(azure_standin)[-1].body)
    assert body["prompt"].startswith("a lighthouse, flat screen print, style: ")
    assert kit.description in body["prompt"] and body["prompt"].endswith("Avoid: text, photo")
    assert not any(k.startswith("input_image") or k == "image" for k in body)
    assert out.record["style_kit"]["route"] == "prompt-only"


def test_kontext_takes_the_heaviest_reference_only(azure_standin, standin_settings, project, kit):
    generate_with_kit("x", kit, project=project, model="flux.1-kontext-pro", settings=standin_settings)
    assert azure_standin.state["edit_uploads"][-1]["images"] == [png("green")]


def test_series_feeds_each_output_back_and_increments_the_seed(azure_standin, standin_settings, project):
    kit = create_style_kit(project, "series", [png("teal"), png("navy")],
                           params={"seed_policy": "increment", "seed": 7})
    series = generate_series(["a boat", "a harbour", "a storm"], kit, project=project, model="flux.2-pro",
                             settings=standin_settings)
    bodies = [json.loads(e.body) for e in image_requests(azure_standin)]
    assert [b["seed"] for b in bodies] == [7, 8, 9]
    for previous, body in zip(series.results, bodies[1:]):
        assert base64.b64decode(body["input_image"]) == previous[0].data  # the last output leads
        assert base64.b64decode(body["input_image_2"]) == png("teal")
    assert len(series.consistency.scores) == 3


def test_versions_are_kept_and_names_checked(project, kit):
    update_style_kit(project, "poster", prompt_suffix="risograph", avoid=["gradients"])
    assert load_style_kit(project, "poster").version == 2
    assert load_style_kit(project, "poster").prompt_suffix == "risograph"
    assert load_style_kit(project, "poster", version=1).prompt_suffix == "flat screen print"
    assert list_style_kits(project) == ["poster"]
    with pytest.raises(NotFoundError, match="poster"):
        load_style_kit(project, "missing")
    with pytest.raises(NotFoundError, match="versions 1 to 2"):
        load_style_kit(project, "poster", version=3)
    with pytest.raises(InvalidArgumentError):
        create_style_kit(project, "../escape", [png("red")])
    with pytest.raises(InvalidArgumentError, match="seed_policy"):
        create_style_kit(project, "bad", [png("red")], params={"seed_policy": "sometimes"})
    with pytest.raises(InvalidArgumentError, match="weight"):
        create_style_kit(project, "bad", [png("red")], weights=[2.0])


def test_kit_references_are_project_assets(project, kit):
    for reference in kit.references:
        assert project.assets.read(reference["asset"])[:4] == b"\x89PNG"
