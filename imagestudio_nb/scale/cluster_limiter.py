"""One rate limit per deployment for a whole Dask cluster: a Dask actor holds the send slots (DESIGN.md D7).

Every worker asks the same actor for its next slot (one round trip, a few milliseconds) instead of keeping
a bucket of its own, so N workers send one deployment's rate, not N times it; a 429 anywhere pauses
everyone, and the margin follows the lateness every worker reports. Why an actor rather than a Dask
``Semaphore`` or a ``Variable`` behind a ``Lock``: benchmarks/scale/RESULTS.md. This module only schedules;
it never sends a request.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from ..providers.pacing import Pacer, RateLimitEvent

#: Bounds of the lead (seconds) between a reservation and the earliest slot it may get (see ``reserve``).
MIN_LEAD, MAX_LEAD = 0.01, 0.25
#: Names of the published Dask dataset holding the actor and of the ``Lock`` guarding its creation.
SERVICE_NAME = "imagestudio-nb-pacer-service"
SERVICE_LOCK = "imagestudio-nb-pacer-service-lock"


class PacerService:
    """The actor: one :class:`~imagestudio_nb.providers.pacing.Pacer` per deployment key, on one worker.

    Rates configured by the process that started the batch win over the rates workers report (theirs come
    from the settings they were sent, which is the same configuration in the usual case).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._pacers: dict[str, Pacer] = {}
        self._configured: dict[str, tuple[float | None, int]] = {}
        self._events: list[RateLimitEvent] = []
        self._reserved: dict[str, int] = {}
        self._round_trips: deque[float] = deque(maxlen=128)

    def configure(self, rates: dict[str, tuple[float | None, int]]) -> None:
        """Set deployments' rates (``{key: (requests_per_second, burst)}``) for every worker."""
        with self._lock:
            for key, (rate, burst) in rates.items():
                self._configured[key] = (rate, int(burst))
                if key in self._pacers:
                    self._pacers[key].set_rate(rate, burst=int(burst))

    def _pacer(self, key: str, rate: float | None, burst: int) -> Pacer:
        pacer = self._pacers.get(key)
        if pacer is None:
            rate, burst = self._configured.get(key, (rate, burst))
            pacer = self._pacers[key] = Pacer(rate, burst)
        return pacer

    def reserve(self, key: str, rate: float | None, burst: int, lateness: list[float],
                round_trips: list[float] = ()) -> float:
        """The caller's slot as a ``time.time()`` value; ``lateness`` and ``round_trips`` are the caller's
        recent observations.

        No slot is handed out sooner than the usual round trip from now: a slot the answer cannot reach in
        time would leave late by the round trip while the next one leaves on time, and the two would bunch.
        """
        with self._lock:
            pacer = self._pacer(key, rate, burst)
            for seconds in lateness:
                pacer.observe_lateness(seconds)
            self._round_trips.extend(round_trips)
            self._reserved[key] = self._reserved.get(key, 0) + 1
            return pacer.reserve(time.time() + self._lead())

    def _lead(self) -> float:
        if not self._round_trips:
            return MIN_LEAD
        ordered = sorted(self._round_trips)
        return min(MAX_LEAD, max(MIN_LEAD, ordered[int(0.9 * (len(ordered) - 1))]))

    def pause(self, key: str, seconds: float, rate: float | None, burst: int) -> None:
        """A 429 seen by any worker: pause the deployment for every worker and record it."""
        with self._lock:
            pacer = self._pacer(key, rate, burst)
            now = time.time()
            pacer.pause(now, seconds)
            self._events.append(RateLimitEvent(time.time(), key, seconds, pacer.margin(now)))

    def accepted(self, key: str) -> None:
        with self._lock:
            pacer = self._pacers.get(key)
            if pacer is not None:
                pacer.accepted(time.time())

    def events(self) -> list[RateLimitEvent]:
        """Every 429 any worker reported, oldest first."""
        with self._lock:
            return list(self._events)

    def status(self) -> dict[str, dict[str, Any]]:
        """Per deployment: rate, margin, jitter, slots handed out, 429s."""
        with self._lock:
            now = time.time()
            return {key: {"rate": p.rate, "margin": round(p.margin(now), 4), "jitter_s": round(p.jitter(), 4),
                          "reserved": self._reserved.get(key, 0), "pauses": p.pauses, "lead_s": round(self._lead(), 4)}
                    for key, p in self._pacers.items()}


class ActorPacers:
    """The workers' side: ``SharedPacers`` (see ``providers/limiter.py``) answered by the actor."""

    def __init__(self, actor):
        self.actor = actor

    @property
    def actor_key(self) -> str:
        return self.actor.key

    def reserve(self, key: str, rate: float | None, burst: int, lateness: list[float],
                round_trips: list[float]) -> float:
        return self.actor.reserve(key, rate, burst, lateness, round_trips).result()

    def pause(self, key: str, seconds: float, rate: float | None, burst: int) -> None:
        self.actor.pause(key, seconds, rate, burst).result()  # in force before the retry asks for a slot

    def accepted(self, key: str) -> None:
        self.actor.accepted(key)  # fire and forget: only the rate learning reads it

    def events(self) -> list[RateLimitEvent]:
        return self.actor.events().result()

    def status(self) -> dict[str, dict[str, Any]]:
        return self.actor.status().result()


def pacer_service(client) -> ActorPacers:
    """The cluster's one pacer service, created on first use (guarded by a Dask ``Lock``).

    Every client of the same scheduler gets the same actor, so two notebooks batching against one
    cluster share the limit too. If the worker holding it died, a new one is started.
    """
    from distributed import Lock

    with Lock(SERVICE_LOCK, scheduler_rpc=client.scheduler, loop=client.loop):
        future = client.get_dataset(SERVICE_NAME) if SERVICE_NAME in client.list_datasets() else None
        if future is None or future.status not in ("finished", "pending"):
            if future is not None:
                client.unpublish_dataset(SERVICE_NAME)
            future = client.submit(PacerService, actor=True, pure=False)
            client.publish_dataset(future, name=SERVICE_NAME)  # keeps the actor alive beyond this client
        return ActorPacers(future.result())


def install_in_worker(pacers: ActorPacers) -> None:
    """Make this process's limiters take their slots from ``pacers`` (once per process and service)."""
    from ..providers.limiter import shared_pacers, use_shared_pacers

    current = shared_pacers()
    if getattr(current, "actor_key", None) != pacers.actor_key:
        pacers.status()  # connect now, so that the first slot is not missed by the connection's set-up
        use_shared_pacers(pacers)


def share_rate_limits(client, rates: dict[str, tuple[float | None, int]] | None = None) -> ActorPacers:
    """Make this process, and every batch sent to ``client``'s cluster, share one limit per deployment.

    ``rates`` (``{limiter_key: (requests_per_second, burst)}``) are configured on the service; by default
    the rates configured in this process (``set_rate_limit``, deployments' ``requests_per_minute``).
    """
    from ..providers.limiter import configured_rates, use_shared_pacers

    pacers = pacer_service(client)
    pacers.actor.configure(configured_rates() if rates is None else rates).result()
    use_shared_pacers(pacers)
    return pacers
