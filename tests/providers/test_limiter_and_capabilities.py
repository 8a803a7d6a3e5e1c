"""The limiter's slots, margin and pause on a fake clock, Retry-After parsing, the capability table and its docs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from imagestudio_nb.errors import UnknownModelError
from imagestudio_nb.providers.capabilities import (CAPABILITIES, canonical_model, capabilities_for,
                                                   capability_table_markdown)
from imagestudio_nb.providers.pacing import PENALTY_HALF_LIFE, PENALTY_PER_429
from imagestudio_nb.providers.limiter import (DeploymentLimiter, configured_rates, limiter_for, limiter_stats,
                                              rate_limit_events, retry_after_seconds, set_rate_limit)


class FakeClock:
    def __init__(self, oversleep: float = 0.0):
        self.now = 100.0
        self.sleeps: list[float] = []
        self.oversleep = oversleep  # a loaded machine wakes sleepers late

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + self.oversleep


def test_bucket_spaces_requests_at_the_rate_after_the_burst():
    clock = FakeClock()
    limiter = DeploymentLimiter("d", requests_per_second=10, burst=2, min_margin=0, clock=clock,
                                sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits[:2] == [0.0, 0.0]
    assert waits[2:] == pytest.approx([0.1, 0.1, 0.1])


def test_a_pause_holds_callers_until_it_ends_then_lets_them_out_one_by_one():
    clock = FakeClock()
    limiter = DeploymentLimiter("d", requests_per_second=5, burst=3, min_margin=0, clock=clock, sleep=clock.sleep)
    limiter.pause(2.0)
    assert limiter.paused_for == pytest.approx(2.0)
    assert limiter.acquire() == pytest.approx(2.0)
    # the bucket restarted with one token, not a burst; spaced by the margin the 429 added
    assert limiter.acquire() == pytest.approx(0.2 * (1 + PENALTY_PER_429), rel=0.01)
    assert limiter.stats["pauses"] == 1


def test_a_shorter_pause_does_not_shorten_a_longer_one():
    clock = FakeClock()
    limiter = DeploymentLimiter("d", clock=clock, sleep=clock.sleep)
    limiter.pause(3.0)
    limiter.pause(1.0)
    assert limiter.paused_for == pytest.approx(3.0)


def test_unlimited_limiter_never_waits():
    limiter = DeploymentLimiter("d")
    assert all(limiter.acquire() == 0.0 for _ in range(100))


def test_one_limiter_per_deployment_shared_across_threads():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(limiter_for("https://a", "dep"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(limiter) for limiter in seen}) == 1
    assert limiter_for("https://a", "other") is not seen[0]
    assert limiter_for("https://b", "dep") is not seen[0]


def test_a_rate_set_before_first_use_applies_to_the_limiter_created_later():
    set_rate_limit("https://a", "late", requests_per_minute=30)
    assert limiter_for("https://a", "late").rate == pytest.approx(0.5)


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after-ms": "1500"}, 1.5), ({"Retry-After-Ms": "20", "Retry-After": "5"}, 0.02),
    ({"Retry-After": "3"}, 3.0), ({"x-ms-retry-after-ms": "40"}, 0.04),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None), ({}, None), (None, None)])
def test_retry_after_headers(headers, expected):
    assert retry_after_seconds(headers) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("alias, canonical", [
    ("gpt-image-1", "gpt-image-1"), ("GPT-Image-1-Mini", "gpt-image-1-mini"), ("gpt-image-1.5", "gpt-image-1.5"),
    ("gpt-image-1-2025-04-15", "gpt-image-1"), ("dall-e-3", "dall-e-3"), ("DALLE3", "dall-e-3"),
    ("FLUX-1.1-pro", "flux-1.1-pro"), ("flux-pro-1.1", "flux-1.1-pro"), ("FLUX.1-Kontext-pro", "flux.1-kontext-pro"),
    ("flux-kontext-pro", "flux.1-kontext-pro"), ("FLUX.2-pro", "flux.2-pro"), ("flux-2-flex", "flux.2-flex"),
    ("gpt-4o", None), ("local", None)])
def test_model_aliases(alias, canonical):
    assert canonical_model(alias) == canonical


def test_capabilities_as_the_issue_states_them():
    gpt = capabilities_for("gpt-image-1")
    assert gpt.sizes == ("1024x1024", "1536x1024", "1024x1536", "auto")
    assert gpt.qualities == ("low", "medium", "high", "auto") and gpt.max_n == 10
    assert gpt.backgrounds == ("transparent", "opaque", "auto") and gpt.output_formats == ("png", "jpeg", "webp")
    assert {"output_compression", "moderation"} <= set(gpt.options) and gpt.mask_edit
    dalle = capabilities_for("dall-e-3")
    assert dalle.sizes == ("1024x1024", "1792x1024", "1024x1792") and dalle.max_n == 1
    assert dalle.qualities == ("standard", "hd") and dalle.styles == ("vivid", "natural")
    assert dalle.options["response_format"] == ("url", "b64_json") and not dalle.edit
    assert capabilities_for("flux-1.1-pro", route="bfl").seed and not capabilities_for("flux-1.1-pro").seed
    with pytest.raises(UnknownModelError, match="gpt-image-1"):
        capabilities_for("midjourney")


def test_docs_models_table_is_generated_from_the_code():
    docs = (Path(__file__).parents[2] / "docs" / "models.md").read_text()
    assert capability_table_markdown() in docs, "regenerate with: python -m imagestudio_nb.providers.capabilities"
    assert all(f"`{name}`" in docs for name in CAPABILITIES)


def test_a_429_after_a_busy_second_teaches_a_rate_when_none_is_configured():
    clock = FakeClock()
    limiter = DeploymentLimiter("d", min_margin=0, clock=clock, sleep=clock.sleep)
    for _ in range(10):  # the service accepted 10 requests within the last second
        limiter.acquire()
        limiter.accepted()
        clock.now += 0.05
    limiter.pause(0.5)
    assert limiter.learned and limiter.rate == pytest.approx(9.0)
    waits = [limiter.acquire() for _ in range(3)]
    # The pause, and then the window: 9 may leave per (1 + margin) s (the margin the 429 added), and the 2nd
    # to 10th of the earlier ten left at 100.05-100.45, so the next leaves 1 + margin after 100.05; then one by one.
    spread = 1 + PENALTY_PER_429
    assert waits[0] == pytest.approx(100.05 + spread - 100.5, rel=1e-3)
    assert waits[1:] == pytest.approx([spread / 9, spread / 9], rel=1e-3)
    clock.now += 61  # a quiet minute later the learned rate is forgotten
    assert limiter.acquire() == 0.0 and limiter.rate is None


def test_a_configured_rate_is_never_changed_by_a_429_and_few_requests_teach_nothing():
    clock = FakeClock()
    configured = DeploymentLimiter("c", requests_per_second=5, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        configured.acquire()
        configured.accepted()
    configured.pause(1)
    assert configured.rate == 5 and not configured.learned
    quiet = DeploymentLimiter("q", clock=clock, sleep=clock.sleep)
    quiet.acquire()
    quiet.accepted()
    quiet.pause(1)
    assert quiet.rate is None


def test_the_margin_starts_cautious_then_follows_the_lateness_callers_observe():
    clock = FakeClock(oversleep=0.03)  # every wake-up 30 ms late, as on a loaded machine
    limiter = DeploymentLimiter("d", requests_per_second=10, clock=clock, sleep=clock.sleep)
    assert limiter.margin == pytest.approx(0.10)  # jitter unknown yet: 10%
    for _ in range(20):
        limiter.acquire()
    assert limiter.margin == pytest.approx(0.02 + 0.03)  # the floor plus the observed lateness
    started = clock.now
    limiter.acquire()
    assert clock.now - started == pytest.approx(1.05 / 10)  # slots follow the margin


def test_on_a_quiet_clock_the_margin_settles_at_its_floor():
    clock = FakeClock()
    limiter = DeploymentLimiter("d", requests_per_second=10, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        limiter.acquire()
    assert limiter.margin == pytest.approx(0.02)


def test_every_429_widens_the_margin_and_the_widening_fades():
    clock = FakeClock()
    limiter = DeploymentLimiter("d", requests_per_second=10, min_margin=0.02, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        limiter.acquire()
    limiter.pause(0.1)
    limiter.pause(0.1)
    assert limiter.margin == pytest.approx(0.02 + 2 * PENALTY_PER_429)
    clock.now += PENALTY_HALF_LIFE
    assert limiter.margin == pytest.approx(0.02 + PENALTY_PER_429)


def test_every_429_is_recorded_with_its_pause_and_the_margin_after_it():
    clock = FakeClock()
    limiter = limiter_for("https://a", "recorded")
    assert rate_limit_events() == []
    limiter.pause(0.25)
    [event] = rate_limit_events()
    assert event.key == "https://a|recorded" and event.retry_after == 0.25
    assert event.margin >= 0.02 + PENALTY_PER_429
    assert limiter.stats["pauses"] == 1 and limiter_stats()["https://a|recorded"]["pauses"] == 1
    del clock


def test_a_429_while_a_caller_waits_moves_that_caller_after_the_pause():
    clock = FakeClock()
    limiter = DeploymentLimiter("d", requests_per_second=10, min_margin=0, clock=clock, sleep=None)

    def sleep_while_another_caller_meets_a_429(seconds):
        clock.sleep(seconds)
        if len(clock.sleeps) == 1:
            limiter.pause(1.0)  # another thread's request was refused while this one slept

    limiter._sleep = sleep_while_another_caller_meets_a_429
    limiter.acquire()  # the first slot is free
    started = clock.now
    limiter.acquire()  # its slot (0.1 s) fell inside the 1 s pause: it waits for the pause to end
    assert clock.now - started == pytest.approx(0.1 + 1.0)


def test_configured_rates_are_what_a_cluster_service_is_told():
    set_rate_limit("https://a", "x", requests_per_second=4)
    limiter_for("https://a", "y", requests_per_second=2, burst=3)
    limiter_for("https://a", "z")
    assert configured_rates() == {"https://a|x": (4, 1), "https://a|y": (2, 3)}


def test_callers_that_wake_late_together_never_crowd_a_window():
    """Slots keep the long-run rate; a late wake-up must not let eleven leave within one second at 10/s."""
    clock = FakeClock()
    limiter = DeploymentLimiter("d", requests_per_second=10, min_margin=0.02, clock=clock, sleep=clock.sleep)
    departures = []
    for k in range(40):
        if k == 12:
            clock.now += 0.35  # this process was descheduled: its slots went by
        limiter.acquire()
        departures.append(clock.now)
    margin = limiter.margin
    assert min(b - a for a, b in zip(departures, departures[10:])) >= 1.0 * (1 + 0.02) - 1e-9
    assert margin >= 0.02
