"""``/readyz`` reuses its check for a few seconds; ``/startupz`` reports the
migrations and the embedder warm-up."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from graph.memory_graph import MemoryGraph
from graph.ports import Vectors
from graphql_api import health
from tests.e2e.server import ServerProcess
from tests.observability.test_metrics import server
from tests.support import HashingEmbedder

__all__ = ["server"]


async def test_readiness_is_reused_within_its_ttl(
    memory_graph: MemoryGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = health.readiness

    async def counted(graph: MemoryGraph) -> tuple[bool, dict[str, Any]]:
        nonlocal calls
        calls += 1
        return await real(graph)

    monkeypatch.setattr(health, "readiness", counted)
    now = [100.0]
    probe = health.ReadinessProbe(5.0, clock=lambda: now[0])
    ready, body = await probe.check(memory_graph)
    assert ready and body["dependencies"]["graph"]["status"] == "ok"
    assert "latency_ms" in body["dependencies"]["graph"]
    now[0] += 3
    _, again = await probe.check(memory_graph)
    assert calls == 1 and again["checked_seconds_ago"] == 3
    now[0] += 3
    await probe.check(memory_graph)
    assert calls == 2


class FlakyEmbedder(HashingEmbedder):
    """Fails its first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("model server down")
        return await super().embed(texts)


async def test_startup_waits_for_migrations_and_a_warm_embedder() -> None:
    startup = health.Startup()
    assert startup.report()[0] is False
    startup.migrated("sqlite+fts5+in-process")
    embedder = FlakyEmbedder(failures=2)
    await startup.warm(embedder, max_backoff=0.01)
    started, body = startup.report()
    assert started
    assert body["migrations"] == {"status": "ok", "backends": "sqlite+fts5+in-process"}
    assert body["embedder"]["status"] == "ok"
    assert body["embedder"]["model"] == embedder.model_id
    assert body["embedder"]["dimensions"] == 384


async def test_failed_warm_up_is_reported_while_it_retries() -> None:
    import asyncio

    startup = health.Startup()
    startup.migrated("x")
    task = asyncio.create_task(startup.warm(FlakyEmbedder(failures=1000), max_backoff=0.01))
    await asyncio.sleep(0.05)
    started, body = startup.report()
    assert not started
    assert body["embedder"]["status"] in ("failed", "loading")
    task.cancel()


def test_server_startupz_and_readyz(server: ServerProcess) -> None:
    base = server.url.replace("/graphql", "")
    deadline = time.monotonic() + 60
    while True:
        response = httpx.get(f"{base}/startupz", timeout=10)
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        assert response.json()["status"] == "starting"
        time.sleep(0.2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["migrations"]["status"] == "ok"
    assert body["embedder"]["status"] == "ok" and body["embedder"]["model"]
    ready = httpx.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200
    assert {"graph", "search", "events", "cache"} <= set(ready.json()["dependencies"])
    assert "checked_seconds_ago" in ready.json()
