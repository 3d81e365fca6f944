"""The ports: one small Protocol per external system.

Adapters (embedded SQLite, Neo4j, Weaviate, Redis, embedding models)
implement these; services depend only on them. Every method that reads or
writes tenant data takes the tenant and enforces it inside the store query.
The conformance suite in ``tests/conformance`` runs unchanged against every
adapter set.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from graph.access.apikeys import ApiKey
from graph.access.audit import AuditEvent, AuditRecord, ChainBounds
from graph.access.scope import UNSCOPED, RowScope
from graph.backup.records import ExportSink, Record
from graph.model import (
    Agent,
    Direction,
    Entity,
    Fact,
    Memory,
    MemoryEvent,
    MemoryFilter,
    MemoryVersion,
    Relation,
)
from graph.resilience.breaker import CircuitBreaker

Vectors = npt.NDArray[np.float32]
"""A (rows, dimensions) float32 matrix of L2-normalised embeddings."""

Position = tuple[datetime, str]
"""A keyset position: (created_at, id). Listings are newest first."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A pending change for the search index, written with the graph change."""

    seq: int
    tenant: str
    memory_id: str
    operation: str  # "upsert" or "delete"
    created_at: datetime


class GraphStore(Protocol):
    """The knowledge graph: agents, memories with history, entities, relations, facts.

    Each write method is one transaction: it lands whole or not at all. Memory
    writes also append to the index outbox in that same transaction, so an
    acknowledged write always reaches the search index eventually. Listing
    methods return up to ``first + 1`` items so callers can tell whether a
    next page exists.

    Methods that read memories take a ``scope`` (:class:`RowScope`, default
    unrestricted) and compile it into their query: memories outside it, and
    relations with an end outside it, are never returned.
    """

    async def create_agent(self, agent: Agent) -> None: ...

    async def get_agents(self, tenant: str, ids: Sequence[str]) -> dict[str, Agent]: ...

    async def list_agents(self, tenant: str, first: int, after: Position | None) -> list[Agent]: ...

    async def insert_memories(self, memories: Sequence[Memory]) -> None:
        """Insert new memories (version 1) with their first history row."""
        ...

    async def find_memories_by_hash(
        self,
        tenant: str,
        keys: Sequence[tuple[str | None, str]],
        scope: RowScope = UNSCOPED,
    ) -> dict[tuple[str | None, str], Memory]:
        """Live memories by (agent id, content hash), for de-duplication."""
        ...

    async def get_memories(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Memory]:
        """Current versions of live (not deleted) memories; unknown ids are absent."""
        ...

    async def update_memory(self, updated: Memory) -> None:
        """Store ``updated`` as the next version of its memory.

        Compare-and-set: succeeds only if the stored version is
        ``updated.version - 1`` and the memory is live; otherwise raises
        ``Conflict`` (stale version) or ``NotFound`` (deleted or unknown). The
        previous version's ``expired_at`` becomes ``updated.recorded_at``.
        """
        ...

    async def delete_memory(self, tenant: str, memory_id: str, at: datetime) -> Memory | None:
        """Soft-delete a live memory (history is kept); ``None`` if not live."""
        ...

    async def list_memories(
        self,
        tenant: str,
        memory_filter: MemoryFilter,
        first: int,
        after: Position | None,
        scope: RowScope = UNSCOPED,
    ) -> list[Memory]: ...

    async def list_memories_for_agents(
        self,
        tenant: str,
        agent_ids: Sequence[str],
        memory_filter: MemoryFilter,
        first: int,
        after: Position | None,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[Memory]]:
        """One page per agent in a single round trip (``memory_filter.agent_id`` ignored)."""
        ...

    async def count_memories_for_agents(
        self,
        tenant: str,
        agent_ids: Sequence[str | None],
        memory_filter: MemoryFilter,
        scope: RowScope = UNSCOPED,
    ) -> dict[str | None, int]:
        """Counts per agent; the ``None`` key counts without an agent constraint."""
        ...

    async def memory_history(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, list[MemoryVersion]]:
        """Every version of each memory, oldest first (deleted memories included)."""
        ...

    async def insert_relation(self, relation: Relation) -> None: ...

    async def delete_relation(self, tenant: str, relation_id: str) -> bool: ...

    async def get_relations(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Relation]: ...

    async def relations_of(
        self,
        tenant: str,
        node_ids: Sequence[str],
        direction: Direction,
        types: Sequence[str] | None,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[Relation]]:
        """Live relations touching each node, newest first, in one round trip.

        Relations whose other end is a deleted memory are left out, and so
        are relations with an end outside ``scope``.
        """
        ...

    async def upsert_entity(self, tenant: str, name: str, kind: str, at: datetime) -> Entity:
        """The entity with this normalised name and kind, created if missing."""
        ...

    async def find_entities_by_name(self, tenant: str, name: str) -> list[Entity]: ...

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, Entity]: ...

    async def insert_fact(
        self, fact: Fact, exclusive: bool, mentions: Sequence[Relation] = ()
    ) -> None:
        """Insert a fact and the ``mentions`` relations that tie its source
        memory to its entities; if ``exclusive``, first close (``valid_to``) the
        open facts with the same subject and predicate. One transaction."""
        ...

    async def get_facts(self, tenant: str, ids: Sequence[str]) -> dict[str, Fact]: ...

    async def facts_for_entities(
        self, tenant: str, entity_ids: Sequence[str], as_of: datetime
    ) -> dict[str, list[Fact]]:
        """Facts valid at ``as_of`` in which each entity is subject or object."""
        ...

    async def keyword_fallback(
        self,
        tenant: str,
        text: str,
        memory_filter: MemoryFilter,
        limit: int,
        scope: RowScope = UNSCOPED,
    ) -> list[IndexHit]:
        """A keyword search answered by the graph store itself, used while the
        search index is unavailable. Scores are keyword scores."""
        ...

    async def erase_user(self, tenant: str, user_id: str, scope: RowScope = UNSCOPED) -> Erasure:
        """Hard-delete every memory (live or deleted) of ``user_id`` inside
        ``scope``: all versions, tags, relations touching them and facts
        sourced from them. Pending index work for them becomes ``delete``
        entries, in the same transaction, so the index can never be refilled
        from the outbox."""
        ...

    async def erase_entity(self, tenant: str, entity_id: str) -> Erasure | None:
        """Hard-delete an entity, the facts whose subject or object it is and
        every relation touching either (MENTIONS links included); ``None``
        if the tenant has no such entity. One transaction."""
        ...

    async def pending_index_work(self, limit: int) -> list[OutboxEntry]: ...

    async def ack_index_work(self, seqs: Sequence[int]) -> None: ...

    async def outbox_stats(self) -> OutboxStats: ...

    async def tenants(self) -> list[str]:
        """Every tenant that has at least one memory (live or deleted)."""
        ...

    async def live_memory_versions(self, tenant: str) -> dict[str, int]:
        """Id -> current version of every live memory of a tenant."""
        ...

    async def export_graph(self, tenants: Sequence[str] | None, sink: ExportSink) -> None:
        """Every agent, entity, memory (with all its versions), fact and
        relation of ``tenants`` (every tenant when ``None``) in the record forms
        of :mod:`graph.backup.records`, streamed to ``sink`` kind by kind from
        one read transaction. Facts come grouped by (tenant, subject, predicate)."""
        ...

    async def import_records(self, kind: str, records: Sequence[Record]) -> None:
        """Upsert one batch of exported records of one kind, keeping their ids,
        versions and times, in one transaction. Memories queue their indexing
        in the outbox like any other memory write."""
        ...

    async def is_empty(self) -> bool:
        """True when the store holds no agent, memory, entity, fact or relation."""
        ...

    async def ping(self) -> None:
        """Return if the store answers; raise ``Unavailable`` otherwise."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Erasure:
    """What one erasure removed from the graph (hard deletes)."""

    memory_ids: tuple[str, ...] = ()
    versions: int = 0
    relations: int = 0
    facts: int = 0
    entities: int = 0


@dataclass(frozen=True, slots=True)
class OutboxStats:
    depth: int
    oldest: datetime | None


@dataclass(frozen=True, slots=True)
class IndexQuery:
    """A search request as the index sees it.

    ``alpha`` weighs the two rankings: 0 is keyword only, 1 is vector only.
    ``vector`` is ``None`` for keyword-only searches. ``scope`` narrows the
    documents searched like ``memory_filter`` does, inside the index query.
    """

    text: str
    vector: Vectors | None
    alpha: float
    memory_filter: MemoryFilter
    limit: int
    scope: RowScope = UNSCOPED


@dataclass(frozen=True, slots=True)
class IndexHit:
    memory_id: str
    score: float
    keyword_score: float | None
    vector_score: float | None


class SearchIndex(Protocol):
    """Hybrid keyword + vector search over memory content.

    Scores of one result list are fused by relative score: each ranking is
    scaled to 0..1 (best = 1) and combined as
    ``alpha * vector + (1 - alpha) * keyword``. ``keyword_score`` and
    ``vector_score`` are the raw scores (BM25, cosine similarity).
    """

    async def upsert(self, memories: Sequence[Memory], vectors: Vectors) -> None: ...

    async def delete(self, tenant: str, ids: Sequence[str]) -> None: ...

    async def search(self, tenant: str, query: IndexQuery) -> list[IndexHit]: ...

    async def indexed_versions(self, tenant: str) -> dict[str, int]:
        """Id -> memory version of every document the index holds for a tenant."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class Embedder(Protocol):
    """Turns text into L2-normalised vectors, off the event loop and in batches."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> Vectors: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class EventBus(Protocol):
    """Fan-out of memory events to every subscriber (across processes if shared)."""

    async def publish(self, event: MemoryEvent) -> None: ...

    def subscribe(self) -> AsyncGenerator[MemoryEvent, None]:
        """Events published from now on, until the iterator is closed."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class Cache(Protocol):
    """A byte cache with time-to-live; values must be safe to lose."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, keys: Sequence[str]) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit trail (see :mod:`graph.access.audit`)."""

    async def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        """Link ``events`` onto their tenants' chains, in order, atomically."""
        ...

    async def read(
        self, tenant: str, after_seq: int | None, first: int, action: str | None = None
    ) -> list[AuditRecord]:
        """Up to ``first`` records of ``tenant`` with ``seq > after_seq``
        (and the given ``action``, if any), oldest first."""
        ...

    async def bounds(self, tenant: str) -> ChainBounds:
        """Where ``tenant``'s stored chain starts (after pruning) and ends."""
        ...

    async def prune(self, before: datetime) -> int:
        """Drop each tenant's oldest records up to the first one at or after
        ``before`` (retention), moving its anchor; returns how many."""
        ...

    async def close(self) -> None: ...


class ApiKeyStore(Protocol):
    """API keys by id (see :mod:`graph.access.apikeys`); only hashes are stored."""

    async def insert_api_key(
        self, key: ApiKey, replaces: str | None = None, at: datetime | None = None
    ) -> None:
        """Store a new key. With ``replaces``, revoke that live key of the same
        tenant at ``at`` in the same transaction (rotation); if there is no
        such key, raise ``NotFound`` and store nothing."""
        ...

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        """Any tenant's key by id (authentication does not know the tenant yet)."""
        ...

    async def list_api_keys(self, tenant: str) -> list[ApiKey]:
        """Every key of ``tenant``, revoked ones included, newest first."""
        ...

    async def revoke_api_key(self, tenant: str, key_id: str, at: datetime) -> ApiKey | None:
        """Revoke a key of ``tenant`` (a revoked key keeps its first
        ``revoked_at``); ``None`` if the tenant has no key with this id."""
        ...

    async def count_api_keys(self, tenant: str) -> int:
        """How many keys ``tenant`` ever had (revoked ones included)."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class Backends:
    """One set of adapters that together serve the domain."""

    store: GraphStore
    index: SearchIndex
    embedder: Embedder
    bus: EventBus
    cache: Cache
    audit: AuditLog
    apikeys: ApiKeyStore
    shared_cache: Cache | None = None
    """The layer of ``cache`` that every server process sees (Redis), for
    values that must never be stale in one process; ``None`` when ``cache``
    is itself the only layer. Closed by ``cache``, which owns it."""

    breakers: Sequence[CircuitBreaker] = ()
    """The circuit breakers guarding these ports (``stats()`` for metrics)."""

    @property
    def coordination_cache(self) -> Cache:
        return self.shared_cache if self.shared_cache is not None else self.cache

    async def close(self) -> None:
        parts = (self.apikeys, self.store, self.index, self.embedder, self.bus, self.cache)
        for part in (*parts, self.audit):
            await part.close()


class RateLimiter(Protocol):
    """Per-caller token buckets (cost units), shared by every server process
    when backed by Redis."""

    async def acquire(self, key: str, cost: float, per_second: float, burst: float) -> float:
        """Take ``cost`` tokens from ``key``'s bucket (size ``burst``, refilled
        at ``per_second``). Returns 0 when granted; otherwise takes nothing and
        returns the seconds until the tokens would be there. A ``cost`` above
        ``burst`` is charged as ``burst`` (a full bucket)."""
        ...

    async def close(self) -> None: ...
