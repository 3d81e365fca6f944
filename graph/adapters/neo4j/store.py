"""The Neo4j graph store: :class:`graph.ports.GraphStore` on Neo4j 5 (Community).

Each port method runs the statements built by
:mod:`graph.adapters.neo4j.cypher` in one managed transaction
(``execute_read`` / ``execute_write``, retried by the driver on transient
errors; see :mod:`graph.adapters.neo4j.runner`) and maps the results to
domain objects. This module holds the memory half and opening/migrating;
:mod:`graph.adapters.neo4j.store_graph` the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.neo4j import cypher
from graph.adapters.neo4j.migrations import apply_migrations
from graph.adapters.neo4j.records import memory_from, version_from
from graph.adapters.neo4j.runner import (
    UNAVAILABLE_ERRORS,
    UNAVAILABLE_MESSAGE,
    Neo4jSettings,
    run_records,
)
from graph.adapters.neo4j.store_archive import ArchiveStoreMixin
from graph.adapters.neo4j.store_forget import ForgetStoreMixin
from graph.adapters.neo4j.store_graph import GraphStoreMixin
from graph.errors import Conflict, NotFound, Unavailable
from graph.model import Memory, MemoryFilter, MemoryVersion, utcnow
from graph.ports import IndexHit, Position

__all__ = ["Neo4jGraphStore", "Neo4jSettings", "migrate", "open_neo4j_store", "open_store"]


class Neo4jGraphStore(GraphStoreMixin, ForgetStoreMixin, ArchiveStoreMixin):
    """:class:`graph.ports.GraphStore` on Neo4j.

    Nodes: ``Agent``, ``Memory`` (current version) with ``HAS_VERSION``
    history ``MemoryVersion`` nodes, ``Entity``, ``Fact``; the domain nodes
    also carry ``Node`` (one id constraint for any kind). Every domain
    relation is one ``RELATES`` relationship with its type as a property.
    The index outbox is ``OutboxEntry`` nodes written in the transaction of
    the memory change. Closing the store closes the driver.
    """

    # -- memory writes -------------------------------------------------------------

    async def insert_memories(self, memories: Sequence[Memory]) -> None:
        """Insert new memories with their first version and outbox entries; a
        duplicate id (in the batch or stored) raises ``Conflict``, writing nothing."""
        if not memories:
            return
        await self._write(
            cypher.insert_memories(memories, utcnow()),
            "A memory with one of these ids already exists.",
        )

    async def update_memory(self, updated: Memory) -> None:
        """Compare-and-set the next version; see :class:`graph.ports.GraphStore`."""

        async def work(tx: AsyncManagedTransaction) -> None:
            rows = await run_records(tx, cypher.lock_memory(updated.tenant, updated.id))
            if not rows or rows[0]["memory"]["deleted_at"] is not None:
                raise NotFound(f"No memory with id {updated.id!r}.", id=updated.id)
            current = int(rows[0]["memory"]["version"])
            if current != updated.version - 1:
                raise Conflict(
                    f"Memory {updated.id!r} is at version {current}; "
                    f"version {updated.version} cannot follow it.",
                    id=updated.id,
                    currentVersion=current,
                )
            await run_records(tx, cypher.update_memory(updated, utcnow()))

        await self._transact(True, work)

    async def delete_memory(self, tenant: str, memory_id: str, at: datetime) -> Memory | None:
        """Soft-delete: mark the node deleted and expire its current version."""

        async def work(tx: AsyncManagedTransaction) -> Memory | None:
            rows = await run_records(tx, cypher.lock_memory(tenant, memory_id))
            if not rows or rows[0]["memory"]["deleted_at"] is not None:
                return None
            memory = memory_from(rows[0]["memory"])
            await run_records(tx, cypher.delete_memory(tenant, memory_id, at, utcnow()))
            moment = cypher.db_time(at)
            return replace(memory, deleted_at=moment, expired_at=moment)

        return await self._transact(True, work)

    # -- memory reads ----------------------------------------------------------------

    async def get_memories(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Memory]:
        if not ids:
            return {}
        rows = await self._read(cypher.get_memories(tenant, ids, scope))
        memories = (memory_from(row) for row in rows)
        return {memory.id: memory for memory in memories}

    async def find_memories_by_hash(
        self,
        tenant: str,
        keys: Sequence[tuple[str | None, str]],
        scope: RowScope = UNSCOPED,
    ) -> dict[tuple[str | None, str], Memory]:
        """Live memories by (agent id, content hash); the oldest wins a tie."""
        if not keys:
            return {}
        rows = await self._read(cypher.find_memories_by_hash(tenant, keys, scope))
        found: dict[tuple[str | None, str], Memory] = {}
        for row in rows:
            memory = memory_from(row)
            found.setdefault((memory.agent_id, memory.content_hash), memory)
        return found

    async def list_memories(
        self,
        tenant: str,
        memory_filter: MemoryFilter,
        first: int,
        after: Position | None,
        scope: RowScope = UNSCOPED,
    ) -> list[Memory]:
        rows = await self._read(cypher.list_memories(tenant, memory_filter, first, after, scope))
        return [memory_from(row) for row in rows]

    async def list_memories_for_agents(
        self,
        tenant: str,
        agent_ids: Sequence[str],
        memory_filter: MemoryFilter,
        first: int,
        after: Position | None,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[Memory]]:
        """One page per agent from one statement; every requested id is a key."""
        result: dict[str, list[Memory]] = {agent_id: [] for agent_id in agent_ids}
        if not agent_ids:
            return result
        statement = cypher.list_memories_for_agents(
            tenant, agent_ids, memory_filter, first, after, scope
        )
        for row in await self._read(statement):
            result[row["agent"]] = [memory_from(memory) for memory in row["memories"]]
        return result

    async def count_memories_for_agents(
        self,
        tenant: str,
        agent_ids: Sequence[str | None],
        memory_filter: MemoryFilter,
        scope: RowScope = UNSCOPED,
    ) -> dict[str | None, int]:
        """Counts from one statement. An agent key replaces the filter's agent;
        the ``None`` key counts with the filter as given."""
        statement = cypher.count_memories_for_agents(tenant, agent_ids, memory_filter, scope)
        if statement is None:
            return {}
        return {row["agent"]: int(row["n"]) for row in await self._read(statement)}

    async def memory_history(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, list[MemoryVersion]]:
        """Every version, oldest first; every requested id is a key."""
        result: dict[str, list[MemoryVersion]] = {memory_id: [] for memory_id in ids}
        if not ids:
            return result
        for row in await self._read(cypher.memory_history(tenant, ids, scope)):
            version = version_from(row)
            result[version.memory_id].append(version)
        return result

    async def keyword_fallback(
        self,
        tenant: str,
        text: str,
        memory_filter: MemoryFilter,
        limit: int,
        scope: RowScope = UNSCOPED,
    ) -> list[IndexHit]:
        """Fulltext (Lucene) search over current content; the score is the
        fulltext score. The text is quoted word by word, never parsed."""
        statement = cypher.keyword_fallback(tenant, text, memory_filter, limit, scope)
        if statement is None:
            return []
        rows = await self._read(statement)
        return [IndexHit(row["id"], float(row["score"]), float(row["score"]), None) for row in rows]

    async def tenants(self) -> list[str]:
        return [str(tenant) for tenant in await self._read(cypher.tenants())]

    async def live_memory_versions(self, tenant: str) -> dict[str, int]:
        rows = await self._read(cypher.live_memory_versions(tenant))
        return {row["id"]: int(row["version"]) for row in rows}

    # -- lifecycle ---------------------------------------------------------------------

    async def ping(self) -> None:
        """``RETURN 1`` within ``ping_timeout`` seconds, or ``Unavailable``."""
        try:
            async with asyncio.timeout(self._settings.ping_timeout):
                async with self._driver.session(database=self._database) as session:
                    result = await session.run("RETURN 1 AS ok")
                    await result.consume()
        except (TimeoutError, *UNAVAILABLE_ERRORS) as exc:
            raise Unavailable(UNAVAILABLE_MESSAGE) from exc

    async def close(self) -> None:
        await self._driver.close()


def _driver(settings: Neo4jSettings) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        settings.uri,
        auth=(settings.user, settings.password),
        connection_timeout=settings.connect_timeout,
        connection_acquisition_timeout=settings.connect_timeout * 2,
        max_transaction_retry_time=settings.retry_seconds,
    )


async def _connected(settings: Neo4jSettings) -> AsyncDriver:
    driver = _driver(settings)
    try:
        await driver.verify_connectivity()
    except UNAVAILABLE_ERRORS as exc:
        await driver.close()
        raise Unavailable(UNAVAILABLE_MESSAGE) from exc
    except BaseException:
        await driver.close()
        raise
    return driver


async def migrate(
    uri: str, user: str, password: str, database: str | None = None, **options: Any
) -> list[int]:
    """Apply pending schema migrations (for ``agentmem migrate``); returns
    the versions applied now."""
    settings = Neo4jSettings(uri, user, password, database, **options)
    driver = await _connected(settings)
    try:
        return await apply_migrations(driver, database)
    finally:
        await driver.close()


async def open_neo4j_store(
    uri: str, user: str, password: str, database: str | None = None, **options: Any
) -> Neo4jGraphStore:
    """Connect, verify connectivity and apply pending migrations.

    ``options`` are the other :class:`Neo4jSettings` fields (timeouts).
    Raises ``Unavailable`` when Neo4j cannot be reached.
    """
    return await open_store(Neo4jSettings(uri, user, password, database, **options))


async def open_store(settings: Neo4jSettings) -> Neo4jGraphStore:
    """:func:`open_neo4j_store` from a settings object."""
    driver = await _connected(settings)
    try:
        await apply_migrations(driver, settings.database)
    except UNAVAILABLE_ERRORS as exc:
        await driver.close()
        raise Unavailable(UNAVAILABLE_MESSAGE) from exc
    except BaseException:
        await driver.close()
        raise
    return Neo4jGraphStore(driver, settings)
