"""Open circuits on a real backend set (every set the suite runs): calls fail
fast or degrade exactly as they do when the backend itself is down."""

from __future__ import annotations

import pytest

from graph.errors import Unavailable
from graph.memory_graph import MemoryGraph
from graph.model import MemoryFilter
from graph.ports import Backends
from graph.resilience import BreakerState, CircuitBreaker, CircuitOpen
from graph.services.memories import NewMemory
from graph.services.search import SearchRequest


def breaker(backends: Backends, name: str) -> CircuitBreaker:
    [found] = [b for b in backends.breakers if b.name == name]
    return found


def trip(b: CircuitBreaker) -> None:
    while b.state is not BreakerState.OPEN:
        b.acquire().failure()


async def test_every_guarded_port_has_a_closed_breaker_to_read(backends: Backends) -> None:
    names = {b.name for b in backends.breakers}
    assert {"graph", "search", "embedder"} <= names
    for b in backends.breakers:
        stats = b.stats()
        assert stats.state is BreakerState.CLOSED
        assert stats.name == b.name


async def test_an_open_search_circuit_degrades_search_to_the_graph_store(
    backends: Backends,
) -> None:
    graph = MemoryGraph(backends)
    await graph.memories.add("default", [NewMemory("kingfisher by the river")])
    search = breaker(backends, "search")
    trip(search)
    rejected = search.stats().rejected
    results = await graph.search.search("default", SearchRequest("kingfisher"))
    assert results.degraded
    assert [hit.memory.content for hit in results.hits] == ["kingfisher by the river"]
    assert search.stats().rejected > rejected  # the index was never asked
    # writes are still acknowledged; indexing waits in the outbox
    await graph.memories.add("default", [NewMemory("a heron too")])
    assert (await backends.store.outbox_stats()).depth >= 1


async def test_an_open_graph_circuit_fails_fast_with_unavailable(backends: Backends) -> None:
    graph_breaker = breaker(backends, "graph")
    trip(graph_breaker)
    with pytest.raises(CircuitOpen) as refused:
        await backends.store.list_memories("default", MemoryFilter(), 5, None)
    assert isinstance(refused.value, Unavailable)
    assert refused.value.code == "UNAVAILABLE"
    assert "neo4j" not in refused.value.message.lower()
    calls = graph_breaker.stats().calls
    with pytest.raises(Unavailable):
        await backends.store.ping()
    assert graph_breaker.stats().calls == calls  # nothing reached the store
