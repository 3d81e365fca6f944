"""The domain's one entry point: services wired to one set of backends.

Transports (GraphQL, the CLI, tests) hold a :class:`MemoryGraph` and call its
services; they never touch an adapter directly.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast

from graph.limits import Limits
from graph.ports import Backends, GraphStore
from graph.services.apikeys import ApiKeyService
from graph.services.audit import AuditService
from graph.services.events import EventService
from graph.services.facts import FactService
from graph.services.forget import ForgetService
from graph.services.indexer import Indexer
from graph.services.memories import MemoryService
from graph.services.read_cache import ReadCache
from graph.services.relations import RelationService
from graph.services.search import SearchService
from graph.vault.cipher import VaultCipher
from graph.vault.store import VaultStore

INDEXING_BACKENDS = ("search", "embedder")
"""Backends whose recovery (their circuit closing) resumes indexing at once."""


class MemoryGraph:
    def __init__(
        self,
        backends: Backends,
        limits: Limits | None = None,
        audit_retention_days: float = 0,
        vault: VaultCipher | None = None,
    ) -> None:
        self.backends = backends
        self.audit_retention_days = audit_retention_days
        """Audit records older than this are pruned while serving; 0 keeps all."""
        self.limits = limits or Limits()
        # Knowledge-vault content is sealed on its way into the store and
        # opened on the way out; the indexer reads it as empty (graph.vault).
        vault_store = VaultStore(backends.store, vault)
        store = cast(GraphStore, vault_store)
        self.store = store
        """The graph store as services and loaders must use it (vault opened)."""
        self.index_store = cast(GraphStore, vault_store.for_index())
        """The graph as the search index may see it: without vault memories."""
        self.vault = vault
        self.read_cache = ReadCache(backends.cache, backends.coordination_cache)
        invalidate = self.read_cache.invalidate
        self.indexer = Indexer(
            self.index_store, backends.index, backends.embedder, on_indexed=invalidate
        )
        for breaker in backends.breakers:
            if breaker.name in INDEXING_BACKENDS:
                breaker.on_close(self.indexer.retry_now)
        self.memories = MemoryService(store, backends.bus, self.indexer, self.limits, invalidate)
        self.relations = RelationService(store, self.limits, invalidate)
        self.facts = FactService(store, self.limits, invalidate)
        self.search = SearchService(
            store,
            backends.index,
            backends.embedder,
            backends.cache,
            self.relations,
            self.limits,
            self.read_cache,
        )
        self.events = EventService(backends.bus)
        self.audit = AuditService(backends.audit)
        self.forget = ForgetService(
            store, backends.index, self.indexer, self.read_cache, self.audit, self.limits
        )
        self.apikeys = ApiKeyService(backends.apikeys)
        self._background: asyncio.Task[None] | None = None
        self._retention: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Index whatever an earlier run left pending, then keep indexing in the background."""
        await self.indexer.try_drain()
        self._background = asyncio.create_task(self.indexer.run(), name="agentmem-indexer")
        if self.audit_retention_days > 0:
            self._retention = asyncio.create_task(
                self.audit.run_retention(self.audit_retention_days), name="agentmem-audit-retention"
            )

    async def close(self, flush_seconds: float = 0.0) -> None:
        """Stop background indexing and close the backends. With
        ``flush_seconds``, first let the outbox batch in progress finish and
        index what is pending, for at most that long (what is left stays in
        the durable outbox for the next start)."""
        if flush_seconds > 0:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(flush_seconds):
                    await self.indexer.drain()
        for task in (self._background, self._retention):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.backends.close()
