"""Health endpoints: ``/livez`` (the process answers), ``/readyz`` (each
dependency answers, and how far the search index lags behind the graph; the
check is reused for a few seconds) and ``/startupz`` (migrations applied, the
embedder loaded and warm)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.memory_graph import MemoryGraph
from graph.model import utcnow
from graph.ports import Embedder

log = logging.getLogger(__name__)

PING_TIMEOUT = 2.0
REQUIRED = ("graph",)
"""Dependencies without which the server is not ready. The others degrade
service (search falls back, events stay in-process) but do not stop it."""


async def livez(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _check(ping: Callable[[], Awaitable[None]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(ping(), PING_TIMEOUT)
        status = "ok"
    except Exception:
        status = "unavailable"
    return {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def readiness(graph: MemoryGraph) -> tuple[bool, dict[str, Any]]:
    backends = graph.backends
    checks = dict(
        zip(
            ("graph", "search", "events", "cache"),
            await asyncio.gather(
                _check(backends.store.ping),
                _check(backends.index.ping),
                _check(backends.bus.ping),
                _check(backends.coordination_cache.ping),
            ),
            strict=True,
        )
    )
    body: dict[str, Any] = {"dependencies": checks}
    if checks["graph"]["status"] == "ok":
        stats = await backends.store.outbox_stats()
        age = (utcnow() - stats.oldest).total_seconds() if stats.oldest else 0.0
        body["index_outbox"] = {"depth": stats.depth, "oldest_age_seconds": round(age, 3)}
    ready = all(checks[name]["status"] == "ok" for name in REQUIRED)
    body["status"] = "ready" if ready else "not ready"
    return ready, body


class ReadinessProbe:
    """:func:`readiness` reused for ``ttl_seconds``: a burst of probes (several
    load balancers, a dashboard) costs one round of pings, and concurrent
    callers wait for the same check."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last: tuple[bool, dict[str, Any]] | None = None
        self._at = 0.0

    async def check(self, graph: MemoryGraph) -> tuple[bool, dict[str, Any]]:
        async with self._lock:
            now = self._clock()
            if self._last is None or now - self._at >= self._ttl:
                self._last = await readiness(graph)
                self._at = self._clock()
            ready, body = self._last
            return ready, {**body, "checked_seconds_ago": round(self._clock() - self._at, 3)}


class Startup:
    """What ``/startupz`` reports: the store's schema migrations (applied when
    the backends open) and the embedder (loaded and warmed by one embedding
    in the background, retried until it works)."""

    def __init__(self) -> None:
        self.migrations: dict[str, Any] = {"status": "pending"}
        self.embedder: dict[str, Any] = {"status": "pending"}

    @property
    def done(self) -> bool:
        return bool(self.migrations["status"] == "ok" and self.embedder["status"] == "ok")

    def migrated(self, backends: str) -> None:
        self.migrations = {"status": "ok", "backends": backends}

    async def warm(self, embedder: Embedder, max_backoff: float = 30.0) -> None:
        """Load the embedding model and run it once; on failure, retry with
        back-off (the server keeps answering ``/startupz`` with 503)."""
        backoff = 0.5
        while True:
            self.embedder = {**self.embedder, "status": "loading"}
            started = time.perf_counter()
            try:
                await embedder.embed(["warm-up"])
            except Exception as exc:
                self.embedder = {"status": "failed", "error": type(exc).__name__}
                log.warning("embedder warm-up failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            self.embedder = {
                "status": "ok",
                "model": embedder.model_id,
                "dimensions": embedder.dimensions,
                "warm_up_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            log.info("embedder %s ready", embedder.model_id)
            return

    def report(self) -> tuple[bool, dict[str, Any]]:
        body = {
            "status": "started" if self.done else "starting",
            "migrations": self.migrations,
            "embedder": self.embedder,
        }
        return self.done, body
