"""FLUX on Azure AI Foundry through the stand-in: the OpenAI-compatible deployment route and the Black Forest
Labs route (width, height, seed, input_image), FLUX.2 where only that route serves it, and model aliases."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from imagestudio_nb import generate
from imagestudio_nb.config import Deployment, Settings
from imagestudio_nb.errors import UnsupportedParameterError
from imagestudio_nb.providers.base import ImageRequest
from imagestudio_nb.providers.foundry_flux import FluxBFLProvider, FluxDeploymentProvider
from imagestudio_nb.providers.registry import resolve_model
from tests.providers.helpers import endpoint_for, image_requests, last_json, provider
from tests.standin.server import API_KEY


def png(colour="red", size=(64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def foundry_settings(azure_standin, monkeypatch) -> Settings:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    return Settings(endpoints=[endpoint_for(azure_standin.url, name="foundry", kind="foundry", api_version=None)])


def test_flux_11_pro_on_the_deployment_route(azure_standin, standin_settings):
    p = provider(standin_settings, "flux-1.1-pro")
    assert isinstance(p, FluxDeploymentProvider)
    result = p.generate(ImageRequest("a fox in snow", "flux-1.1-pro", "1024x768", output_format="jpeg"))
    entry = image_requests(azure_standin)[-1]
    assert entry.path == "/openai/deployments/flux-1.1-pro/images/generations"
    assert json.loads(entry.body) == {"model": "flux-1.1-pro", "prompt": "a fox in snow", "n": 1, "size": "1024x768",
                                      "output_format": "jpeg"}
    assert result.provider == "foundry_flux" and result.images[0].data[:3] == b"\xff\xd8\xff"


def test_kontext_edits_on_the_deployment_route(azure_standin, standin_settings):
    source = png()
    result = provider(standin_settings, "flux-kontext-pro").edit(
        ImageRequest("make it night", "flux.1-kontext-pro", "1024x1024", images=[source]))
    assert image_requests(azure_standin)[-1].path == "/openai/deployments/flux-kontext-pro/images/edits"
    assert azure_standin.state["edit_uploads"][-1]["images"] == [source]
    assert len(result.images) == 1


@pytest.mark.parametrize("fields, parameter", [({"seed": 3}, "seed"), ({"n": 2}, "n"),
                                               ({"size": "1536x1024"}, "size"), ({"quality": "high"}, "quality")])
def test_the_deployment_route_refuses_what_it_does_not_take(azure_standin, standin_settings, fields, parameter):
    with pytest.raises(UnsupportedParameterError) as caught:
        provider(standin_settings, "flux-1.1-pro").generate(
            ImageRequest("x", "flux-1.1-pro", fields.pop("size", "1024x1024"), **fields))
    assert caught.value.parameter == parameter


def test_bfl_route_sends_width_height_seed_and_options(azure_standin, foundry_settings):
    p = provider(foundry_settings, "flux-1.1-pro")
    assert isinstance(p, FluxBFLProvider)
    result = p.generate(ImageRequest("a fox", "flux-1.1-pro", "1344x768", seed=1234, output_format="png",
                                     options={"safety_tolerance": 2, "prompt_upsampling": True}))
    entry = image_requests(azure_standin)[-1]
    assert entry.path == "/providers/blackforestlabs/v1/flux-pro-1.1"
    assert entry.query == {"api-version": "preview"}
    assert json.loads(entry.body) == {"model": "flux-1.1-pro", "prompt": "a fox", "n": 1, "width": 1344,
                                      "height": 768, "output_format": "png", "seed": 1234, "safety_tolerance": 2,
                                      "prompt_upsampling": True}
    assert result.images[0].seed == 1234 and result.metadata["route"] == "bfl"


def test_bfl_same_seed_same_picture(azure_standin, foundry_settings):
    p = provider(foundry_settings, "flux-1.1-pro")
    a, b, c = (p.generate(ImageRequest("a fox", "flux-1.1-pro", "1024x1024", seed=s)).images[0].data
               for s in (1, 1, 2))
    assert a == b and a != c


def test_kontext_on_the_bfl_route_sends_input_image(azure_standin, foundry_settings):
    source = png("blue")
    provider(foundry_settings, "flux-kontext-pro").edit(
        ImageRequest("add a hat", "flux.1-kontext-pro", "1024x1024", images=[source], seed=9))
    sent = last_json(azure_standin)
    assert image_requests(azure_standin)[-1].path == "/providers/blackforestlabs/v1/flux-kontext-pro"
    assert base64.b64decode(sent["input_image"]) == source and sent["seed"] == 9


def test_flux2_uses_the_bfl_route_even_on_an_azure_openai_endpoint(azure_standin, standin_settings):
    p = provider(standin_settings, "flux-2-pro")
    assert isinstance(p, FluxBFLProvider)
    refs = [png("red"), png("green"), png("blue")]
    result = p.edit(ImageRequest("combine", "flux.2-pro", "1024x1024", images=refs, seed=1))
    sent = last_json(azure_standin)
    assert image_requests(azure_standin)[-1].path == "/providers/blackforestlabs/v1/flux-2-pro"
    assert [base64.b64decode(sent[k]) for k in ("input_image", "input_image_2", "input_image_3")] == refs
    assert len(result.images) == 1


def test_flux2_flex_takes_steps_and_guidance(azure_standin, standin_settings):
    provider(standin_settings, "flux-2-flex").generate(
        ImageRequest("a poster saying HELLO", "flux.2-flex", "1024x1024", options={"steps": 30, "guidance": 4.5}))
    sent = last_json(azure_standin)
    assert sent["steps"] == 30 and sent["guidance"] == 4.5
    with pytest.raises(UnsupportedParameterError, match="from 1.5 to 10"):
        provider(standin_settings, "flux-2-flex").generate(
            ImageRequest("x", "flux.2-flex", "1024x1024", options={"guidance": 50}))


def test_flux2_pro_takes_at_most_eight_references(azure_standin, standin_settings):
    with pytest.raises(UnsupportedParameterError, match="at most 8"):
        provider(standin_settings, "flux-2-pro").edit(
            ImageRequest("x", "flux.2-pro", "1024x1024", images=[png()] * 9))


def test_flux_masks_are_refused_naming_the_models_that_take_them(azure_standin, foundry_settings):
    from imagestudio_nb.generation import mask_to_png
    import numpy as np

    with pytest.raises(UnsupportedParameterError, match="mask"):
        provider(foundry_settings, "flux-kontext-pro").edit(ImageRequest(
            "x", "flux.1-kontext-pro", "1024x1024", images=[png()], mask=mask_to_png(np.ones((64, 64), bool))))


def test_model_aliases_resolve_through_the_registry(azure_standin, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    endpoint = endpoint_for(azure_standin.url)
    endpoint.deployments = [Deployment(name="my-flux", model="FLUX-1.1-pro"),
                            Deployment(name="flux-kontext-pro", model="FLUX.1-Kontext-pro")]
    settings = Settings(endpoints=[endpoint])
    resolved = resolve_model("flux-1.1-pro", settings)
    assert resolved.deployment == "my-flux" and resolved.capabilities.model == "flux-1.1-pro"
    results = generate("a fox", model="flux.1-kontext-pro", settings=settings, progress=False)
    assert results.record["deployment"] == "flux-kontext-pro" and results.record["provider"] == "foundry_flux"


def test_bfl_route_with_entra_id(azure_standin, monkeypatch):
    from tests.standin.server import BEARER_TOKEN

    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    settings = Settings(endpoints=[endpoint_for(azure_standin.url, kind="foundry", api_version=None, auth="entra")])
    result = provider(settings, "flux-2-pro", token_provider=lambda: BEARER_TOKEN).generate(
        ImageRequest("a fox", "flux.2-pro", "1024x1024", seed=1))
    headers = image_requests(azure_standin)[-1].headers
    assert "authorization" in headers and "api-key" not in headers and len(result.images) == 1
