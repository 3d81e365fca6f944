"""Agents, relations, entities, facts and the index outbox of the Neo4j store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from neo4j import AsyncManagedTransaction

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.neo4j import cypher
from graph.adapters.neo4j.records import (
    agent_from,
    entity_from,
    fact_from,
    from_db_time_opt,
    outbox_from,
    relation_from,
)
from graph.adapters.neo4j.runner import Neo4jRunner, run_records
from graph.errors import BadInput, NotFound
from graph.ids import new_id
from graph.model import Agent, Direction, Entity, Fact, NodeKind, Relation, utcnow
from graph.names import display_name, normalise_name
from graph.ports import OutboxEntry, OutboxStats, Position


class GraphStoreMixin(Neo4jRunner):
    """The non-memory half of :class:`graph.adapters.neo4j.store.Neo4jGraphStore`."""

    # -- agents -----------------------------------------------------------------

    async def create_agent(self, agent: Agent) -> None:
        await self._write(
            cypher.create_agent(agent), f"An agent with id {agent.id!r} already exists."
        )

    async def get_agents(self, tenant: str, ids: Sequence[str]) -> dict[str, Agent]:
        if not ids:
            return {}
        rows = await self._read(cypher.get_agents(tenant, ids))
        agents = (agent_from(row) for row in rows)
        return {agent.id: agent for agent in agents}

    async def list_agents(self, tenant: str, first: int, after: Position | None) -> list[Agent]:
        rows = await self._read(cypher.list_agents(tenant, first, after))
        return [agent_from(row) for row in rows]

    # -- relations ---------------------------------------------------------------------

    async def _insert_relations(
        self, tx: AsyncManagedTransaction, relations: Sequence[Relation]
    ) -> None:
        rows = await run_records(tx, cypher.insert_relations(relations))
        if int(rows[0]["written"]) != len(relations):
            raise NotFound("A relation's source or target is not a node of its tenant.")

    async def insert_relation(self, relation: Relation) -> None:
        """Insert a relation between two existing nodes of its tenant
        (``NotFound`` otherwise); a duplicate id raises ``Conflict``."""
        await self._transact(
            True,
            lambda tx: self._insert_relations(tx, [relation]),
            f"A relation with id {relation.id!r} already exists.",
        )

    async def delete_relation(self, tenant: str, relation_id: str) -> bool:
        """Soft delete (the relationship keeps ``deleted_at``); no read returns it again."""

        async def work(tx: AsyncManagedTransaction) -> bool:
            rows = await run_records(tx, cypher.lock_relation(tenant, relation_id))
            if not rows or not rows[0]["live"]:
                return False
            await run_records(tx, cypher.delete_relation(tenant, relation_id, utcnow()))
            return True

        return await self._transact(True, work)

    async def get_relations(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Relation]:
        if not ids:
            return {}
        rows = await self._read(cypher.get_relations(tenant, ids, scope))
        relations = (relation_from(row) for row in rows)
        return {relation.id: relation for relation in relations}

    async def relations_of(
        self,
        tenant: str,
        node_ids: Sequence[str],
        direction: Direction,
        types: Sequence[str] | None,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[Relation]]:
        """Live relations per node, newest first; every requested id is a key.
        An empty ``types`` means no type constraint, like ``None``."""
        result: dict[str, list[Relation]] = {node_id: [] for node_id in node_ids}
        if not node_ids:
            return result
        for row in await self._read(cypher.relations_of(tenant, node_ids, direction, types, scope)):
            result[row["node_id"]].append(relation_from(row["relation"]))
        return result

    # -- entities and facts ---------------------------------------------------------

    async def upsert_entity(self, tenant: str, name: str, kind: str, at: datetime) -> Entity:
        """The entity with this normalised name and kind, created with the
        given spelling if missing."""
        normalised = normalise_name(name)
        if not normalised:
            raise BadInput("An entity name must not be blank.", argument="name")
        statement = cypher.upsert_entity(
            tenant, new_id(NodeKind.ENTITY), display_name(name), normalised, kind, at
        )
        [record] = await self._write(statement)
        return entity_from(record["entity"])

    async def find_entities_by_name(self, tenant: str, name: str) -> list[Entity]:
        """Entities of any kind whose normalised name matches, oldest first."""
        rows = await self._read(cypher.find_entities_by_name(tenant, normalise_name(name)))
        return [entity_from(row) for row in rows]

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, Entity]:
        if not ids:
            return {}
        rows = await self._read(cypher.get_entities(tenant, ids))
        entities = (entity_from(row) for row in rows)
        return {entity.id: entity for entity in entities}

    async def insert_fact(
        self, fact: Fact, exclusive: bool, mentions: Sequence[Relation] = ()
    ) -> None:
        """Insert a fact and its ``mentions``; when ``exclusive``, first close
        the open facts with the same subject and predicate. One transaction."""

        async def work(tx: AsyncManagedTransaction) -> None:
            if exclusive:
                await run_records(tx, cypher.close_facts(fact))
            await run_records(tx, cypher.insert_fact(fact))
            if mentions:
                await self._insert_relations(tx, mentions)

        await self._transact(True, work, f"A fact with id {fact.id!r} already exists.")

    async def get_facts(self, tenant: str, ids: Sequence[str]) -> dict[str, Fact]:
        if not ids:
            return {}
        rows = await self._read(cypher.get_facts(tenant, ids))
        facts = (fact_from(row) for row in rows)
        return {fact.id: fact for fact in facts}

    async def facts_for_entities(
        self, tenant: str, entity_ids: Sequence[str], as_of: datetime
    ) -> dict[str, list[Fact]]:
        """Facts valid at ``as_of`` per entity (subject or object), oldest
        recorded first; every requested id is a key."""
        result: dict[str, list[Fact]] = {entity_id: [] for entity_id in entity_ids}
        if not entity_ids:
            return result
        for row in await self._read(cypher.facts_for_entities(tenant, entity_ids, as_of)):
            result[row["entity_id"]].append(fact_from(row["fact"]))
        return result

    # -- index outbox -----------------------------------------------------------------

    async def pending_index_work(self, limit: int) -> list[OutboxEntry]:
        """The oldest pending outbox entries of every tenant, oldest first."""
        rows = await self._read(cypher.pending_index_work(limit))
        return [outbox_from(row) for row in rows]

    async def ack_index_work(self, seqs: Sequence[int]) -> None:
        if seqs:
            await self._write(cypher.ack_index_work(seqs))

    async def outbox_stats(self) -> OutboxStats:
        query, params = cypher.outbox_stats()

        async def work(tx: AsyncManagedTransaction) -> OutboxStats:
            [row] = await run_records(tx, (query, params))
            return OutboxStats(depth=int(row["depth"]), oldest=from_db_time_opt(row["oldest"]))

        return await self._transact(False, work)
