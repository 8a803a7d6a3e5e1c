"""Retries with backoff and a cap, through the deployment's shared limiter (DESIGN.md D7).

The SDK's own retries are switched off (``max_retries=0``) so these are the only ones: timeouts,
connection errors and 5xx are retried with jittered exponential backoff; a 429 pauses the whole
deployment for its ``Retry-After``; everything else fails at once with a toolkit error.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors_map import ErrorContext, classify, map_error
from .limiter import DeploymentLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try.

    Parameters
    ----------
    max_retries : int
        Retries after a timeout, a connection error or a 5xx.
    max_rate_limit_retries : int
        Retries after a 429 (each waits the service's Retry-After).
    backoff_base, backoff_cap : float
        Backoff before retry ``k`` (from 0) is between half and all of ``min(cap, base * 2**k)`` seconds.
    timeout : float
        Seconds to wait for one answer.

    Examples
    --------
    >>> policy = RetryPolicy(backoff_base=1, backoff_cap=4)
    >>> all(0.5 <= policy.backoff(0) <= 1 and 2 <= policy.backoff(5) <= 4 for _ in range(20))
    True
    """

    max_retries: int = 4
    max_rate_limit_retries: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    timeout: float = 180.0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


DEFAULT_POLICY = RetryPolicy()


def call_with_retries(send: Callable[[], T], *, limiter: DeploymentLimiter, policy: RetryPolicy,
                      context: ErrorContext, sleep: Callable[[float], None] = time.sleep,
                      attempts: list | None = None, gate: bool = True) -> T:
    """Call ``send()`` (one HTTP request) until it succeeds or the budget is spent.

    Parameters
    ----------
    gate : bool
        Acquire ``limiter`` before each attempt. Providers pass ``False``: their client acquires it in a
        request hook, closer to the wire. A 429 pauses ``limiter`` either way.
    attempts : list, optional
        Receives one ``(outcome, status_or_kind)`` entry per attempt, for the provenance record.

    Raises
    ------
    RateLimitError, ProviderError, CredentialsError, UnknownDeploymentError, ContentFilterError
        Mapped from the last SDK exception (see ``errors_map.py``).
    """
    transient = limited = 0
    while True:
        if gate:
            limiter.acquire()
        try:
            result = send()
        except Exception as exc:  # classified below; anything unknown is re-raised mapped
            kind, after = classify(exc)
            status = getattr(exc, "status_code", type(exc).__name__)
            if attempts is not None:
                attempts.append((kind, status))
            if kind == "rate_limit":
                limited += 1
                if limited > policy.max_rate_limit_retries:
                    raise map_error(exc, context) from None
                wait = after if after is not None else policy.backoff(limited - 1)
                log.info("429 from %s/%s: pausing the deployment for %.2f s", context.endpoint_name,
                         context.deployment, wait)
                limiter.pause(wait)
                continue
            if kind == "transient":
                transient += 1
                if transient > policy.max_retries:
                    raise map_error(exc, context) from None
                wait = after if after is not None else policy.backoff(transient - 1)
                log.info("%s from %s/%s: retry %d in %.2f s", status, context.endpoint_name, context.deployment,
                         transient, wait)
                sleep(wait)
                continue
            raise map_error(exc, context) from None
        limiter.accepted()
        if attempts is not None:
            attempts.append(("ok", 200))
        return result
