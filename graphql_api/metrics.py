"""Prometheus metrics, served at ``/metrics``.

:class:`PrometheusRecorder` receives the measurements the domain, the
schema and the transport report through :mod:`graph.telemetry` and keeps them
in ``prometheus_client`` metrics. Every label has a bounded set of values:
operation names beyond :data:`MAX_OPERATION_NAMES` distinct ones are reported
as ``other``, unnamed operations as ``anonymous``.

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty,
writable folder shared by the workers (and emptied before they start) *before*
the server starts; each process then writes its samples there and any worker's
``/metrics`` answers for all of them. Gauges say how they combine across
workers (``multiprocess_mode``).

Other parts of the server (for instance circuit breakers) publish state with
:func:`set_circuit_state`; :func:`observe_backend_call` is there for calls
that do not go through an instrumented port.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.requests import Request
from starlette.responses import Response

from graph import telemetry
from graph.memory_graph import MemoryGraph
from graph.model import utcnow

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_OPERATION_NAMES = 200
OTHER = "other"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

REQUESTS = Counter(
    "agentmem_graphql_requests_total",
    "GraphQL operations by name, type and outcome (ok or error).",
    ["operation", "type", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "agentmem_graphql_request_duration_seconds",
    "GraphQL operation latency (parse, validate, execute), by name and type.",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
ERRORS = Counter(
    "agentmem_graphql_errors_total",
    "GraphQL errors by operation and extensions.code.",
    ["operation", "code"],
)
RESOLVER_SECONDS = Histogram(
    "agentmem_graphql_resolver_duration_seconds",
    "Latency of the instrumented resolvers (root fields and fields that load data).",
    ["field", "outcome"],
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram(
    "agentmem_dataloader_batch_size",
    "Keys per dataloader batch, by loader.",
    ["loader"],
    buckets=BATCH_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "agentmem_cache_lookups_total",
    "Cache lookups by level (read, lru, redis) and result (hit, miss).",
    ["level", "result"],
)
BACKEND_SECONDS = Histogram(
    "agentmem_backend_call_duration_seconds",
    "Latency of calls to a backend (neo4j, sqlite, weaviate, redis, embedder) by operation.",
    ["backend", "operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_DEPTH = Gauge(
    "agentmem_outbox_depth",
    "Memory changes waiting for the search index (read from the store at scrape time).",
    multiprocess_mode="livemostrecent",
)
OUTBOX_AGE = Gauge(
    "agentmem_outbox_oldest_age_seconds",
    "Age of the oldest change waiting for the search index; 0 when none waits.",
    multiprocess_mode="livemostrecent",
)
SUBSCRIPTIONS = Gauge(
    "agentmem_subscriptions_active",
    "GraphQL subscriptions currently streaming.",
    multiprocess_mode="livesum",
)
WEBSOCKETS = Gauge(
    "agentmem_websocket_connections",
    "Open WebSocket connections to /graphql.",
    multiprocess_mode="livesum",
)
CIRCUIT_STATE = Gauge(
    "agentmem_circuit_breaker_state",
    "Circuit breaker state per backend: 0 closed, 1 half-open, 2 open (worst across workers).",
    ["backend"],
    multiprocess_mode="livemax",
)
CIRCUIT_STATES = {"closed": 0, "half_open": 1, "half-open": 1, "open": 2}


class _OperationNames:
    """Caps the operation label: the first ``limit`` names seen keep their
    name, later ones are counted as ``other``."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str) -> str:
        if name in self._seen:
            return name
        with self._lock:
            if len(self._seen) >= self._limit:
                return OTHER
            self._seen.add(name)
        return name


class PrometheusRecorder:
    """:class:`graph.telemetry.Recorder` that feeds the metrics above."""

    def __init__(self, max_operation_names: int = MAX_OPERATION_NAMES) -> None:
        self._names = _OperationNames(max_operation_names)

    def backend_call(self, backend: str, operation: str, seconds: float, ok: bool) -> None:
        BACKEND_SECONDS.labels(backend, operation, _outcome(ok)).observe(seconds)

    def cache_lookup(self, level: str, hit: bool) -> None:
        CACHE_LOOKUPS.labels(level, "hit" if hit else "miss").inc()

    def batch(self, loader: str, size: int) -> None:
        BATCH_SIZE.labels(loader).observe(size)

    def operation(self, name: str, kind: str, seconds: float, error_codes: Sequence[str]) -> None:
        label = self._names.label(name)
        REQUESTS.labels(label, kind, _outcome(not error_codes)).inc()
        REQUEST_SECONDS.labels(label, kind).observe(seconds)
        for code in error_codes:
            ERRORS.labels(label, code).inc()

    def resolver(self, field: str, seconds: float, ok: bool) -> None:
        RESOLVER_SECONDS.labels(field, _outcome(ok)).observe(seconds)

    def subscriptions(self, delta: int) -> None:
        SUBSCRIPTIONS.inc(delta)


def _outcome(ok: bool) -> str:
    return "ok" if ok else "error"


def install() -> PrometheusRecorder:
    """Route the telemetry measurements of this process to Prometheus."""
    recorder = PrometheusRecorder()
    telemetry.set_recorder(recorder)
    return recorder


def set_circuit_state(backend: str, state: str) -> None:
    """Publish a circuit breaker's state (``closed``, ``half_open``, ``open``)."""
    try:
        value = CIRCUIT_STATES[state]
    except KeyError:
        raise ValueError(f"unknown circuit state {state!r}") from None
    CIRCUIT_STATE.labels(backend).set(value)


def observe_backend_call(backend: str, operation: str, seconds: float, ok: bool) -> None:
    """Record one backend call made outside the instrumented ports."""
    telemetry.recorder().backend_call(backend, operation, seconds, ok)


def websocket_opened() -> None:
    WEBSOCKETS.inc()


def websocket_closed() -> None:
    WEBSOCKETS.dec()


def refresh_breakers(graph: MemoryGraph) -> None:
    """Publish the state of every circuit breaker of the graph's backends."""
    for breaker in graph.backends.breakers:
        set_circuit_state(breaker.name, breaker.state.value)


async def refresh_outbox(graph: MemoryGraph) -> None:
    """Read the outbox depth and age from the store into their gauges."""
    stats = await graph.backends.store.outbox_stats()
    OUTBOX_DEPTH.set(stats.depth)
    OUTBOX_AGE.set((utcnow() - stats.oldest).total_seconds() if stats.oldest else 0.0)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """The current metrics in the Prometheus text format: this process's, or
    every worker's when ``PROMETHEUS_MULTIPROC_DIR`` is set."""
    path = multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def process_exited(pid: int | None = None) -> None:
    """Drop a finished worker's live gauges (call at shutdown)."""
    if multiprocess_dir() is not None:
        prometheus_multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]


async def metrics_response(request: Request, graph: MemoryGraph | None) -> Response:
    """The ``/metrics`` answer; the outbox gauges are refreshed first when
    the store answers (a failing store leaves their last values)."""
    if graph is not None:
        refresh_breakers(graph)
        try:
            await refresh_outbox(graph)
        except Exception:
            log.debug("outbox gauges not refreshed: the store does not answer")
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
