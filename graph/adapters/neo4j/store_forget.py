"""Erasure (right to be forgotten) in the Neo4j graph store: hard deletes in
one transaction, leaving only ``delete`` work in the index outbox."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.neo4j import cypher_forget as cf
from graph.adapters.neo4j.cypher_base import Statement
from graph.adapters.neo4j.runner import Neo4jRunner, run_records
from graph.model import utcnow
from graph.ports import Erasure


async def _rows(tx: AsyncManagedTransaction, statement: Statement) -> list[Any]:
    [record] = await run_records(tx, statement)
    rows: list[Any] = record["rows"]
    return rows


async def _count(tx: AsyncManagedTransaction, statement: Statement) -> int:
    [record] = await run_records(tx, statement)
    return int(record["n"])


class ForgetStoreMixin(Neo4jRunner):
    """The erasure part of :class:`graph.adapters.neo4j.store.Neo4jGraphStore`."""

    async def erase_user(self, tenant: str, user_id: str, scope: RowScope = UNSCOPED) -> Erasure:
        async def work(tx: AsyncManagedTransaction) -> Erasure:
            ids = [str(i) for i in await _rows(tx, cf.user_memory_ids(tenant, user_id, scope))]
            if not ids:
                return Erasure()
            fact_ids = [str(i) for i in await _rows(tx, cf.facts_sourced_from(tenant, ids))]
            relations = await _count(tx, cf.delete_relations_of(tenant, [*ids, *fact_ids]))
            facts = await _count(tx, cf.delete_nodes(tenant, fact_ids)) if fact_ids else 0
            versions = await _count(tx, cf.delete_versions(tenant, ids))
            await run_records(tx, cf.replace_index_work(tenant, ids, utcnow()))
            await _count(tx, cf.delete_nodes(tenant, ids))
            return Erasure(tuple(ids), versions, relations, facts, 0)

        return await self._transact(True, work)

    async def erase_entity(self, tenant: str, entity_id: str) -> Erasure | None:
        async def work(tx: AsyncManagedTransaction) -> Erasure | None:
            if not await _rows(tx, cf.entity_exists(tenant, entity_id)):
                return None
            fact_ids = [str(i) for i in await _rows(tx, cf.facts_about(tenant, entity_id))]
            relations = await _count(tx, cf.delete_relations_of(tenant, [entity_id, *fact_ids]))
            facts = await _count(tx, cf.delete_nodes(tenant, fact_ids)) if fact_ids else 0
            entities = await _count(tx, cf.delete_nodes(tenant, [entity_id]))
            return Erasure((), 0, relations, facts, entities)

        return await self._transact(True, work)
