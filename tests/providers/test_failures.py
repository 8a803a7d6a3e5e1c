"""Failures a person can meet, through the real SDK and the stand-in: content filter (both shapes),
credentials, unknown deployments, rate limits shared by every thread, server errors, timeouts, partial results."""

from __future__ import annotations

import threading

import pytest

from imagestudio_nb import Project, generate
from imagestudio_nb.config import Settings
from imagestudio_nb.errors import (ContentFilterError, CredentialsError, PartialResultError, ProviderError,
                                   RateLimitError, UnknownDeploymentError)
from imagestudio_nb.providers.base import ImageRequest
from imagestudio_nb.providers.limiter import set_rate_limit
from imagestudio_nb.providers.retry import RetryPolicy
from tests.providers.helpers import FAST, endpoint_for, image_requests, provider
from tests.standin.images import content_filter_body
from tests.standin.server import API_KEY


def fox(model="gpt-image-1", **fields) -> ImageRequest:
    return ImageRequest("a red fox", model, fields.pop("size", "1024x1024"), **fields)


@pytest.mark.parametrize("shape", ["inner_error", "innererror"])
def test_content_filter_refusal_carries_the_categories_in_both_shapes(azure_standin, standin_settings, shape):
    azure_standin.inject(400, content_filter_body(shape, {"violence": "high", "hate": "low"}))
    with pytest.raises(ContentFilterError) as caught:
        provider(standin_settings, "gpt-image-1").generate(fox())
    categories = caught.value.categories
    assert categories["violence"] == {"filtered": True, "severity": "high"}
    assert categories["sexual"]["filtered"] is False
    assert "violence (high)" in str(caught.value) and "hate (low)" in str(caught.value)
    assert len(image_requests(azure_standin)) == 1  # a refusal is not retried


def test_the_services_own_filter_answer_for_dalle3_and_gpt_image(azure_standin, standin_settings):
    azure_standin.state["blocked_terms"] = ["forbidden"]
    for deployment in ("dall-e-3", "gpt-image-1"):
        with pytest.raises(ContentFilterError) as caught:
            provider(standin_settings, deployment).generate(
                ImageRequest("something forbidden", deployment, "1024x1024"))
        assert caught.value.categories["violence"]["filtered"] is True


def test_401_names_the_variable_to_set_and_never_the_key(azure_standin, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "wrong-key-123456")
    settings = Settings(endpoints=[endpoint_for(azure_standin.url)])
    with pytest.raises(CredentialsError) as caught:
        provider(settings, "gpt-image-1").generate(fox())
    assert "AZURE_OPENAI_API_KEY" in str(caught.value) and "401" in str(caught.value)
    assert "wrong-key-123456" not in str(caught.value)
    assert len(image_requests(azure_standin)) == 1


def test_401_names_the_endpoints_own_key_variable(azure_standin, monkeypatch):
    monkeypatch.setenv("MY_IMAGES_KEY", "wrong-key")
    settings = Settings(endpoints=[endpoint_for(azure_standin.url, api_key_env="MY_IMAGES_KEY")])
    with pytest.raises(CredentialsError, match="MY_IMAGES_KEY"):
        provider(settings, "gpt-image-1").generate(fox())


def test_403_is_a_credentials_error_too(azure_standin, standin_settings):
    azure_standin.inject(403, {"error": {"code": "PermissionDenied", "message": "principal lacks the role"}})
    with pytest.raises(CredentialsError, match="403.*AZURE_OPENAI_API_KEY"):
        provider(standin_settings, "gpt-image-1").generate(fox())


def test_a_missing_key_fails_before_any_request_naming_the_variable(azure_standin, monkeypatch):
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    settings = Settings(endpoints=[endpoint_for(azure_standin.url)])
    with pytest.raises(CredentialsError, match="AZURE_OPENAI_API_KEY"):
        provider(settings, "gpt-image-1").generate(fox())
    assert image_requests(azure_standin) == []


def test_404_lists_the_configured_deployments(azure_standin, standin_settings):
    from tests.standin.images import deployments

    deployments(azure_standin).pop("gpt-image-1")
    with pytest.raises(UnknownDeploymentError) as caught:
        provider(standin_settings, "gpt-image-1").generate(fox())
    message = str(caught.value)
    assert "standin/gpt-image-1 (gpt-image-1)" in message and "standin/dall-e-3 (dall-e-3)" in message
    assert "404" in message


def test_429_waits_retry_after_ms_and_succeeds(azure_standin, standin_settings):
    azure_standin.inject(429, headers={"Retry-After": "1", "retry-after-ms": "150"}, times=2)
    result = provider(standin_settings, "gpt-image-1").generate(fox())
    log = image_requests(azure_standin)
    assert len(log) == 3 and len(result.images) == 1
    assert log[1].time - log[0].time >= 0.14 and log[2].time - log[1].time >= 0.14
    assert result.metadata["attempts"] == [["rate_limit", 429], ["rate_limit", 429], ["ok", 200]]


def test_429_with_only_retry_after_seconds(azure_standin, standin_settings):
    azure_standin.inject(429, headers={"Retry-After": "1"})
    provider(standin_settings, "gpt-image-1").generate(fox())
    log = image_requests(azure_standin)
    assert log[1].time - log[0].time >= 0.95


def test_429_beyond_the_budget_raises_rate_limit_error(azure_standin, standin_settings):
    azure_standin.inject(429, headers={"retry-after-ms": "10"}, times=50)
    with pytest.raises(RateLimitError) as caught:
        provider(standin_settings, "gpt-image-1").generate(fox())
    assert caught.value.retry_after == pytest.approx(0.01)
    assert len(image_requests(azure_standin)) == FAST.max_rate_limit_retries + 1


def test_a_429_pauses_every_thread_calling_the_deployment(azure_standin, standin_settings):
    # Four threads send 40 requests spaced 20 ms apart by the limiter; the first is refused with
    # retry-after-ms 400. Without a shared pause the other threads would keep arriving every 20 ms.
    set_rate_limit(azure_standin.url, "gpt-image-1", requests_per_second=50)
    azure_standin.inject(429, headers={"retry-after-ms": "400"}, times=1)
    providers = [provider(standin_settings, "gpt-image-1") for _ in range(4)]  # separate instances, one limiter
    assert len({id(p.limiter) for p in providers}) == 1
    start = threading.Barrier(4)
    errors = []

    def work(p):
        start.wait()
        try:
            for _ in range(10):
                p.generate(fox())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in providers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    log = image_requests(azure_standin)
    assert len(log) == 41  # 40 images + the one refused request
    refused_at = log[0].time  # the injected 429 answers the first request to arrive
    # Requests already in flight when the 429 came back land soon after it (within 150 ms even on a
    # loaded machine); after that nothing arrives until the pause ends. Without a shared pause the
    # threads would keep arriving every 20 ms throughout this window.
    assert [e for e in log if refused_at + 0.15 < e.time < refused_at + 0.39] == []
    assert len([e for e in log if e.time >= refused_at + 0.39]) >= 30


def test_the_limiter_spaces_requests_to_the_configured_rate(azure_standin, standin_settings):
    set_rate_limit(azure_standin.url, "gpt-image-1", requests_per_second=20)
    p = provider(standin_settings, "gpt-image-1")
    for _ in range(6):
        p.generate(fox())
    times = [e.time for e in image_requests(azure_standin)]
    # Five intervals at 20 per second leave the client 50 ms apart; arrival times jitter by a few ms.
    assert times[-1] - times[0] >= 0.23


def test_server_errors_are_retried_with_backoff(azure_standin, standin_settings):
    azure_standin.inject(500, times=2)
    result = provider(standin_settings, "gpt-image-1").generate(fox())
    assert len(image_requests(azure_standin)) == 3
    assert result.metadata["attempts"] == [["transient", 500], ["transient", 500], ["ok", 200]]


def test_server_errors_beyond_the_cap_raise_provider_error(azure_standin, standin_settings):
    azure_standin.inject(503, times=50)
    with pytest.raises(ProviderError, match="server error even after retries"):
        provider(standin_settings, "gpt-image-1").generate(fox())
    assert len(image_requests(azure_standin)) == FAST.max_retries + 1


def test_a_timeout_is_retried(azure_standin, standin_settings):
    azure_standin.inject(200, {"created": 0, "data": []}, delay=1.5)
    policy = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.02, timeout=0.4)
    result = provider(standin_settings, "gpt-image-1", policy=policy).generate(fox())
    assert len(result.images) == 1
    assert result.metadata["attempts"][0] == ["transient", "APITimeoutError"]


def test_timeouts_beyond_the_cap_raise_provider_error(azure_standin, standin_settings):
    azure_standin.inject(200, {"created": 0, "data": []}, delay=1.0, times=3)
    policy = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_cap=0.02, timeout=0.3)
    with pytest.raises(ProviderError, match="did not answer in time"):
        provider(standin_settings, "gpt-image-1", policy=policy).generate(fox())


def test_client_errors_are_not_retried(azure_standin, standin_settings):
    azure_standin.inject(400, {"error": {"code": "invalid_request_error", "message": "Invalid size"}})
    with pytest.raises(ProviderError, match="Invalid size"):
        provider(standin_settings, "gpt-image-1").generate(fox())
    assert len(image_requests(azure_standin)) == 1


def test_a_partial_result_is_flagged_by_the_provider(azure_standin, standin_settings):
    azure_standin.state["drop_images"] = 1
    result = provider(standin_settings, "gpt-image-1").generate(fox(n=3))
    assert len(result.images) == 2
    assert result.metadata["partial"] == {"asked": 3, "returned": 2}


def test_a_partial_result_is_never_silent_and_what_came_back_is_kept(azure_standin, standin_settings, tmp_path):
    azure_standin.state["drop_images"] = 1
    project = Project.create("partial", workspace=tmp_path / "ws")
    with pytest.raises(PartialResultError) as caught:
        generate("a red fox", model="gpt-image-1", n=3, project=project, settings=standin_settings, progress=False)
    assert len(caught.value.results) == 2
    record = project.generations()[-1]
    assert record["status"] == "partial" and len(record["assets"]) == 2


def test_no_key_reaches_a_record_a_message_or_the_project_file(azure_standin, standin_settings, tmp_path):
    project = Project.create("secrets", workspace=tmp_path / "ws")
    generate("a red fox", model="gpt-image-1", project=project, settings=standin_settings, progress=False)
    generate("a red fox", model="dall-e-3", project=project, settings=standin_settings, progress=False)
    text = (project.path / "project.isproj").read_text()
    assert API_KEY not in text and "sig=" not in text
    record = project.generations()[-1]
    assert record["metadata"]["wire"]["path"] == "/openai/deployments/dall-e-3/images/generations"
