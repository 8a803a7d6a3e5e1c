"""One rate limiter per deployment, shared by every call in the process (DESIGN.md D7).

A token bucket spaces requests to the deployment's configured rate, and a 429's ``Retry-After`` /
``retry-after-ms`` pauses every caller of that deployment, not only the one that was refused. When no
rate is configured, a 429 that follows a busy second teaches the bucket a rate (90% of what the service
accepted in that second), so that callers released after the pause leave one by one instead of all at
once; a configured rate is never changed. The limiter only waits; it never sends anything and never
retries by itself (see ``retry.py``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping


#: Seconds without a 429 after which a learned (not configured) rate is forgotten.
LEARNED_RATE_LIFETIME = 60.0


class DeploymentLimiter:
    """A token bucket plus a shared pause for one deployment.

    Parameters
    ----------
    key : str
        What the limiter guards (``"<endpoint url>|<deployment>"``).
    requests_per_second : float, optional
        The sustained rate; ``None`` means no spacing (only pauses after a 429 apply).
    burst : int
        How many requests may leave at once after an idle spell.

    Examples
    --------
    >>> limiter = DeploymentLimiter("demo", requests_per_second=1000, burst=2)
    >>> [limiter.acquire() < 0.01 for _ in range(2)]
    [True, True]
    """

    def __init__(self, key: str, *, requests_per_second: float | None = None, burst: int = 1,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.key = key
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self.rate: float | None = None
        self.burst = 1
        self.learned = False
        self._learned_at = 0.0
        self._tokens = 0.0
        self._stamp = clock()
        self._accepted: deque[float] = deque(maxlen=4096)
        self.set_rate(requests_per_second, burst=burst)
        #: Counters for reports and benchmarks: requests let through, 429 pauses, seconds waited.
        self.stats = {"acquired": 0, "pauses": 0, "waited_s": 0.0}

    def set_rate(self, requests_per_second: float | None, *, burst: int = 1) -> None:
        """Configure the sustained rate (``None``: unlimited) and the burst size."""
        if requests_per_second is not None and requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive (or None for no limit)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        with self._lock:
            self.rate, self.burst, self.learned = requests_per_second, int(burst), False
            self._tokens, self._stamp = float(self.burst), self._clock()

    def accepted(self) -> None:
        """Note that the service accepted a request (used to learn a rate from a 429)."""
        with self._lock:
            self._accepted.append(self._clock())
            if self.learned:
                self.rate *= 1.002

    def acquire(self) -> float:
        """Wait until a request may leave; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if self.learned and now - self._learned_at > LEARNED_RATE_LIFETIME:
                    self.rate, self.learned = None, False  # a quiet minute: forget what a burst taught
                delay = self._paused_until - now
                if delay <= 0:
                    if self.rate is None:
                        self.stats["acquired"] += 1
                        self.stats["waited_s"] += waited
                        return waited
                    elapsed = max(0.0, now - self._stamp)
                    self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
                    self._stamp = max(self._stamp, now)
                    if self._tokens >= 1.0 - 1e-9:  # tolerance: float sums may fall a hair short of 1
                        self._tokens = max(0.0, self._tokens - 1.0)
                        self.stats["acquired"] += 1
                        self.stats["waited_s"] += waited
                        return waited
                    delay = (1.0 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Hold every caller of this deployment for ``seconds`` from now (a 429's Retry-After)."""
        with self._lock:
            now = self._clock()
            until = now + max(0.0, seconds)
            if until > self._paused_until:
                self._paused_until = until
            self.stats["pauses"] += 1
            if self.rate is None or self.learned:
                self._learn(now)
            # The bucket does not fill during a pause: when it ends, waiting callers leave one by one.
            self._tokens = min(self._tokens, 1.0)
            self._stamp = max(self._stamp, self._paused_until)

    def _learn(self, now: float) -> None:
        # What the service let through in the last second is its rate, give or take; aim 10% under it.
        # With fewer than three accepted requests there is nothing to learn from: the pause alone applies.
        # Once learned, each further 429 takes 10% off (it may be jitter rather than a lower limit), and each
        # accepted request adds a little back (see ``accepted``): additive increase, multiplicative decrease.
        recent = sum(1 for t in self._accepted if now - t <= 1.0)
        if self.learned:
            self.rate, self._learned_at = max(0.05, self.rate * 0.9), now
        elif recent >= 3:
            self.rate, self.burst, self.learned, self._learned_at = 0.9 * recent, 1, True, now
        if self.learned:
            self.stats["learned_rate"] = self.rate

    @property
    def paused_for(self) -> float:
        """Seconds left in the current pause (0 when not paused)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())


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
