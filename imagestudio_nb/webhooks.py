"""Events (``generation.completed``, ``batch.finished``, ...) to in-process hooks and to signed webhooks.

An event goes to every Python hook registered with :func:`on` at once, and to every webhook whose filter
matches, from one background sender per URL, so each receiver gets its events in the order they happened.
A delivery is a JSON POST signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` (header
``X-ImageStudio-Signature: sha256=<hex>``, check it with :func:`verify_signature`); connection errors,
429 and 5xx are retried with capped exponential backoff; whatever still fails is appended to a dead-letter
file (without secrets). Webhooks come from ``webhooks.toml`` beside the config file (secrets named by an
environment variable, never written in the file) or from :func:`add_webhook`, for the workspace or one project.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import logging
import os
import queue
import threading
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, InvalidArgumentError

log = logging.getLogger(__name__)

#: The events this package emits.
EVENTS = ("generation.completed", "batch.finished", "sync.pushed", "comment.added", "project.shared")
SIGNATURE_HEADER = "X-ImageStudio-Signature"
TIMESTAMP_HEADER = "X-ImageStudio-Timestamp"


@dataclass(frozen=True)
class Event:
    """Something that happened: ``type`` (one of ``EVENTS``), ``data``, and the project it happened in."""

    type: str
    data: dict[str, Any]
    project: str | None = None
    id: str = field(default_factory=lambda: "evt-" + uuid.uuid4().hex)
    time: float = field(default_factory=time.time)

    def body(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class Webhook:
    """Where to POST events: ``events`` to send (empty: all), ``project`` to limit to one project."""

    url: str
    secret: str = field(repr=False)
    events: tuple[str, ...] = ()
    project: str | None = None
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    timeout: float = 10.0

    def wants(self, event: Event) -> bool:
        return (not self.events or event.type in self.events) and self.project in (None, event.project)


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``.

    Examples
    --------
    >>> expected = hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    >>> sign("s3cret", b'{"a":1}', "1700000000") == "sha256=" + expected
    True
    """
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, body: bytes, timestamp: str, signature: str, *, tolerance: float = 300.0,
                     now: float | None = None) -> bool:
    """For receivers: is ``signature`` ours for this body and timestamp, and the timestamp recent?

    Examples
    --------
    >>> body, stamp = b'{"a":1}', "1700000000"
    >>> verify_signature("s3cret", body, stamp, sign("s3cret", body, stamp), now=1700000001)
    True
    >>> verify_signature("wrong", body, stamp, sign("s3cret", body, stamp), now=1700000001)
    False
    >>> verify_signature("s3cret", body, stamp, sign("s3cret", body, stamp), now=1700009999)  # a replay
    False
    """
    try:
        fresh = abs((time.time() if now is None else now) - float(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, body, timestamp), signature or "")


# --- configuration ------------------------------------------------------------------------------------------
_hooks: dict[str, list[Callable[[Event], None]]] = {}
_added: list[Webhook] = []
_lock = threading.Lock()


def webhooks_path() -> Path:
    """``$IMAGESTUDIO_WEBHOOKS``, or ``webhooks.toml`` beside the config file."""
    explicit = os.environ.get("IMAGESTUDIO_WEBHOOKS")
    if explicit:
        return Path(explicit)
    from .config import config_path

    return config_path().parent / "webhooks.toml"


def dead_letter_path() -> Path:
    """Where failed deliveries are appended, one JSON object a line."""
    return webhooks_path().with_name("webhooks-dead-letter.jsonl")


def configured_webhooks() -> list[Webhook]:
    """Webhooks from the file (``[[webhooks]] url, secret_env, events, project``) plus :func:`add_webhook`'s."""
    path = webhooks_path()
    found = []
    if path.exists():
        try:
            rows = tomllib.loads(path.read_text(encoding="utf-8")).get("webhooks", [])
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        for row in rows:
            variable = row.get("secret_env")
            secret = os.environ.get(variable or "")
            if not row.get("url") or not secret:
                raise ConfigError(f"{path}: webhook {row.get('url')!r} needs url and secret_env naming a set "
                                  f"environment variable (secrets are never kept in the file)")
            found.append(Webhook(row["url"], secret, tuple(row.get("events", ())), row.get("project")))
    with _lock:
        return found + list(_added)


def add_webhook(url: str, *, secret: str, events: tuple[str, ...] | list[str] = (), project: str | None = None,
                **options: Any) -> Webhook:
    """Send matching events to ``url`` from now on, in this process."""
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise InvalidArgumentError(f"unknown events {unknown}; choose from {', '.join(EVENTS)}")
    if not url.startswith(("http://", "https://")) or not secret:
        raise InvalidArgumentError("a webhook needs an http(s) url and a non-empty secret")
    hook = Webhook(url, secret, tuple(events), project, **options)
    with _lock:
        _added.append(hook)
    return hook


def on(event_type: str, callback: Callable[[Event], None]) -> Callable[[], None]:
    """Call ``callback(event)`` in this process for each event of that type (``"*"``: all); returns an undo."""
    if event_type != "*" and event_type not in EVENTS:
        raise InvalidArgumentError(f"unknown event {event_type!r}; choose from {', '.join(EVENTS)} or '*'")
    with _lock:
        _hooks.setdefault(event_type, []).append(callback)

    def remove() -> None:
        with _lock:
            _hooks.get(event_type, []).remove(callback)

    return remove


def clear() -> None:
    """Forget hooks and added webhooks (tests; after the settings changed)."""
    flush(5)
    with _lock:
        _hooks.clear()
        _added.clear()


# --- emitting and delivery ----------------------------------------------------------------------------------
_senders: dict[str, _Sender] = {}


def emit(event_type: str, data: dict[str, Any], *, project: str | None = None) -> Event:
    """Hand an event to the Python hooks (now, in this thread) and to the matching webhooks (in the background).

    A failing hook is logged and never breaks the caller; delivery never blocks it.
    """
    if event_type not in EVENTS:
        raise InvalidArgumentError(f"unknown event {event_type!r}; choose from {', '.join(EVENTS)}")
    event = Event(event_type, data, project)
    with _lock:
        callbacks = list(_hooks.get(event_type, [])) + list(_hooks.get("*", []))
    for callback in callbacks:
        try:
            callback(event)
        except Exception:  # a hook's bug must not fail the generation that emitted the event
            log.exception("event hook %r failed on %s", callback, event.type)
    try:
        hooks = configured_webhooks()
    except ConfigError as exc:  # a broken webhooks file must not fail the work that already happened
        log.error("webhooks not sent for %s: %s", event.type, exc)
        with _lock:
            hooks = list(_added)
    for hook in hooks:
        if hook.wants(event):
            with _lock:
                sender = _senders.get(hook.url)
                if sender is None:
                    sender = _senders[hook.url] = _Sender(hook.url)
            sender.put(hook, event)
    return event


def flush(timeout: float = 30.0) -> bool:
    """Wait until every queued delivery succeeded or was dead-lettered; ``False`` if time ran out."""
    deadline = time.monotonic() + timeout
    with _lock:
        senders = list(_senders.values())
    return all(sender.wait_idle(max(0.0, deadline - time.monotonic())) for sender in senders)


class _Sender:
    """One thread per receiver URL: deliveries leave in order, a retried one holding back the next."""

    def __init__(self, url: str):
        self.url = url
        self.queue: queue.Queue[tuple[Webhook, Event]] = queue.Queue()
        self.idle = threading.Condition()
        self.pending = 0
        threading.Thread(target=self._run, daemon=True, name=f"imagestudio-webhook-{url}").start()

    def put(self, hook: Webhook, event: Event) -> None:
        with self.idle:
            self.pending += 1
        self.queue.put((hook, event))

    def wait_idle(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout)

    def _run(self) -> None:
        while True:
            hook, event = self.queue.get()
            try:
                deliver(hook, event)
            finally:
                with self.idle:
                    self.pending -= 1
                    self.idle.notify_all()


def deliver(hook: Webhook, event: Event, *, sleep: Callable[[float], None] = time.sleep) -> bool:
    """POST ``event`` to ``hook`` with retries; dead-letter it when every attempt failed. Returns success."""
    body = event.body()
    outcome = ""
    for attempt in range(hook.max_attempts):
        stamp = str(int(time.time()))
        request = urllib.request.Request(hook.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "imagestudio-nb-webhooks",
            "X-ImageStudio-Event": event.type, "X-ImageStudio-Delivery": event.id,
            "X-ImageStudio-Attempt": str(attempt + 1), TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(hook.secret, body, stamp)})
        retry_after = None
        try:
            with urllib.request.urlopen(request, timeout=hook.timeout) as response:
                response.read()
            return True
        except urllib.error.HTTPError as exc:
            outcome = f"HTTP {exc.code}"
            if exc.code != 429 and exc.code < 500:
                break  # the receiver refused this event: retrying would not change its mind
            retry_after = exc.headers.get("Retry-After")
        except (urllib.error.URLError, OSError) as exc:
            outcome = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if attempt + 1 < hook.max_attempts:
            wait = min(hook.backoff_cap, hook.backoff_base * 2 ** attempt)
            if retry_after and retry_after.isdigit():
                wait = min(hook.backoff_cap, float(retry_after))
            sleep(wait)
    _dead_letter(hook, event, outcome)
    return False


def _dead_letter(hook: Webhook, event: Event, outcome: str) -> None:
    record = {"url": hook.url, "event": asdict(event), "failed": outcome, "attempts": hook.max_attempts,
              "at": time.time()}
    log.warning("webhook %s: %s not delivered (%s); kept in %s", hook.url, event.id, outcome, dead_letter_path())
    path = dead_letter_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=str) + "\n")


def dead_letters() -> list[dict[str, Any]]:
    """The deliveries that failed for good, oldest first."""
    path = dead_letter_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


atexit.register(flush, 5.0)

__all__ = ["EVENTS", "Event", "Webhook", "add_webhook", "configured_webhooks", "dead_letters", "deliver", "emit",
           "flush", "on", "sign", "verify_signature"]
