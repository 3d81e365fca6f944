"""Health endpoints: ``/livez`` (the process answers) and ``/readyz`` (each
dependency answers, and how far the search index lags behind the graph)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.memory_graph import MemoryGraph
from graph.model import utcnow

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
