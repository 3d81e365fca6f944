"""Search results are cached per tenant and scope and invalidated by writes."""

from __future__ import annotations

import asyncio

from graph.adapters.inprocess import InProcessCache
from graph.memory_graph import MemoryGraph
from graph.services.memories import NewMemory
from graph.services.read_cache import ReadCache
from graph.services.search import SearchRequest


async def test_a_repeated_search_is_served_from_the_cache(memory_graph: MemoryGraph) -> None:
    await memory_graph.memories.add("default", [NewMemory("the lighthouse keeper waves")])
    cache = memory_graph.read_cache
    first = await memory_graph.search.search("default", SearchRequest("lighthouse"))
    misses = cache.misses
    again = await memory_graph.search.search("default", SearchRequest("lighthouse"))
    assert cache.misses == misses and cache.hits >= 1
    assert again == first


async def test_any_write_to_the_tenant_invalidates_its_cached_reads(
    memory_graph: MemoryGraph,
) -> None:
    (old,) = await memory_graph.memories.add("default", [NewMemory("harbour at noon")])
    assert len((await memory_graph.search.search("default", SearchRequest("harbour"))).hits) == 1
    await memory_graph.memories.add("default", [NewMemory("harbour at midnight")])
    assert len((await memory_graph.search.search("default", SearchRequest("harbour"))).hits) == 2
    await memory_graph.memories.delete("default", old.id)
    hits = (await memory_graph.search.search("default", SearchRequest("harbour"))).hits
    assert [h.memory.content for h in hits] == ["harbour at midnight"]


async def test_other_tenants_and_scopes_do_not_share_entries(memory_graph: MemoryGraph) -> None:
    await memory_graph.memories.add("default", [NewMemory("secret orchard")])
    assert len((await memory_graph.search.search("default", SearchRequest("orchard"))).hits) == 1
    assert (await memory_graph.search.search("other", SearchRequest("orchard"))).hits == []


async def test_concurrent_misses_of_one_key_load_once() -> None:
    local = InProcessCache()
    cache = ReadCache(local, local)
    loads = 0

    async def load() -> bytes:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)
        return b"value"

    results = await asyncio.gather(*(cache.get_or_load("t", "s", "k", load) for _ in range(20)))
    assert results == [b"value"] * 20
    assert loads == 1
    await cache.invalidate("t")
    assert await cache.get_or_load("t", "s", "k", load) == b"value"
    assert loads == 2
