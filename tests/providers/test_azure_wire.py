"""The real openai SDK against the stand-in: every parameter a user sets reaches the wire, both client forms,
key and Entra ID authentication, edits with masks and several images, dall-e-3 url results."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from imagestudio_nb.config import Settings
from imagestudio_nb.errors import CredentialsError, UnsupportedParameterError
from imagestudio_nb.generation import mask_to_png
from imagestudio_nb.imaging.codec import decode_image, sniff_format
from imagestudio_nb.providers.base import ImageRequest
from tests.providers.helpers import endpoint_for, image_requests, last_json, provider
from tests.standin.server import API_KEY, BEARER_TOKEN


def png(width=64, height=64, colour="red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("fields, expected", [
    ({}, {"n": 1, "size": "1024x1024"}),
    ({"size": "1536x1024", "n": 3}, {"size": "1536x1024", "n": 3}),
    ({"size": "auto"}, {"size": "auto"}),
    ({"quality": "high"}, {"quality": "high"}),
    ({"background": "transparent", "output_format": "png"}, {"background": "transparent", "output_format": "png"}),
    ({"output_format": "jpeg", "options": {"output_compression": 35}},
     {"output_format": "jpeg", "output_compression": 35}),
    ({"output_format": "webp", "options": {"output_compression": 0}}, {"output_format": "webp",
                                                                       "output_compression": 0}),
    ({"options": {"moderation": "low"}}, {"moderation": "low"}),
    ({"options": {"user": "hashed-user-7"}}, {"user": "hashed-user-7"}),
])
def test_every_gpt_image_parameter_reaches_the_wire(azure_standin, standin_settings, fields, expected):
    request = ImageRequest("a red fox at dawn", "gpt-image-1", fields.pop("size", "1024x1024"), **fields)
    result = provider(standin_settings, "gpt-image-1").generate(request)
    sent = last_json(azure_standin)
    assert sent == {"model": "gpt-image-1", "prompt": "a red fox at dawn", "n": request.n, "size": request.size,
                    **expected}
    assert len(result.images) == request.n
    assert result.usage["total_tokens"] > 0


def test_gpt_image_answers_in_the_format_asked(azure_standin, standin_settings):
    result = provider(standin_settings, "gpt-image-1-mini").generate(
        ImageRequest("a fox", "gpt-image-1-mini", "1024x1536", output_format="webp", background="transparent"))
    assert sniff_format(result.images[0].data) == "WEBP"
    assert decode_image(result.images[0].data).shape[2] == 4
    assert result.metadata["output_format"] == "webp"


@pytest.mark.parametrize("fields, parameter, allowed", [
    ({"size": "1792x1024"}, "size", "1024x1024"),
    ({"n": 11}, "n", "1 to 10"),
    ({"quality": "hd"}, "quality", "low"),
    ({"style": "vivid"}, "style", "not supported"),
    ({"seed": 5}, "seed", "takes no seed"),
    ({"output_format": "gif"}, "output_format", "webp"),
    ({"options": {"output_compression": 50}}, "output_compression", "jpeg or webp"),
    ({"options": {"steps": 20}}, "steps", "moderation"),
    ({"options": {"moderation": "strict"}}, "moderation", "low"),
    ({"options": {"input_fidelity": "high"}}, "input_fidelity", "only for edits"),
    ({"background": "transparent", "output_format": "jpeg"}, "background", "png or webp"),
])
def test_unsupported_parameters_fail_before_anything_is_sent(azure_standin, standin_settings, fields, parameter,
                                                              allowed):
    request = ImageRequest("a fox", "gpt-image-1", fields.pop("size", "1024x1024"), **fields)
    with pytest.raises(UnsupportedParameterError) as caught:
        provider(standin_settings, "gpt-image-1").generate(request)
    assert caught.value.parameter == parameter
    assert allowed in str(caught.value)
    assert image_requests(azure_standin) == []


def test_deployment_form_puts_the_deployment_in_the_path_and_the_api_version_in_the_query(azure_standin,
                                                                                           standin_settings):
    provider(standin_settings, "gpt-image-1.5").generate(ImageRequest("a fox", "gpt-image-1.5", "1024x1024"))
    entry = image_requests(azure_standin)[-1]
    assert entry.path == "/openai/deployments/gpt-image-1.5/images/generations"
    assert entry.query == {"api-version": "2025-04-01-preview"}
    assert entry.headers["api-key"] == "<redacted>"


def test_v1_form_names_the_deployment_in_the_body(azure_standin, monkeypatch, tmp_path):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    settings = Settings(endpoints=[endpoint_for(azure_standin.url, api_version="v1")])
    result = provider(settings, "gpt-image-1").generate(ImageRequest("a fox", "gpt-image-1", "1024x1024", n=2))
    entry = image_requests(azure_standin)[-1]
    assert entry.path == "/openai/v1/images/generations"
    assert "api-version" not in entry.query
    assert json.loads(entry.body)["model"] == "gpt-image-1"
    assert entry.headers["authorization"] == "<redacted>"  # the key travels as a bearer token on v1
    assert result.metadata["route"] == "v1" and len(result.images) == 2


def test_v1_form_is_chosen_by_an_openai_v1_base_url(azure_standin, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    settings = Settings(endpoints=[endpoint_for(azure_standin.url + "/openai/v1", api_version=None)])
    provider(settings, "dall-e-3").generate(ImageRequest("a fox", "dall-e-3", "1024x1024",
                                                         options={"response_format": "b64_json"}))
    assert image_requests(azure_standin)[-1].path == "/openai/v1/images/generations"


def test_entra_id_sends_a_bearer_token_from_the_provider_and_no_key(azure_standin, monkeypatch):
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    settings = Settings(endpoints=[endpoint_for(azure_standin.url, auth="entra")])
    calls = []

    def token_provider() -> str:
        calls.append(1)
        return BEARER_TOKEN

    p = provider(settings, "gpt-image-1", token_provider=token_provider)
    p.generate(ImageRequest("a fox", "gpt-image-1", "1024x1024"))
    p.generate(ImageRequest("a hen", "gpt-image-1", "1024x1024"))
    headers = image_requests(azure_standin)[-1].headers
    assert "authorization" in headers and "api-key" not in headers
    assert len(calls) >= 2  # asked for every request, so refreshed tokens are used


def test_entra_id_works_on_the_v1_form_too(azure_standin, monkeypatch):
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    settings = Settings(endpoints=[endpoint_for(azure_standin.url, auth="entra", api_version="v1")])
    result = provider(settings, "gpt-image-1", token_provider=lambda: BEARER_TOKEN).generate(
        ImageRequest("a fox", "gpt-image-1", "1024x1024"))
    assert len(result.images) == 1


def test_a_refused_entra_token_says_how_to_sign_in(azure_standin, monkeypatch):
    settings = Settings(endpoints=[endpoint_for(azure_standin.url, auth="entra")])
    with pytest.raises(CredentialsError, match="az login"):
        provider(settings, "gpt-image-1", token_provider=lambda: "expired-token").generate(
            ImageRequest("a fox", "gpt-image-1", "1024x1024"))


def test_a_failing_token_provider_becomes_a_credentials_error(azure_standin):
    settings = Settings(endpoints=[endpoint_for(azure_standin.url, auth="entra")])

    def broken() -> str:
        raise RuntimeError("no credential found")

    with pytest.raises(CredentialsError, match="az login"):
        provider(settings, "gpt-image-1", token_provider=broken).generate(
            ImageRequest("a fox", "gpt-image-1", "1024x1024"))
    assert image_requests(azure_standin) == []


def test_entra_without_azure_identity_names_the_extra(azure_standin, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_identity(name, *args, **kwargs):
        if name.startswith("azure.identity"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_identity)
    settings = Settings(endpoints=[endpoint_for(azure_standin.url, auth="entra")])
    from imagestudio_nb.errors import ConfigError

    with pytest.raises(ConfigError, match=r"pip install imagestudio-nb\[entra\]"):
        provider(settings, "gpt-image-1").generate(ImageRequest("a fox", "gpt-image-1", "1024x1024"))


def test_edit_sends_the_image_and_the_alpha_mask_as_multipart(azure_standin, standin_settings):
    source = png(64, 48)
    edit_area = np.zeros((48, 64), bool)
    edit_area[:, 32:] = True  # edit the right half
    mask = mask_to_png(edit_area)
    request = ImageRequest("paint it blue", "gpt-image-1", "1024x1024", images=[source], mask=mask,
                           options={"input_fidelity": "high"}, quality="low")
    result = provider(standin_settings, "gpt-image-1").edit(request)
    upload = azure_standin.state["edit_uploads"][-1]
    assert upload["images"] == [source] and upload["mask"] == mask
    assert upload["fields"] == {"prompt": "paint it blue", "model": "gpt-image-1", "n": 1, "size": "1024x1024",
                                "quality": "low", "input_fidelity": "high"}
    # The stand-in paints only where the mask is transparent: left half stays red.
    pixels = decode_image(result.images[0].data, mode="RGB")
    assert tuple(pixels[10, 5]) == (255, 0, 0)
    assert tuple(pixels[10, -5]) != (255, 0, 0)


def test_edit_with_several_images_sends_image_array(azure_standin, standin_settings):
    images = [png(colour="red"), png(colour="green"), png(colour="blue")]
    provider(standin_settings, "gpt-image-1").edit(
        ImageRequest("combine them", "gpt-image-1", "1024x1024", images=images))
    body = image_requests(azure_standin)[-1].body
    assert body.count(b'name="image[]"') == 3
    assert azure_standin.state["edit_uploads"][-1]["images"] == images


def test_image_to_image_variation_is_an_edit_without_mask(azure_standin, standin_settings):
    result = provider(standin_settings, "gpt-image-1").edit(
        ImageRequest("same scene at night", "gpt-image-1", "1024x1024", images=[png()], n=2))
    assert len(result.images) == 2
    assert azure_standin.state["edit_uploads"][-1]["mask"] is None


def test_a_mask_of_another_size_is_refused_before_sending(azure_standin, standin_settings):
    from imagestudio_nb.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="same size"):
        provider(standin_settings, "gpt-image-1").edit(ImageRequest(
            "x", "gpt-image-1", "1024x1024", images=[png(64, 64)], mask=mask_to_png(np.ones((32, 32), bool))))
    with pytest.raises(InvalidArgumentError, match="alpha"):
        provider(standin_settings, "gpt-image-1").edit(ImageRequest(
            "x", "gpt-image-1", "1024x1024", images=[png(64, 64)], mask=png(64, 64)))
    assert image_requests(azure_standin) == []


def test_dalle3_parameters_reach_the_wire_and_the_url_result_is_downloaded_without_our_key(azure_standin,
                                                                                         standin_settings):
    result = provider(standin_settings, "dall-e-3").generate(ImageRequest(
        "a lighthouse", "dall-e-3", "1792x1024", quality="hd", style="natural", options={"user": "u1"}))
    assert last_json(azure_standin) == {"model": "dall-e-3", "prompt": "a lighthouse", "n": 1, "size": "1792x1024",
                                        "quality": "hd", "style": "natural", "user": "u1"}
    download = [e for e in azure_standin.log if e.path.startswith("/files/")]
    assert len(download) == 1
    assert "api-key" not in download[0].headers and "authorization" not in download[0].headers
    assert sniff_format(result.images[0].data) == "PNG"
    assert result.images[0].revised_prompt == "A detailed rendering of a lighthouse"
    assert all("?" not in url for url in result.metadata["source_urls"])  # the SAS query is never recorded


def test_dalle3_b64_json_response_format(azure_standin, standin_settings):
    result = provider(standin_settings, "dall-e-3").generate(ImageRequest(
        "a lighthouse", "dall-e-3", "1024x1024", options={"response_format": "b64_json"}))
    assert last_json(azure_standin)["response_format"] == "b64_json"
    assert not [e for e in azure_standin.log if e.path.startswith("/files/")]
    assert result.images[0].revised_prompt


@pytest.mark.parametrize("fields, parameter", [({"n": 2}, "n"), ({"size": "1536x1024"}, "size"),
                                               ({"quality": "low"}, "quality"), ({"style": "bold"}, "style"),
                                               ({"output_format": "jpeg"}, "output_format"),
                                               ({"options": {"moderation": "low"}}, "moderation")])
def test_dalle3_refuses_what_it_does_not_take(azure_standin, standin_settings, fields, parameter):
    request = ImageRequest("x", "dall-e-3", fields.pop("size", "1024x1024"), **fields)
    with pytest.raises(UnsupportedParameterError) as caught:
        provider(standin_settings, "dall-e-3").generate(request)
    assert caught.value.parameter == parameter
    assert image_requests(azure_standin) == []


def test_dalle3_takes_no_edits(azure_standin, standin_settings):
    with pytest.raises(UnsupportedParameterError, match="images"):
        provider(standin_settings, "dall-e-3").edit(ImageRequest("x", "dall-e-3", "1024x1024", images=[png()]))


def test_the_wire_digest_matches_the_bytes_the_service_received(azure_standin, standin_settings):
    import hashlib

    result = provider(standin_settings, "gpt-image-1").generate(ImageRequest("a fox", "gpt-image-1", "1024x1024"))
    assert result.metadata["wire"]["body_sha256"] == hashlib.sha256(image_requests(azure_standin)[-1].body).hexdigest()
    assert base64.b64encode(result.images[0].data)  # bytes, not text


def test_a_canvas_mask_layer_becomes_the_edit_area(azure_standin, standin_settings, tmp_path):
    from imagestudio_nb import Project, edit
    from imagestudio_nb.providers.masks import mask_from_layer

    project = Project.create("masked", workspace=tmp_path, width=128, height=128)
    layer_id = project.add_layer("mask", name="Edit here")
    project.add_stroke(layer_id, {"tool": "mask_add", "size": 40, "points": [0, 100, 127, 100]})  # bottom band
    area = mask_from_layer(project.layer(layer_id), canvas_size=project.canvas_size, size=(64, 64))
    results = edit("a river", png(64, 64), mask=area, model="gpt-image-1", settings=standin_settings,
                   project=project, progress=False)
    upload = azure_standin.state["edit_uploads"][-1]
    alpha = decode_image(upload["mask"], mode="RGBA")[..., 3]
    assert alpha[50, 32] == 0 and alpha[10, 32] == 255  # transparent where painted: the API's convention
    pixels = decode_image(results[0].data, mode="RGB")
    assert tuple(pixels[10, 32]) == (255, 0, 0) and tuple(pixels[50, 32]) != (255, 0, 0)
    assert results.record["request"]["mask"]  # the mask is recorded by its hash
