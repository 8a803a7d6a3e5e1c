"""The stand-in server core: auth and api-version checks, fault injection, a request log, a thread.

Route modules register handlers with ``register(app, standin)``; handlers call
``standin.check(request)`` first, which enforces auth and api-version and plays injected faults.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "test-key-not-a-secret"
BEARER_TOKEN = "test-entra-token"
SUPPORTED_API_VERSIONS = {"2024-02-01", "2024-10-21", "2025-04-01-preview", "preview", "v1"}


@dataclass
class Fault:
    """An answer to play instead of the normal one, for the next ``times`` matching requests."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    path_contains: str = ""
    delay: float = 0.0


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    time: float


class AzureStandIn:
    """Run the stand-in on 127.0.0.1 in a background thread; ``url`` is its base URL."""

    def __init__(self, *, api_key: str = API_KEY, requests_per_second: float | None = None):
        self.api_key = api_key
        self.faults: deque[Fault] = deque()
        self.log: list[LoggedRequest] = []
        self.state: dict[str, Any] = {}
        #: Optional server-side rate limit: answer 429 with Retry-After beyond this rate.
        self.requests_per_second = requests_per_second
        self._window: deque[float] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> AzureStandIn:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True, name="azure-standin")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Azure stand-in did not start within 10 s")
        return self

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start_site())
        ready.set()
        self._loop.run_forever()

    async def _start_site(self) -> None:
        from . import chat, images, mai, video

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.middlewares.append(self._log_middleware)
        images.register(app, self)
        chat.register(app, self)
        mai.register(app, self)
        video.register(app, self)
        app.router.add_post("/_standin/probe/{tail:.*}", self._probe)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Forget faults, the log, state and the rate limit between tests."""
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self.state.clear()
            self._window.clear()
            self.requests_per_second = None

    def inject(self, status: int, body: Any = None, *, headers: dict[str, str] | None = None,
               times: int = 1, path_contains: str = "", delay: float = 0.0) -> None:
        """Answer the next ``times`` requests whose path contains ``path_contains`` with this fault."""
        with self._lock:
            self.faults.append(Fault(status, body, headers or {}, times, path_contains, delay))

    async def _probe(self, request: web.Request) -> web.Response:
        # A route with no behaviour of its own, to test the core checks.
        return await self.check(request) or web.json_response({"ok": True})

    # --- helpers for route handlers --------------------------------------------------------------
    @web.middleware
    async def _log_middleware(self, request: web.Request, handler):
        body = await request.read()
        headers = {k.lower(): ("<redacted>" if k.lower() in ("api-key", "authorization") else v)
                   for k, v in request.headers.items()}
        with self._lock:
            self.log.append(LoggedRequest(request.method, request.path, dict(request.query), headers, body,
                                          time.monotonic()))
        return await handler(request)

    async def check(self, request: web.Request, *, require_api_version: bool = True) -> web.Response | None:
        """Return an error response (auth, api-version, injected fault, rate limit) or ``None``.

        Follows: Azure OpenAI in Microsoft Foundry Models REST API reference, https://learn.microsoft.com/azure/ai-foundry/openai/reference
        (``api-key`` header or Entra ``Bearer`` token; ``api-version`` query on the deployment form, none on
        ``/openai/v1/``). The 401 and 404 message texts are as commonly reported: not confirmed.
        """
        key = request.headers.get("api-key")
        auth = request.headers.get("Authorization", "")
        if key != self.api_key and auth != f"Bearer {BEARER_TOKEN}" and auth != f"Bearer {self.api_key}":
            return error_response(401, "401", "Access denied due to invalid subscription key or wrong API "
                                              "endpoint. Make sure to provide a valid key for an active subscription.")
        version = request.query.get("api-version")
        if require_api_version and "/openai/v1/" not in request.path:
            if version is None:
                return error_response(404, "404", "Resource not found")
            if version not in SUPPORTED_API_VERSIONS:
                return error_response(400, "BadRequest", f"API version not supported: {version}")
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            body = fault.body if fault.body is not None else {"error": {"code": str(fault.status),
                                                                         "message": "injected fault"}}
            return web.json_response(body, status=fault.status, headers=fault.headers)
        if self.requests_per_second:
            limited = self._rate_limited()
            if limited is not None:
                return limited
        return None

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path_contains in path:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _rate_limited(self) -> web.Response | None:
        # 429 with ``Retry-After`` (seconds) and ``retry-after-ms``, following:
        # Azure OpenAI 429: token and request rate limits explained,
        #   https://learn.microsoft.com/en-us/microsoft-cloud/dev/dev-proxy/concepts/azure-openai-429-token-rate-limit
        now = time.monotonic()
        with self._lock:
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.requests_per_second:
                wait = 1.0 - (now - self._window[0])
                self.state["rate_limited"] = self.state.get("rate_limited", 0) + 1
                return error_response(429, "429", "Rate limit exceeded", headers={
                    "Retry-After": str(max(1, round(wait))), "retry-after-ms": str(max(1, int(wait * 1000)))})
            self._window.append(now)
        return None


def error_response(status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                   **extra: Any) -> web.Response:
    """An Azure-style error body: ``{"error": {"code", "message", ...}}``.

    Follows the error response schema of: Azure OpenAI in Microsoft Foundry Models REST API reference,
    https://learn.microsoft.com/azure/ai-foundry/openai/reference
    """
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status,
                             headers=headers or {})


def json_body(raw: bytes) -> dict[str, Any]:
    return json.loads(raw.decode("utf-8")) if raw else {}
