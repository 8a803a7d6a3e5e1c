"""The 2026 catalogue on the wire: gpt-image-2's free sizes, gpt-image-1.5, partial-image streaming through the
real openai SDK, FLUX.2 references and flex options, MAI-Image-2.x, DALL-E 3 as retired legacy."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from imagestudio_nb.errors import ContentFilterError, UnknownDeploymentError, UnsupportedParameterError
from imagestudio_nb.imaging.codec import decode_image
from imagestudio_nb.providers.base import ImageRequest
from imagestudio_nb.providers.capabilities import capabilities_for
from imagestudio_nb.providers.foundry_mai import MAIImagesProvider
from imagestudio_nb.providers.sizes import GPT_IMAGE_2_RULE
from tests.providers.helpers import image_requests, last_json, provider


def png(colour="red", size=(64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("size", ["2048x1152", "3840x2160", "1024x1024", "3840x1280", "816x816", "auto"])
def test_gpt_image_2_takes_any_size_within_the_rule_and_it_reaches_the_wire(azure_standin, standin_settings,
                                                                            size):
    result = provider(standin_settings, "gpt-image-2").generate(ImageRequest("a fox", "gpt-image-2", size))
    assert last_json(azure_standin)["size"] == size
    assert len(result.images) == 1


@pytest.mark.parametrize("size, reason", [
    ("2000x1000", "multiples of 16"),          # 2000 is fine, 1000 is not a multiple of 16
    ("4096x2304", "at most 3840"),             # longer than 4K
    ("3840x1264", "3 times"),                  # 3.04:1
    ("800x800", "at least 655,360"),           # 640,000 pixels
    ("3840x2176", "at most 8,294,400"),        # 8,355,840 pixels
    ("big", "WIDTHxHEIGHT"),
])
def test_gpt_image_2_sizes_outside_the_rule_fail_before_sending_and_say_why(azure_standin, standin_settings, size,
                                                                            reason):
    with pytest.raises(UnsupportedParameterError) as caught:
        provider(standin_settings, "gpt-image-2").generate(ImageRequest("a fox", "gpt-image-2", size))
    assert caught.value.parameter == "size" and reason in str(caught.value)
    assert image_requests(azure_standin) == []


def test_the_stand_in_enforces_the_size_rule_on_its_own(azure_standin, standin_settings):
    # The stand-in's copy of the rule is independent: a size the client lets through by mistake is refused there.
    from tests.standin.images import gpt_image_2_size_problem

    for size in ("2000x1000", "4096x2304", "3840x1264", "800x800", "3840x2176"):
        assert gpt_image_2_size_problem(size) and GPT_IMAGE_2_RULE.problem(size)
    for size in ("2048x1152", "3840x2160", "3840x1280", "816x816"):
        assert gpt_image_2_size_problem(size) is None and GPT_IMAGE_2_RULE.problem(size) is None


@pytest.mark.parametrize("deployment", ["gpt-image-1.5", "gpt-image-2"])
def test_new_gpt_image_parameters_reach_the_wire(azure_standin, standin_settings, deployment):
    request = ImageRequest("a fox", deployment, "1024x1024", output_format="webp", quality="high",
                           options={"output_compression": 40, "moderation": "low"})
    provider(standin_settings, deployment).generate(request)
    assert last_json(azure_standin) == {"model": deployment, "prompt": "a fox", "n": 1, "size": "1024x1024",
                                        "quality": "high", "output_format": "webp", "output_compression": 40,
                                        "moderation": "low"}


def test_gpt_image_2_edit_sends_input_fidelity(azure_standin, standin_settings):
    provider(standin_settings, "gpt-image-2").edit(ImageRequest(
        "same scene at dusk", "gpt-image-2", "1536x1024", images=[png()], options={"input_fidelity": "high"}))
    assert azure_standin.state["edit_uploads"][-1]["fields"]["input_fidelity"] == "high"


@pytest.mark.parametrize("options, parameter, allowed", [
    ({"partial_images": 4}, "partial_images", "0 to 3"),
    ({"partial_images": True}, "partial_images", "0 to 3"),
    ({"partial_images": 2, "stream": False}, "stream", "partial_images"),
    ({"input_fidelity": "medium"}, "input_fidelity", "low, high"),
    ({"input_fidelity": "high"}, "input_fidelity", "only for edits"),
    ({"moderation": "none"}, "moderation", "low, auto"),
])
def test_bad_new_parameters_name_the_allowed_values(azure_standin, standin_settings, options, parameter, allowed):
    with pytest.raises(UnsupportedParameterError) as caught:
        provider(standin_settings, "gpt-image-2").generate(ImageRequest("a fox", "gpt-image-2", "1024x1024",
                                                                        options=options))
    assert caught.value.parameter == parameter and allowed in str(caught.value)
    assert image_requests(azure_standin) == []


def test_partial_images_stream_through_the_sdk_as_events(azure_standin, standin_settings):
    partials = []
    result = provider(standin_settings, "gpt-image-2").generate(
        ImageRequest("a fox at dawn", "gpt-image-2", "1024x1024", n=2, options={"partial_images": 2}),
        on_partial=partials.append)
    sent = last_json(azure_standin)
    assert sent["stream"] is True and sent["partial_images"] == 2
    assert [(p.output, p.index) for p in partials] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert len(result.images) == 2 and result.metadata["streamed"]
    assert result.usage["total_tokens"] > 0 and len(result.metadata["partial_images_ms"]) == 4
    # The partials are coarser renderings of the final image: the last partial is nearer to it than the first.
    final = decode_image(result.images[0].data).astype(int)
    first, last = (abs(decode_image(p.data).astype(int) - final).mean() for p in partials[:2])
    assert last <= first and partials[0].image.shape == final.shape


def test_streamed_answer_equals_the_plain_answer(azure_standin, standin_settings):
    p = provider(standin_settings, "gpt-image-1.5")
    plain = p.generate(ImageRequest("a hen", "gpt-image-1.5", "1024x1024"))
    streamed = p.generate(ImageRequest("a hen", "gpt-image-1.5", "1024x1024", options={"stream": True}))
    assert streamed.images[0].data == plain.images[0].data
    assert last_json(azure_standin)["stream"] is True and "partial_images" not in last_json(azure_standin)


def test_streamed_edits_send_stream_and_partial_images_as_form_fields(azure_standin, standin_settings):
    partials = []
    result = provider(standin_settings, "gpt-image-2").edit(
        ImageRequest("paint it", "gpt-image-2", "1024x1024", images=[png()], options={"partial_images": 1}),
        on_partial=partials.append)
    fields = azure_standin.state["edit_uploads"][-1]["fields"]
    assert fields["stream"] is True and fields["partial_images"] == 1
    assert len(partials) == 1 and len(result.images) == 1


def test_a_refused_streamed_request_is_a_content_filter_error(azure_standin, standin_settings):
    azure_standin.state["blocked_terms"] = ["forbidden"]
    with pytest.raises(ContentFilterError):
        provider(standin_settings, "gpt-image-2").generate(
            ImageRequest("a forbidden fox", "gpt-image-2", "1024x1024", options={"partial_images": 2}))


def test_models_that_do_not_stream_refuse_partial_images(azure_standin, standin_settings):
    with pytest.raises(UnsupportedParameterError, match="partial_images"):
        provider(standin_settings, "dall-e-3").generate(ImageRequest("x", "dall-e-3", "1024x1024",
                                                                     options={"partial_images": 1}))


def test_dalle3_is_legacy_and_says_it_was_retired(azure_standin, standin_settings, caplog):
    caps = capabilities_for("dall-e-3")
    assert caps.retired == "2026-03-04" and "retired on Azure on 2026-03-04" in caps.description
    with caplog.at_level("WARNING"):
        result = provider(standin_settings, "dall-e-3").generate(
            ImageRequest("a lighthouse", "dall-e-3", "1024x1024", options={"response_format": "b64_json"}))
    assert result.metadata["retired"] == "2026-03-04"
    assert "retired on Azure on 2026-03-04" in caplog.text


def test_a_retired_deployment_that_answers_404_names_the_retirement(azure_standin, standin_settings):
    azure_standin.inject(404, {"error": {"code": "DeploymentNotFound", "message": "gone"}}, path_contains="dall-e-3")
    with pytest.raises(UnknownDeploymentError, match="retired on Azure on 2026-03-04.*gpt-image-2"):
        provider(standin_settings, "dall-e-3").generate(ImageRequest("x", "dall-e-3", "1024x1024"))


def test_flux2_flex_sends_ten_references_guidance_and_steps(azure_standin, standin_settings):
    references = [png(colour) for colour in ("red", "green", "blue", "white", "black", "yellow", "cyan", "magenta",
                                             "orange", "purple")]
    provider(standin_settings, "flux-2-flex").edit(ImageRequest(
        "a poster in these styles", "flux.2-flex", "1440x768", seed=9, images=references,
        options={"guidance": 4.5, "steps": 28}))
    entry = image_requests(azure_standin)[-1]
    assert entry.path == "/providers/blackforestlabs/v1/flux-2-flex" and entry.query == {"api-version": "preview"}
    body = json.loads(entry.body)
    keys = ["input_image"] + [f"input_image_{i}" for i in range(2, 11)]
    assert [base64.b64decode(body[k]) for k in keys] == references
    assert (body["width"], body["height"], body["guidance"], body["steps"], body["seed"]) == (1440, 768, 4.5, 28, 9)


def test_flux2_pro_takes_eight_references_not_nine(azure_standin, standin_settings):
    p = provider(standin_settings, "flux-2-pro")
    p.edit(ImageRequest("combine", "flux.2-pro", "1024x1024", images=[png()] * 8))
    assert "input_image_8" in last_json(azure_standin) and "input_image_9" not in last_json(azure_standin)
    with pytest.raises(UnsupportedParameterError, match="at most 8"):
        p.edit(ImageRequest("combine", "flux.2-pro", "1024x1024", images=[png()] * 9))
    with pytest.raises(UnsupportedParameterError) as caught:
        p.generate(ImageRequest("x", "flux.2-pro", "1024x1024", options={"guidance": 3}))
    assert caught.value.parameter == "guidance"


def test_flux_takes_any_size_in_steps_of_32(azure_standin, standin_settings):
    provider(standin_settings, "flux-2-pro").generate(ImageRequest("x", "flux.2-pro", "1248x832"))
    assert (last_json(azure_standin)["width"], last_json(azure_standin)["height"]) == (1248, 832)
    with pytest.raises(UnsupportedParameterError, match="multiples of 32"):
        provider(standin_settings, "flux-2-pro").generate(ImageRequest("x", "flux.2-pro", "1000x1000"))


def test_mai_image_sends_width_and_height_on_the_mai_route(azure_standin, standin_settings):
    p = provider(standin_settings, "mai-image-2-5-flash")
    assert isinstance(p, MAIImagesProvider)
    result = p.generate(ImageRequest("a teapot", "mai-image-2.5-flash", "1536x1024"))
    entry = image_requests(azure_standin)[-1]
    assert entry.path == "/mai/v1/images/generations" and "api-version" not in entry.query
    assert json.loads(entry.body) == {"model": "mai-image-2-5-flash", "prompt": "a teapot", "width": 1536,
                                      "height": 1024}
    assert result.provider == "foundry_mai" and result.images[0].data[:4] == b"\x89PNG"


@pytest.mark.parametrize("model, size, reason", [("mai-image-2", "1536x1024", "1,048,576"),
                                                 ("mai-image-2.5-flash", "1024x512", "at least 768"),
                                                 ("mai-image-2.5-flash", "2048x2048", "2,359,296")])
def test_mai_sizes_outside_its_limits_fail_before_sending(azure_standin, standin_settings, model, size, reason):
    deployment = {"mai-image-2": "mai-image-2", "mai-image-2.5-flash": "mai-image-2-5-flash"}[model]
    with pytest.raises(UnsupportedParameterError, match=reason):
        provider(standin_settings, deployment).generate(ImageRequest("x", model, size))
    assert image_requests(azure_standin) == []


def test_mai_refuses_what_it_does_not_take(azure_standin, standin_settings):
    p = provider(standin_settings, "mai-image-2")
    for request in (ImageRequest("x", "mai-image-2", "1024x1024", seed=3),
                    ImageRequest("x", "mai-image-2", "1024x1024", quality="high"),
                    ImageRequest("x", "mai-image-2", "1024x1024", options={"partial_images": 1})):
        with pytest.raises(UnsupportedParameterError):
            p.generate(request)
    with pytest.raises(UnsupportedParameterError, match="no edits"):
        p.edit(ImageRequest("x", "mai-image-2", "1024x1024", images=[png()]))
    assert image_requests(azure_standin) == []


def test_mai_content_filter(azure_standin, standin_settings):
    azure_standin.state["blocked_terms"] = ["forbidden"]
    with pytest.raises(ContentFilterError):
        provider(standin_settings, "mai-image-2").generate(ImageRequest("forbidden", "mai-image-2", "1024x1024"))


def test_generate_resolves_the_new_models_by_name(azure_standin, standin_settings):
    from imagestudio_nb import generate

    partials = []
    results = generate("a fox", model="gpt-image-2", size="2048x1152", partial_images=1, on_partial=partials.append,
                       settings=standin_settings, progress=False)
    assert len(partials) == 1 and results.record["request"]["options"] == {"partial_images": 1}
    mai = generate("a fox", model="MAI-Image-2", size="1024x768", settings=standin_settings, progress=False)
    assert mai.record["provider"] == "foundry_mai"
