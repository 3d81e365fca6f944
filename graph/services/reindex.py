"""Compares the search index with the graph and repairs drift.

The graph is the source of truth. A memory is *missing* from the index when
it is live in the graph but not indexed, *stale* when the index holds an older
version, and *orphaned* when the index holds a memory the graph no longer has
live. Repair re-embeds missing and stale memories and removes orphans; it is
idempotent and safe to run while the server serves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from graph.ports import Embedder, GraphStore, SearchIndex

REPAIR_BATCH = 128


@dataclass(slots=True)
class TenantDrift:
    tenant: str
    indexed: int
    live: int
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)

    @property
    def drift(self) -> int:
        return len(self.missing) + len(self.stale) + len(self.orphaned)


@dataclass(slots=True)
class DriftReport:
    tenants: list[TenantDrift]

    @property
    def drift(self) -> int:
        return sum(t.drift for t in self.tenants)


class Reindexer:
    def __init__(self, store: GraphStore, index: SearchIndex, embedder: Embedder) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder

    async def verify(self, tenants: list[str] | None = None) -> DriftReport:
        names = tenants if tenants is not None else await self._store.tenants()
        report = DriftReport([])
        for tenant in names:
            live = await self._store.live_memory_versions(tenant)
            indexed = await self._index.indexed_versions(tenant)
            drift = TenantDrift(tenant, indexed=len(indexed), live=len(live))
            for memory_id, version in live.items():
                held = indexed.get(memory_id)
                if held is None:
                    drift.missing.append(memory_id)
                elif held != version:
                    drift.stale.append(memory_id)
            drift.orphaned = sorted(set(indexed) - set(live))
            drift.missing.sort()
            drift.stale.sort()
            report.tenants.append(drift)
        return report

    async def repair(
        self, report: DriftReport, progress: Callable[[int], None] | None = None
    ) -> int:
        """Fix what ``report`` found; returns how many documents were written or removed."""
        done = 0
        for drift in report.tenants:
            if drift.orphaned:
                await self._index.delete(drift.tenant, drift.orphaned)
                done += len(drift.orphaned)
            todo = drift.missing + drift.stale
            for start in range(0, len(todo), REPAIR_BATCH):
                chunk = todo[start : start + REPAIR_BATCH]
                found = await self._store.get_memories(drift.tenant, chunk)
                memories = list(found.values())
                if memories:
                    vectors = await self._embedder.embed([m.content for m in memories])
                    await self._index.upsert(memories, vectors)
                done += len(chunk)
                if progress is not None:
                    progress(done)
        return done
