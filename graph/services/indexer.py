"""Moves committed memory changes from the graph's outbox into the search index.

The graph store writes an outbox entry in the same transaction as every memory
change, so a write acknowledged to a client is never lost to the index: if
embedding or indexing fails, the entries stay and a later drain retries them.
Drains are serialised; upserts are idempotent, so replaying an entry is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable

from graph import telemetry
from graph.ports import Embedder, GraphStore, OutboxEntry, SearchIndex

log = logging.getLogger(__name__)

MAX_LINKS = 32
"""Writes a background drain links its span to, at most (the latest ones)."""


class Indexer:
    def __init__(
        self,
        store: GraphStore,
        index: SearchIndex,
        embedder: Embedder,
        on_indexed: Callable[[str], Awaitable[None]] | None = None,
        batch: int = 256,
    ) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder
        self._batch = batch
        self._on_indexed = on_indexed
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._retry_now = asyncio.Event()
        self._deferred_from: list[telemetry.Link] = []
        self.failures = 0

    async def drain(self) -> int:
        """Index everything pending; returns how many entries were applied.

        Raises whatever the index or embedder raised; the entries stay pending.
        """
        applied = 0
        async with self._lock:
            with telemetry.span("outbox.drain") as current:
                while True:
                    entries = await self._store.pending_index_work(self._batch)
                    if not entries:
                        if current is not None:
                            current.set_attribute("outbox.applied", applied)
                        return applied
                    await self._apply(entries)
                    await self._store.ack_index_work([e.seq for e in entries])
                    applied += len(entries)

    async def try_drain(self) -> bool:
        """Drain, and on failure leave the work to the background loop."""
        try:
            await self.drain()
        except Exception:
            self.failures += 1
            log.warning("search indexing deferred; will retry", exc_info=True)
            link = telemetry.current_link()
            if link is not None:
                self._deferred_from = [*self._deferred_from[-(MAX_LINKS - 1) :], link]
            self._wake.set()
            return False
        return True

    async def drain_deferred(self) -> bool:
        """A drain in its own trace, linked to the writes whose indexing was
        deferred to it (those of this process since the last success)."""
        links, self._deferred_from = self._deferred_from, []
        if not links and telemetry.tracing_enabled():
            with telemetry.quiet():  # an idle poll is not worth a trace
                if not await self._store.pending_index_work(1):
                    return True
        with telemetry.span("outbox.background", links=links, parent=telemetry.ROOT):
            drained = await self.try_drain()
        if not drained:
            self._deferred_from = [*links, *self._deferred_from][-MAX_LINKS:]
        return drained

    def retry_now(self) -> None:
        """Cut the background loop's back-off short: a backend it was waiting
        for is back (called when the search or embedder circuit closes)."""
        self._retry_now.set()
        self._wake.set()

    async def run(
        self, idle_seconds: float = 5.0, max_backoff: float = 60.0, initial_backoff: float = 0.5
    ) -> None:
        """Background loop: drain on wake-up or every ``idle_seconds``, backing
        off with jitter while the index keeps failing; :meth:`retry_now` ends
        a back-off at once and starts the next one from ``initial_backoff``."""
        backoff = initial_backoff
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle_seconds)
            self._wake.clear()
            self._retry_now.clear()
            if await self.drain_deferred():
                backoff = initial_backoff
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._retry_now.wait(), timeout=backoff * (0.5 + random.random())
                )
            backoff = initial_backoff if self._retry_now.is_set() else min(backoff * 2, max_backoff)
            self._wake.set()

    async def _apply(self, entries: list[OutboxEntry]) -> None:
        by_tenant: dict[str, list[OutboxEntry]] = defaultdict(list)
        for entry in entries:
            by_tenant[entry.tenant].append(entry)
        for tenant, tenant_entries in by_tenant.items():
            ids = list(dict.fromkeys(e.memory_id for e in tenant_entries))
            live = await self._store.get_memories(tenant, ids)
            gone = [memory_id for memory_id in ids if memory_id not in live]
            if gone:
                await self._index.delete(tenant, gone)
            if live:
                memories = list(live.values())
                vectors = await self._embedder.embed([m.content for m in memories])
                await self._index.upsert(memories, vectors)
            if self._on_indexed is not None:
                await self._on_indexed(tenant)
