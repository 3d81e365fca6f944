"""Verifying the search index against the graph, and repairing drift."""

from __future__ import annotations

from graph.memory_graph import MemoryGraph
from graph.services.memories import MemoryPatch, NewMemory
from graph.services.reindex import Reindexer
from graph.services.search import SearchRequest


async def test_a_consistent_index_reports_no_drift(memory_graph: MemoryGraph) -> None:
    await memory_graph.memories.add("default", [NewMemory(f"fact {i}") for i in range(5)])
    report = await Reindexer(
        memory_graph.backends.store, memory_graph.backends.index, memory_graph.backends.embedder
    ).verify()
    assert report.drift == 0
    assert [(t.tenant, t.live, t.indexed) for t in report.tenants] == [("default", 5, 5)]


async def test_missing_stale_and_orphaned_documents_are_found_and_repaired(
    memory_graph: MemoryGraph,
) -> None:
    backends = memory_graph.backends
    kept, stale, missing, orphan = await memory_graph.memories.add(
        "default", [NewMemory(f"otter note {i}") for i in range(4)]
    )
    # Drift the index behind the graph's back, as a crash or an outage would.
    await backends.index.delete("default", [missing.id])
    await backends.store.update_memory(
        memory_graph.memories._patched(stale, MemoryPatch(content="otter note updated"))
    )
    await backends.store.ack_index_work(
        [e.seq for e in await backends.store.pending_index_work(100)]
    )
    await backends.store.delete_memory("default", orphan.id, orphan.created_at)
    reindexer = Reindexer(backends.store, backends.index, backends.embedder)
    report = await reindexer.verify()
    drift = report.tenants[0]
    assert (drift.missing, drift.stale, drift.orphaned) == ([missing.id], [stale.id], [orphan.id])
    assert await reindexer.repair(report) == 3
    assert (await reindexer.verify()).drift == 0
    found = await memory_graph.search.search("default", SearchRequest("otter", limit=10))
    assert {h.memory.id for h in found.hits} == {kept.id, stale.id, missing.id}
