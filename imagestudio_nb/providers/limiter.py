"""One rate limiter per deployment, shared by every call in the process or in a whole cluster (DESIGN.md D7).

Requests leave on the send slots of the deployment's :class:`~.pacing.Pacer`: spaced to the configured
rate plus a margin that follows the lateness callers observe and every 429; a 429's ``Retry-After`` /
``retry-after-ms`` pauses every caller of that deployment, not only the one that was refused. When no rate is
configured, a 429 that follows a busy second teaches a rate (90% of what the service accepted in that
second). Every 429 is recorded (``rate_limit_events()``). In a Dask cluster, ``use_shared_pacers`` hands
the slots to one service for the whole cluster (``imagestudio_nb.scale.cluster_limiter``), so N workers
never send N times the rate. The limiter only waits; it never sends anything and never retries by itself
(see ``retry.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol

from .pacing import LEARNED_RATE_LIFETIME, MIN_MARGIN, Pacer, RateLimitEvent

log = logging.getLogger(__name__)

#: The local margin follows this quantile of the observed lateness (see ``DeploymentLimiter``).
JITTER_QUANTILE = 0.9

__all__ = ["LEARNED_RATE_LIFETIME", "DeploymentLimiter", "RateLimitEvent", "SharedPacers", "limiter_for",
           "limiter_key", "rate_limit_events", "reset_limiters", "retry_after_seconds", "set_rate_limit",
           "configured_rates", "limiter_stats", "shared_pacers", "use_shared_pacers"]


class SharedPacers(Protocol):
    """Send slots kept outside this process (one service for a cluster), as wall-clock times.

    Wall-clock slots make the round trip to the service irrelevant on one machine (every process reads
    the same clock); between machines the clocks' offset adds to the jitter the margin must cover.
    """

    def reserve(self, key: str, rate: float | None, burst: int, lateness: list[float],
                round_trips: list[float]) -> float:
        """The wall-clock time (``time.time()``) at which the next request of ``key`` may leave; ``lateness``
        and ``round_trips`` are this process's observations since its last reservation."""

    def pause(self, key: str, seconds: float, rate: float | None, burst: int) -> None:
        """A 429 for ``key``: pause every caller in the cluster."""

    def accepted(self, key: str) -> None:
        """The service accepted a request of ``key``."""


_shared: SharedPacers | None = None
_events: deque[RateLimitEvent] = deque(maxlen=10_000)


class DeploymentLimiter:
    """The send slots of one deployment, for the threads of this process.

    Parameters
    ----------
    key : str
        What the limiter guards (``"<endpoint url>|<deployment>"``).
    requests_per_second : float, optional
        The sustained rate; ``None`` means no spacing (only pauses after a 429 apply).
    burst : int
        How many requests may leave at once after an idle spell.
    min_margin : float
        The smallest spacing margin, as a fraction of a one-second window (see ``pacing.py``).

    Examples
    --------
    >>> limiter = DeploymentLimiter("demo", requests_per_second=1000, burst=2)
    >>> [limiter.acquire() < 0.01 for _ in range(2)]
    [True, True]
    """

    def __init__(self, key: str, *, requests_per_second: float | None = None, burst: int = 1,
                 min_margin: float = MIN_MARGIN, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.key = key
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        # Departures are known here, so the window guard covers this process's own late wake-ups; the margin
        # need only cover what happens after a request leaves, for which the usual lateness is the measure.
        self._pacer = Pacer(requests_per_second, burst, min_margin=min_margin, jitter_quantile=JITTER_QUANTILE)
        self._configured = (requests_per_second, int(burst))
        self._lateness: list[float] = []  # observed here, not yet reported to a shared pacer
        self._round_trips: list[float] = []
        #: Counters for reports and benchmarks: requests let through, 429 pauses, seconds waited.
        self.stats: dict[str, float] = {"acquired": 0, "pauses": 0, "waited_s": 0.0}

    @property
    def rate(self) -> float | None:
        return self._pacer.rate

    @property
    def burst(self) -> int:
        return self._pacer.burst

    @property
    def learned(self) -> bool:
        return self._pacer.learned

    @property
    def margin(self) -> float:
        """The spacing margin now in force (a fraction of the one-second window)."""
        with self._lock:
            return self._pacer.margin(self._clock())

    def set_rate(self, requests_per_second: float | None, *, burst: int = 1) -> None:
        """Configure the sustained rate (``None``: unlimited) and the burst size."""
        with self._lock:
            self._pacer.set_rate(requests_per_second, burst=burst)
            self._configured = (requests_per_second, int(burst))

    def accepted(self) -> None:
        """Note that the service accepted a request (used to learn a rate from a 429)."""
        shared = _shared
        if shared is not None:
            shared.accepted(self.key)
            return
        with self._lock:
            self._pacer.accepted(self._clock())

    def acquire(self) -> float:
        """Wait until a request may leave; return the seconds waited."""
        shared = _shared
        if shared is not None:
            return self._acquire_shared(shared)
        started, slept = self._clock(), False
        while True:
            with self._lock:
                slot = self._pacer.reserve(self._clock())
                pauses = self._pacer.pauses
            delay = slot - self._clock()
            if delay > 0:
                self._sleep(delay)
                slept = True
            with self._lock:
                now = self._clock()
                if self._pacer.pauses != pauses and now < self._pacer.paused_until:
                    continue  # a 429 arrived while this caller slept: take a slot after the pause
                if delay > 0:
                    self._pacer.observe_lateness(now - slot)
            held = False
            while True:  # callers that woke late together leave no closer than the service's window allows
                with self._lock:
                    now = self._clock()
                    guard = self._pacer.window_guard(now)
                    if guard <= now:
                        self._pacer.departed(now, held=held)
                        return self._count(now - started if slept else 0.0)
                self._sleep(guard - now)
                slept = held = True

    def _acquire_shared(self, shared: SharedPacers) -> float:
        rate, burst = self._configured
        with self._lock:
            lateness, self._lateness = self._lateness, []
            round_trips, self._round_trips = self._round_trips, []
        started = time.time()
        slot = shared.reserve(self.key, rate, burst, lateness, round_trips)
        with self._lock:
            self._round_trips.append(time.time() - started)
        if slot > time.time():
            self._sleep(slot - time.time())
        now = time.time()
        with self._lock:
            # How late this request leaves against the cluster's schedule (oversleeping, or an answer that
            # came back after the slot): reported with the next reservation, so the margin covers it.
            self._lateness.append(max(0.0, now - slot))
            return self._count(now - started)

    def _count(self, waited: float) -> float:
        self.stats["acquired"] += 1
        self.stats["waited_s"] += waited
        return waited

    def pause(self, seconds: float) -> None:
        """Hold every caller of this deployment for ``seconds`` from now (a 429's Retry-After); record it."""
        shared = _shared
        with self._lock:
            self.stats["pauses"] += 1
            if shared is None:
                self._pacer.pause(self._clock(), seconds)
                if self._pacer.learned:
                    self.stats["learned_rate"] = self._pacer.rate
                margin = self._pacer.margin(self._clock())
            else:
                margin = float("nan")  # kept by the cluster's service, which records the event too
        if shared is not None:
            shared.pause(self.key, seconds, *self._configured)
        event = RateLimitEvent(time.time(), self.key, seconds, margin)
        _events.append(event)
        log.warning("429 from %s: every caller paused for %.2f s (margin now %.3f)", self.key, seconds, margin)

    @property
    def paused_for(self) -> float:
        """Seconds left in the current pause (0 when not paused)."""
        with self._lock:
            return max(0.0, self._pacer.paused_until - self._clock())


def use_shared_pacers(shared: SharedPacers | None) -> None:
    """Take send slots from ``shared`` (a cluster-wide service) in this process, or locally again (``None``)."""
    global _shared
    _shared = shared


def shared_pacers() -> SharedPacers | None:
    """The cluster-wide service this process takes its slots from, if any."""
    return _shared


def configured_rates() -> dict[str, tuple[float | None, int]]:
    """Rates configured in this process, per limiter key: ``{key: (requests_per_second, burst)}``.

    Examples
    --------
    >>> _ = set_rate_limit("https://x.openai.azure.com", "img", requests_per_second=4)
    >>> configured_rates()["https://x.openai.azure.com|img"]
    (4, 1)
    >>> reset_limiters()
    """
    with _registry_lock:
        rates = dict(_pending_rates)
        limiters = list(_limiters.values())
    for limiter in limiters:
        if limiter._configured[0] is not None:
            rates[limiter.key] = limiter._configured
    return rates


def limiter_stats() -> dict[str, dict[str, float]]:
    """Per deployment key, this process's counters: requests let through, 429 pauses, seconds waited."""
    with _registry_lock:
        return {key: dict(limiter.stats, margin=limiter.margin) for key, limiter in _limiters.items()}


def rate_limit_events() -> list[RateLimitEvent]:
    """Every 429 this process met (the newest 10,000), oldest first.

    Examples
    --------
    >>> isinstance(rate_limit_events(), list)
    True
    """
    return list(_events)


_limiters: dict[str, DeploymentLimiter] = {}
_pending_rates: dict[str, tuple[float | None, int]] = {}
_registry_lock = threading.Lock()


def limiter_key(endpoint_url: str, deployment: str) -> str:
    """The key of a deployment's limiter."""
    return f"{endpoint_url.rstrip('/')}|{deployment}"


def limiter_for(endpoint_url: str, deployment: str, *, requests_per_second: float | None = None,
                burst: int = 1) -> DeploymentLimiter:
    """The process-wide limiter of a deployment, created on first use.

    A rate given here (or earlier with :func:`set_rate_limit`) applies when the limiter is created;
    an existing limiter keeps its rate unless ``requests_per_second`` is given.
    """
    key = limiter_key(endpoint_url, deployment)
    with _registry_lock:
        limiter = _limiters.get(key)
        if limiter is None:
            rate, size = _pending_rates.get(key, (requests_per_second, burst))
            limiter = _limiters[key] = DeploymentLimiter(key, requests_per_second=rate, burst=size)
            return limiter
    if requests_per_second is not None and (limiter.rate, limiter.burst) != (requests_per_second, burst):
        limiter.set_rate(requests_per_second, burst=burst)
    return limiter


def set_rate_limit(endpoint_url: str, deployment: str, *, requests_per_second: float | None = None,
                   requests_per_minute: float | None = None, burst: int = 1) -> DeploymentLimiter:
    """Set a deployment's sustained rate (per second or per minute), now and for limiters created later.

    Examples
    --------
    >>> set_rate_limit("https://x.openai.azure.com", "img", requests_per_minute=120).rate
    2.0
    >>> reset_limiters()
    """
    if requests_per_minute is not None:
        requests_per_second = requests_per_minute / 60.0
    key = limiter_key(endpoint_url, deployment)
    with _registry_lock:
        _pending_rates[key] = (requests_per_second, burst)
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = DeploymentLimiter(key, requests_per_second=requests_per_second, burst=burst)
            return limiter
    limiter.set_rate(requests_per_second, burst=burst)
    return limiter


def reset_limiters() -> None:
    """Forget every limiter and configured rate (tests, or after the settings changed)."""
    with _registry_lock:
        _limiters.clear()
        _pending_rates.clear()
        _events.clear()


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Read ``retry-after-ms`` (preferred, more precise) or ``Retry-After`` (seconds) from response headers.

    Examples
    --------
    >>> retry_after_seconds({"retry-after-ms": "250", "Retry-After": "1"})
    0.25
    >>> retry_after_seconds({"Retry-After": "2"}), retry_after_seconds({})
    (2.0, None)
    """
    if not headers:
        return None
    lowered = {str(k).lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1000.0), ("x-ms-retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue  # an HTTP date: rare on Azure; fall back to backoff
        if 0 <= seconds <= 600:
            return seconds
    return None
