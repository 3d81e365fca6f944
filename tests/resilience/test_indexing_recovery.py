"""When the search index's circuit closes again, the background indexer
stops backing off and catches up at once (instead of sleeping out a back-off
that grew during the outage)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import replace

from graph.errors import Unavailable
from graph.memory_graph import MemoryGraph
from graph.model import Memory
from graph.ports import Backends, Vectors
from graph.resilience import BreakerPolicy, CircuitBreaker, Guard, guarded
from graph.resilience.boundary import SEARCH_IDEMPOTENT
from graph.services.memories import NewMemory
from tests.resilience.test_breaker import FakeClock


class Outage:
    """Makes the suite's real search index refuse writes while ``down``."""

    def __init__(self, index: object) -> None:
        self.index = index
        self.down = True

    async def upsert(self, memories: Sequence[Memory], vectors: Vectors) -> None:
        if self.down:
            raise Unavailable("The search index is unavailable.")
        await self.index.upsert(memories, vectors)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.index, name)


async def eventually(check: object, rounds: int = 3000) -> None:
    for _ in range(rounds):
        assert callable(check)
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_the_indexer_catches_up_as_soon_as_the_search_circuit_closes(
    backends: Backends,
) -> None:
    clock = FakeClock()
    search = CircuitBreaker("search", BreakerPolicy(failure_threshold=1), clock=clock)
    outage = Outage(backends.index)
    index = guarded(outage, Guard(search), SEARCH_IDEMPOTENT)
    graph = MemoryGraph(replace(backends, index=index, breakers=(search,)))
    await graph.memories.add("default", [NewMemory("written during the outage")])
    assert (await backends.store.outbox_stats()).depth == 1  # indexing deferred

    loop = asyncio.create_task(graph.indexer.run(idle_seconds=3600, initial_backoff=3600))
    try:
        failures = graph.indexer.failures
        await eventually(lambda: _async(graph.indexer.failures > failures))
        # the loop now backs off for about an hour; the index comes back
        outage.down = False
        clock.advance(search.policy.open_seconds)
        await index.ping()  # any call after the cool-down is the probe; it closes the circuit

        async def caught_up() -> bool:
            return (await backends.store.outbox_stats()).depth == 0

        await eventually(caught_up)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def _async(value: bool) -> bool:
    return value
