"""Batches of generations (DESIGN.md D7): bounded concurrency on any executor, the shared per-deployment
limiter, a progress bar, per-item results and failures, and resumption from the project's records.

Each item gets a stable key from its request (``batch_key`` in its provenance record), so running the same
batch again skips what the project already holds. Provider calls run in the workers; storing into the
project happens in the calling thread only, because a project is not safe to write from several threads.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analytics import check_budget, estimate_requests
from .config import Settings, load_config
from .errors import ImageStudioError, InvalidArgumentError
from .generation import store_generation
from .webhooks import emit

#: Fields of a batch item that are ``generate()`` arguments; any other field is a model option.
REQUEST_FIELDS = ("prompt", "model", "size", "n", "seed", "quality", "background", "output_format", "style")
#: Fields that only label an item.
LABEL_FIELDS = ("id",)


@dataclass
class BatchItem:
    """One generation request of a batch."""

    prompt: str
    model: str | None = None
    size: str | None = None
    n: int = 1
    seed: int | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None
    style: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BatchItem:
        """Build an item from a dict; unknown keys become model options (``output_compression``, ...)."""
        if not isinstance(data.get("prompt"), str) or not data["prompt"].strip():
            raise InvalidArgumentError(f"a batch item needs a non-empty 'prompt'; got {dict(data)!r}")
        known = {k: v for k, v in data.items() if k in REQUEST_FIELDS + LABEL_FIELDS and v is not None}
        options = dict(data.get("options") or {})
        options.update({k: v for k, v in data.items()
                        if k not in REQUEST_FIELDS + LABEL_FIELDS + ("options",) and v is not None})
        if "n" in known:
            known["n"] = int(known["n"])
        return cls(**known, options=options)

    def request(self) -> dict[str, Any]:
        """The keyword arguments for :func:`imagestudio_nb.generate` (without project and settings)."""
        data = {k: getattr(self, k) for k in REQUEST_FIELDS}
        return {**{k: v for k, v in data.items() if v is not None or k == "prompt"}, **self.options}

    def key(self, *, default_model: str | None = None, occurrence: int = 0, namespace: str | None = None) -> str:
        """A stable key from the request: same request (and same repeat index and namespace) -> same key.

        Examples
        --------
        >>> BatchItem("a fox", model="local").key() == BatchItem.from_mapping({"prompt": "a fox", "model": "local"}).key()
        True
        >>> BatchItem("a fox", model="local").key() == BatchItem("a fox", model="local").key(occurrence=1)
        False
        """
        request = self.request()
        request["model"] = self.model or default_model or "local"
        parts = [request, occurrence] if namespace is None else [request, occurrence, namespace]
        canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
        return "b-" + hashlib.sha256(canonical.encode()).hexdigest()[:24]


@dataclass
class ItemResult:
    """What became of one item: ``ok``, ``partial``, ``failed`` or ``skipped`` (already in the project)."""

    index: int
    key: str
    item: BatchItem
    status: str
    results: list = field(default_factory=list)
    record: dict[str, Any] | None = None
    error: str | None = None
    error_type: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "key": self.key, "id": self.item.id, "prompt": self.item.prompt,
                "model": self.record["model"] if self.record else self.item.model, "status": self.status,
                "generation": self.record["id"] if self.record else None,
                "assets": [r.asset for r in self.results], "error": self.error, "error_type": self.error_type,
                "seconds": round(self.seconds, 3)}


@dataclass
class BatchReport:
    """Per-item outcome of :func:`generate_batch`, in the order of the requests."""

    items: list[ItemResult]
    seconds: float = 0.0
    estimated_cost_usd: float = 0.0

    def by_status(self, status: str) -> list[ItemResult]:
        return [item for item in self.items if item.status == status]

    @property
    def ok(self) -> list[ItemResult]:
        return self.by_status("ok")

    @property
    def failed(self) -> list[ItemResult]:
        return self.by_status("failed") + self.by_status("partial")

    @property
    def skipped(self) -> list[ItemResult]:
        return self.by_status("skipped")

    def summary(self) -> dict[str, Any]:
        counts = {s: len(self.by_status(s)) for s in ("ok", "partial", "failed", "skipped")}
        return {"total": len(self.items), **counts, "seconds": round(self.seconds, 3)}

    def as_dicts(self) -> list[dict[str, Any]]:
        return [item.as_dict() for item in self.items]

    def raise_for_failures(self) -> None:
        """Raise the first failure's error type (as a ``ImageStudioError``) when any item failed."""
        if self.failed:
            first = self.failed[0]
            raise ImageStudioError(f"{len(self.failed)} of {len(self.items)} items failed; first: item "
                                   f"{first.index} ({first.error_type}): {first.error}")

    def __repr__(self) -> str:
        s = self.summary()
        return (f"BatchReport({s['total']} items: {s['ok']} ok, {s['skipped']} skipped, {s['partial']} partial, "
                f"{s['failed']} failed in {s['seconds']} s)")


def _run_item(request: dict[str, Any], settings: Settings | None, pacers=None) -> dict[str, Any]:
    """Worker side: one ``generate()`` call without a project. Never raises (errors travel as data, so they
    cross process boundaries on any executor). ``pacers``: the cluster's rate-limit service, on Dask."""
    from .errors import PartialResultError
    from .generation import generate

    if pacers is not None:
        from .scale.cluster_limiter import install_in_worker

        install_in_worker(pacers)
    started = time.perf_counter()
    try:
        results = generate(**request, settings=settings, progress=False)
        return {"status": "ok", "results": list(results), "record": results.record,
                "seconds": time.perf_counter() - started}
    except PartialResultError as exc:
        record = exc.results[0].record if exc.results else None
        return {"status": "partial", "results": list(exc.results), "record": record, "error": str(exc),
                "error_type": type(exc).__name__, "seconds": time.perf_counter() - started}
    except Exception as exc:  # reported per item; an unexpected type is reported by name, not swallowed silently
        return {"status": "failed", "results": [], "record": None, "error": str(exc) or repr(exc),
                "error_type": type(exc).__name__, "seconds": time.perf_counter() - started}


def _store(project, outcome: dict[str, Any], key: str) -> dict[str, Any] | None:
    """Calling-thread side: the assets and the provenance record (with ``batch_key``) into the project."""
    record = outcome.get("record")
    if record is None:
        return None
    record = {**record, "batch_key": key}
    if project is not None:
        store_generation(project, record, [result.data for result in outcome["results"]])
    for result in outcome["results"]:
        result.record = record
    return record


def recorded_keys(project) -> set[str]:
    """Batch keys of the generations the project already holds completely."""
    return {r["batch_key"] for r in project.generations() if r.get("batch_key") and r.get("status") == "ok"}


def generate_batch(requests: Iterable[BatchItem | Mapping[str, Any] | str], *, project=None, concurrency: int = 4,
                   executor: Executor | None = None, progress: bool = True, settings: Settings | None = None,
                   namespace: str | None = None, budget_usd: float | None = None) -> BatchReport:
    """Run many generations with bounded concurrency; store them in ``project``; skip what it already holds.

    Parameters
    ----------
    requests : iterable of BatchItem, dict or str
        Each a prompt with ``generate()`` fields (``model``, ``size``, ``n``, ``seed``, ...); other keys are options.
    project : Project or str, optional
        Where results go. With a project the batch is resumable: items recorded before are ``skipped``.
    concurrency : int
        At most this many requests in flight (the per-deployment limiter spaces them further).
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where the calls run; a thread pool of ``concurrency`` by default. With a Dask ``Client`` the calls
        run on its workers, which take their send slots from one service for the whole cluster (one limit
        per deployment, however many workers; see ``imagestudio_nb.scale.cluster_limiter``); the settings,
        keys included, travel to the workers, and results come back to be stored here.
    progress : bool
        Show a progress bar.
    namespace : str, optional
        Mixed into every item's key, so that the same requests in another namespace (an experiment's
        re-run) are not taken for done.
    budget_usd : float, optional
        Warn (``analytics.BudgetWarning``) before starting when this month's cost plus the batch's estimate
        would exceed it; without it, the project's or the workspace's monthly budget from the costs file
        (``analytics.set_budget``) applies. The batch runs either way; the estimate is in
        ``report.estimated_cost_usd``.

    Returns
    -------
    BatchReport
        One :class:`ItemResult` per request, in order; failures do not stop the batch.

    Examples
    --------
    >>> report = generate_batch(["a red fox", {"prompt": "a blue hen", "seed": 3}], progress=False,
    ...                         settings=Settings(default_model="local", default_size="256x256"))
    >>> report.summary()["ok"], [len(item.results) for item in report.items]
    (2, [1, 1])
    """
    from .generation import _open_project

    if not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidArgumentError(f"concurrency={concurrency!r} must be an integer of at least 1")
    project = _open_project(project)
    own_settings = settings or (project.config() if project is not None else load_config())
    items = [r if isinstance(r, BatchItem) else BatchItem(r) if isinstance(r, str) else BatchItem.from_mapping(r)
             for r in requests]
    seen: dict[str, int] = {}
    keys = []
    for item in items:
        base = item.key(default_model=own_settings.default_model, namespace=namespace)
        keys.append(item.key(default_model=own_settings.default_model, occurrence=seen.get(base, 0),
                             namespace=namespace))
        seen[base] = seen.get(base, 0) + 1
    done = recorded_keys(project) if project is not None else set()
    report = BatchReport([ItemResult(i, key, item, "skipped" if key in done else "pending")
                          for i, (item, key) in enumerate(zip(items, keys))])
    project_name = project.name if project is not None else None
    pending = [entry for entry in report.items if entry.status == "pending"]
    report.estimated_cost_usd, _ = estimate_requests([entry.item.request() for entry in pending], own_settings)
    check_budget(report.estimated_cost_usd, project=project.name if project is not None else None,
                 workspace=own_settings.workspace, budget_usd=budget_usd)
    started = time.perf_counter()
    bar = None
    if progress and pending:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pending), desc="batch", unit="item")
    pacers = None
    if executor is not None and not isinstance(executor, Executor) and hasattr(executor, "get_executor"):
        pacers = _cluster_pacers(executor, own_settings)  # a dask.distributed Client
        own_settings = _with_keys_resolved(own_settings)
        executor = executor.get_executor()
    pool = executor or ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="imagestudio-batch")
    try:
        queue = list(reversed(pending))
        running: dict[Future, ItemResult] = {}
        while queue or running:
            while queue and len(running) < concurrency:
                entry = queue.pop()
                cluster = (pacers,) if pacers is not None else ()  # only Dask runs take the cluster's limiter
                running[pool.submit(_run_item, entry.item.request(), own_settings, *cluster)] = entry
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            # Everything that finished together is stored with one save of the project.
            with project.batch() if project is not None else contextlib.nullcontext():
                for future in finished:
                    entry = running.pop(future)
                    outcome = future.result()
                    entry.status, entry.results = outcome["status"], outcome["results"]
                    entry.error, entry.error_type = outcome.get("error"), outcome.get("error_type")
                    entry.seconds = outcome["seconds"]
                    entry.record = _store(project, outcome, entry.key)
                    if entry.record is not None:
                        emit("generation.completed", _event_data(entry), project=project_name)
            if bar is not None:
                bar.update(len(finished))
                bar.set_postfix(failed=sum(e.status in ("failed", "partial") for e in report.items))
    finally:
        if executor is None:
            pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    emit("batch.finished", {**report.summary(), "estimated_cost_usd": report.estimated_cost_usd,
                            "user": own_settings.user}, project=project_name)
    return report


def _event_data(entry: ItemResult) -> dict[str, Any]:
    record = entry.record
    return {"generation": record["id"], "model": record.get("model"), "status": entry.status,
            "batch_key": entry.key, "assets": list(record.get("assets") or []), "user": record.get("user"),
            "prompt": entry.item.prompt}


def _cluster_pacers(client, settings: Settings):
    """The cluster's rate-limit service, told the rates configured here (call, process and settings)."""
    from .providers.limiter import configured_rates, limiter_key
    from .scale.cluster_limiter import pacer_service

    rates = {limiter_key(endpoint.base_url, deployment.name): (deployment.requests_per_minute / 60.0, 1)
             for endpoint in settings.endpoints for deployment in endpoint.deployments
             if deployment.requests_per_minute}
    rates.update(configured_rates())
    pacers = pacer_service(client)
    pacers.actor.configure(rates).result()
    return pacers


def _with_keys_resolved(settings: Settings) -> Settings:
    """The settings with each endpoint's key read here: workers elsewhere lack this process's environment.

    The keys then travel inside the settings over the cluster's connections (use TLS between machines).
    """
    from pydantic import SecretStr

    endpoints = []
    for endpoint in settings.endpoints:
        key = settings.endpoint_key(endpoint) if endpoint.api_key is None else None
        endpoints.append(endpoint.model_copy(update={"api_key": SecretStr(key)}) if key else endpoint)
    return settings.model_copy(update={"endpoints": endpoints})


def read_requests(path: str | Path) -> list[BatchItem]:
    """Read batch items from a ``.jsonl`` file (one JSON object a line) or a ``.csv`` file (a header row).

    In CSV, empty cells are unset and cells of option columns that read as JSON numbers or booleans become
    numbers or booleans; ``prompt``, ``model``, ``size`` and the other text fields stay text.

    Raises
    ------
    InvalidArgumentError
        Naming the file and line of a malformed row.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidArgumentError(f"no batch file {str(path)!r}")
    suffix = path.suffix.lower()
    rows: list[tuple[int, dict[str, Any]]] = []
    if suffix in (".jsonl", ".ndjson"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidArgumentError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(data, dict):
                raise InvalidArgumentError(f"{path}:{number}: each line must be a JSON object with a 'prompt'")
            rows.append((number, data))
    elif suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.DictReader(handle), 2):
                rows.append((number, {k.strip(): _csv_value(k.strip(), v) for k, v in row.items()
                                      if k is not None and v not in (None, "")}))
    else:
        raise InvalidArgumentError(f"batch file {path.name!r}: unsupported type; allowed: .jsonl, .csv")
    items = []
    for number, data in rows:
        try:
            items.append(BatchItem.from_mapping(data))
        except (InvalidArgumentError, TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"{path}:{number}: {exc}") from None
    return items


def _csv_value(column: str, value: str) -> Any:
    if column in ("prompt", "model", "size", "quality", "background", "output_format", "style", "id"):
        return value
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return value
    return parsed if isinstance(parsed, (int, float, bool)) else value


def report_as_json(report: BatchReport) -> dict[str, Any]:
    """The report as plain data (for ``--json`` and files)."""
    return {"summary": report.summary(), "items": report.as_dicts()}


__all__ = ["BatchItem", "BatchReport", "ItemResult", "generate_batch", "read_requests", "recorded_keys",
           "report_as_json"]
