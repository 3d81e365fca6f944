"""Entities and the time-aware facts between them.

Facts are (subject, predicate, object) triples over entities. An exclusive
fact closes the open fact with the same subject and predicate (``validTo``)
rather than deleting it, so ``facts(asOf:)`` can answer what was true when.
A fact taken from a memory links that memory to both entities (MENTIONS) in
the same transaction as the fact. Entities are created first, idempotently:
an entity without facts is a valid node, so a failure there leaves nothing
half-written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from graph import validation
from graph.access.scope import UNSCOPED, RowScope
from graph.errors import BadInput, NotFound
from graph.ids import new_id
from graph.limits import Limits
from graph.model import Direction, Entity, Fact, Memory, NodeKind, Relation, utcnow
from graph.ports import GraphStore

DEFAULT_KIND = "CONCEPT"
MENTIONS = "MENTIONS"


class FactService:
    def __init__(
        self, store: GraphStore, limits: Limits, on_write: Callable[[str], Awaitable[None]]
    ) -> None:
        self._store = store
        self._limits = limits
        self._on_write = on_write

    async def add_fact(
        self,
        tenant: str,
        subject: str,
        predicate: str,
        obj: str,
        *,
        subject_kind: str | None = None,
        object_kind: str | None = None,
        exclusive: bool = False,
        valid_from: datetime | None = None,
        source_memory_id: str | None = None,
        scope: RowScope = UNSCOPED,
    ) -> Fact:
        predicate = validation.identifier(predicate, "predicate")
        if valid_from is not None:
            if valid_from.tzinfo is None:
                raise BadInput("`validFrom` must have a time zone.", argument="validFrom")
            valid_from = valid_from.astimezone(UTC)
        if source_memory_id is not None:
            found = await self._store.get_memories(tenant, [source_memory_id], scope)
            if source_memory_id not in found:
                raise NotFound(f"No memory with id {source_memory_id!r}.", id=source_memory_id)
        now = utcnow()
        subject_entity = await self._entity(tenant, subject, subject_kind, "subject", now)
        object_entity = await self._entity(tenant, obj, object_kind, "object", now)
        fact = Fact(
            id=new_id(NodeKind.FACT),
            tenant=tenant,
            subject_id=subject_entity.id,
            predicate=predicate,
            object_id=object_entity.id,
            valid_from=valid_from or now,
            valid_to=None,
            source_memory_id=source_memory_id,
            recorded_at=now,
        )
        mentions: list[Relation] = []
        if source_memory_id is not None:
            mentions = await self._new_mentions(
                tenant, source_memory_id, [subject_entity, object_entity], now
            )
        await self._store.insert_fact(fact, exclusive, mentions)
        await self._on_write(tenant)
        return fact

    async def entities(self, tenant: str, ids: Sequence[str]) -> dict[str, Entity]:
        return await self._store.get_entities(tenant, ids)

    async def facts_for_entities(
        self, tenant: str, entity_ids: Sequence[str], as_of: datetime | None
    ) -> dict[str, list[Fact]]:
        moment = utcnow() if as_of is None else as_of.astimezone(UTC)
        return await self._store.facts_for_entities(tenant, entity_ids, moment)

    async def memories_mentioning(
        self, tenant: str, entity_ids: Sequence[str], first: int, scope: RowScope = UNSCOPED
    ) -> dict[str, list[Memory]]:
        validation.page_size(first, self._limits)
        edges = await self._store.relations_of(tenant, entity_ids, Direction.IN, [MENTIONS], scope)
        wanted = {r.source_id for rels in edges.values() for r in rels}
        memories = await self._store.get_memories(tenant, sorted(wanted), scope) if wanted else {}
        result: dict[str, list[Memory]] = {}
        for entity_id in entity_ids:
            linked = [
                memories[r.source_id] for r in edges.get(entity_id, []) if r.source_id in memories
            ]
            result[entity_id] = list({m.id: m for m in linked}.values())[:first]
        return result

    async def entities_mentioned(
        self, tenant: str, memory_ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, list[Entity]]:
        edges = await self._store.relations_of(tenant, memory_ids, Direction.OUT, [MENTIONS], scope)
        wanted = {r.target_id for rels in edges.values() for r in rels}
        entities = await self._store.get_entities(tenant, sorted(wanted)) if wanted else {}
        return {
            memory_id: list(
                {
                    r.target_id: entities[r.target_id]
                    for r in edges.get(memory_id, [])
                    if r.target_id in entities
                }.values()
            )
            for memory_id in memory_ids
        }

    async def _entity(
        self, tenant: str, name: str, kind: str | None, argument: str, now: datetime
    ) -> Entity:
        name = validation.text(name, self._limits.max_name_chars, argument).strip()
        if kind is None:
            known = await self._store.find_entities_by_name(tenant, name)
            if len(known) == 1:
                return known[0]
            kind = DEFAULT_KIND
        kind = validation.identifier(kind, f"{argument}Kind")
        return await self._store.upsert_entity(tenant, name, kind, now)

    async def _new_mentions(
        self, tenant: str, memory_id: str, entities: list[Entity], now: datetime
    ) -> list[Relation]:
        """MENTIONS relations from the memory to those entities it does not yet mention."""
        existing = await self._store.relations_of(tenant, [memory_id], Direction.OUT, [MENTIONS])
        linked = {r.target_id for r in existing.get(memory_id, [])}
        mentions = []
        for entity in entities:
            if entity.id in linked:
                continue
            linked.add(entity.id)
            mentions.append(
                Relation(
                    id=new_id(NodeKind.RELATION),
                    tenant=tenant,
                    type=MENTIONS,
                    source_id=memory_id,
                    target_id=entity.id,
                    weight=1.0,
                    properties=None,
                    valid_from=None,
                    valid_to=None,
                    created_at=now,
                )
            )
        return mentions
