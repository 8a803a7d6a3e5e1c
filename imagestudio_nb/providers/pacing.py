"""The arithmetic of one deployment's rate limit: a virtual schedule of send slots with an adaptive margin.

A :class:`Pacer` hands out send times (GCRA, the "virtual scheduling" form of a token bucket): slot ``k`` is
spaced ``(1 + margin) / rate`` after slot ``k - 1``, so the long-run rate never drifts whoever waits late.
The margin is what keeps a service's sliding one-second window from ever counting one request too many:
requests that leave late by up to ``J`` seconds can bunch by ``J``, so the margin follows the lateness the
callers observe (``observe_lateness``) and grows with every 429 (decaying again while none come). It holds
no lock, never sleeps and reads no clock: the caller passes ``now``, so the same code serves the threads of
one process (``limiter.py``) and a Dask actor serving a whole cluster (``scale/cluster_limiter.py``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

#: Seconds without a 429 after which a learned (not configured) rate is forgotten.
LEARNED_RATE_LIFETIME = 60.0
#: The margin never falls below this (a fraction of the service's one-second window).
MIN_MARGIN = 0.02
#: Nor rises above it: beyond a third the limit is better lowered by the 429s' rate learning.
MAX_MARGIN = 0.35
#: How much margin each 429 adds, and the half-life (seconds) of that addition: long, because what a 429
#: reveals (the service counting arrivals late, which no client can observe) lasts as long as the load does.
PENALTY_PER_429 = 0.04
PENALTY_HALF_LIFE = 120.0
#: How many recent lateness samples the jitter estimate looks at.
LATENESS_SAMPLES = 64
#: Until this many samples arrived the jitter is unknown: keep this margin meanwhile.
COLD_SAMPLES, COLD_MARGIN = 16, 0.10


@dataclass(frozen=True)
class RateLimitEvent:
    """One 429: when (``time.time()``), which deployment, the pause it asked for and the margin after it."""

    time: float
    key: str
    retry_after: float
    margin: float


class Pacer:
    """Send slots for one deployment.

    Parameters
    ----------
    rate : float, optional
        Requests per second the service allows; ``None``: no spacing until a 429 teaches a rate.
    burst : int
        Requests that may leave at once after an idle spell.
    min_margin : float
        The smallest margin kept, as a fraction of the one-second window.

    Examples
    --------
    >>> pacer = Pacer(rate=10, burst=1, min_margin=0.0)
    >>> [round(pacer.reserve(now=0.0), 3) for _ in range(3)]
    [0.0, 0.1, 0.2]
    >>> pacer.observe_lateness(0.03)  # a caller left 30 ms after its slot: keep 30 ms more per second
    >>> round(pacer.margin(now=0.0), 3), round(pacer.reserve(now=0.0), 3)
    (0.03, 0.3)
    """

    def __init__(self, rate: float | None = None, burst: int = 1, *, min_margin: float = MIN_MARGIN,
                 jitter_quantile: float = 1.0):
        self.min_margin = min_margin
        self.jitter_quantile = jitter_quantile
        self._departures: deque[float] = deque(maxlen=512)
        self.rate: float | None = None
        self.burst = 1
        self.learned = False
        self.learned_at = 0.0
        self.paused_until = 0.0
        self.pauses = 0  # counts pauses, so a caller can tell that one began while it waited
        self._tat = 0.0  # the theoretical arrival time of the next request (GCRA)
        self._lateness: deque[float] = deque(maxlen=LATENESS_SAMPLES)
        self._penalty, self._penalty_at = 0.0, 0.0
        self._accepted: deque[float] = deque(maxlen=4096)
        self.set_rate(rate, burst=burst)

    def set_rate(self, rate: float | None, *, burst: int = 1) -> None:
        """Configure the sustained rate (``None``: unlimited) and the burst size."""
        if rate is not None and rate <= 0:
            raise ValueError("requests_per_second must be positive (or None for no limit)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate, self.burst, self.learned = rate, int(burst), False

    def jitter(self) -> float:
        """Seconds of lateness to allow for: the ``jitter_quantile`` of the recent samples (1.0: the largest)."""
        if not self._lateness:
            return 0.0
        ordered = sorted(self._lateness)
        return ordered[round(self.jitter_quantile * (len(ordered) - 1))]

    def margin(self, now: float) -> float:
        """The current margin: observed jitter plus what recent 429s added, within its bounds.

        Until ``COLD_SAMPLES`` lateness samples arrived, at least ``COLD_MARGIN`` (when ``min_margin`` > 0):
        the first second of a batch is where an unknown jitter would otherwise cost a 429.
        """
        penalty = self._penalty * 0.5 ** (max(0.0, now - self._penalty_at) / PENALTY_HALF_LIFE)
        margin = self.min_margin + self.jitter() + penalty
        if self.min_margin > 0 and len(self._lateness) < COLD_SAMPLES:
            margin = max(margin, COLD_MARGIN)
        return min(MAX_MARGIN, margin)

    def interval(self, now: float) -> float:
        """Seconds between two slots (0 without a rate)."""
        return 0.0 if self.rate is None else (1.0 + self.margin(now)) / self.rate

    def reserve(self, now: float) -> float:
        """Claim the next send slot; return its time (``now`` or later) on the caller's clock."""
        if self.learned and now - self.learned_at > LEARNED_RATE_LIFETIME:
            self.rate, self.learned = None, False  # a quiet minute: forget what a burst taught
        start = max(now, self.paused_until)
        if self.rate is None:
            return start
        interval = self.interval(now)
        slot = max(start, self._tat - (self.burst - 1) * interval)
        self._tat = max(slot, self._tat) + interval
        return slot

    def window_guard(self, now: float) -> float:
        """The earliest time the next request may actually leave so that no window of ``n / rate`` seconds
        (``n`` the whole requests in a second, at least 1) widened by the margin holds more than ``n``
        departures, counted from the departures noted with :meth:`departed`.

        The slots alone keep the long-run rate; this guard keeps late wake-ups that leave together from ever
        bunching beyond the service's window, without giving up the time they lost.
        """
        if self.rate is None:
            return now
        n = min(max(1, int(self.rate)), self._departures.maxlen)
        if len(self._departures) < n:
            return now
        return max(now, self._departures[-n] + (n / self.rate) * (1.0 + self.margin(now)))

    def departed(self, now: float, *, held: bool = False) -> None:
        """Note that a request actually left now (for :meth:`window_guard`); ``held``: the guard held it,
        so the window is full and the schedule restarts from this departure (no credit for the wait)."""
        self._departures.append(now)
        if held:
            self._tat = max(self._tat, now + self.interval(now))

    def observe_lateness(self, seconds: float) -> None:
        """Note how late a caller actually left after its slot (its wake-up lateness, plus any round trip)."""
        if seconds >= 0:
            self._lateness.append(float(seconds))

    def accepted(self, now: float) -> None:
        """Note that the service accepted a request (used to learn a rate from a 429)."""
        self._accepted.append(now)
        if self.learned:
            self.rate *= 1.002

    def pause(self, now: float, seconds: float) -> None:
        """A 429: hold every slot for ``seconds``, raise the margin, learn a rate if none is configured."""
        self.paused_until = max(self.paused_until, now + max(0.0, seconds))
        self.pauses += 1
        self._penalty = min(MAX_MARGIN, self._penalty * 0.5 ** ((now - self._penalty_at) / PENALTY_HALF_LIFE)
                            + PENALTY_PER_429)
        self._penalty_at = now
        if self.rate is None or self.learned:
            self._learn(now)
        # No burst banked through a pause: when it ends, waiting callers leave one by one.
        self._tat = max(self._tat, self.paused_until + (self.burst - 1) * self.interval(now))

    def _learn(self, now: float) -> None:
        # What the service let through in the last second is its rate, give or take; aim 10% under it.
        # With fewer than three accepted requests there is nothing to learn from: the pause alone applies.
        # Once learned, each further 429 takes 10% off (it may be jitter rather than a lower limit), and each
        # accepted request adds a little back (see ``accepted``): additive increase, multiplicative decrease.
        recent = sum(1 for t in self._accepted if now - t <= 1.0)
        if self.learned:
            self.rate, self.learned_at = max(0.05, self.rate * 0.9), now
        elif recent >= 3:
            self.rate, self.burst, self.learned, self.learned_at = 0.9 * recent, 1, True, now
