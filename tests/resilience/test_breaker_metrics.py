"""Breaker states reach ``/metrics`` (the read API observability exports)."""

from __future__ import annotations

from typing import Any

from graph.memory_graph import MemoryGraph
from graph.ports import Backends
from graph.resilience import BreakerState
from graphql_api import metrics


async def test_breaker_states_are_published_at_scrape_time(backends: Backends) -> None:
    graph = MemoryGraph(backends)
    [search] = [b for b in backends.breakers if b.name == "search"]
    request: Any = None
    text = bytes((await metrics.metrics_response(request, graph)).body).decode()
    assert 'agentmem_circuit_breaker_state{backend="search"} 0.0' in text
    assert 'agentmem_circuit_breaker_state{backend="graph"} 0.0' in text
    while search.state is not BreakerState.OPEN:
        search.acquire().failure()
    text = bytes((await metrics.metrics_response(request, graph)).body).decode()
    assert 'agentmem_circuit_breaker_state{backend="search"} 2.0' in text
