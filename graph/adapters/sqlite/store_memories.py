"""Memory reads and writes of the SQLite graph store (current rows, history, outbox)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.sqlite.codec import json_list, to_db_time, to_json
from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.store_query import NEWEST_FIRST, agent_constraint, memory_select
from graph.adapters.sqlite.store_rows import (
    CURRENT_MEMORY_COLUMNS,
    memory_from_row,
    memory_params,
    version_from_row,
)
from graph.adapters.sqlite.store_scope import row_where
from graph.errors import Conflict, NotFound
from graph.model import Memory, MemoryFilter, MemoryVersion, utcnow
from graph.ports import IndexHit, Position

_INSERT_MEMORY = """
INSERT INTO memories (
    id, tenant, agent_id, user_id, session_id, type, level, content, importance, tags,
    metadata, sensitivity, content_hash, version, created_at, updated_at, valid_from,
    valid_to, recorded_at, expired_at, deleted_at
) VALUES (
    :id, :tenant, :agent_id, :user_id, :session_id, :type, :level, :content, :importance,
    :tags, :metadata, :sensitivity, :content_hash, :version, :created_at, :updated_at,
    :valid_from, :valid_to, :recorded_at, :expired_at, :deleted_at
)"""

_INSERT_VERSION = """
INSERT INTO memory_versions (
    memory_id, version, tenant, content, importance, tags, metadata, level, content_hash,
    valid_from, valid_to, recorded_at, expired_at
) VALUES (
    :id, :version, :tenant, :content, :importance, :tags, :metadata, :level, :content_hash,
    :valid_from, :valid_to, :recorded_at, :expired_at
)"""

_UPDATE_MEMORY = """
UPDATE memories SET
    agent_id = :agent_id, user_id = :user_id, session_id = :session_id, type = :type,
    level = :level, content = :content, importance = :importance, tags = :tags,
    metadata = :metadata, sensitivity = :sensitivity, content_hash = :content_hash,
    version = :version, updated_at = :updated_at, valid_from = :valid_from,
    valid_to = :valid_to, recorded_at = :recorded_at, expired_at = :expired_at
WHERE id = :id AND tenant = :tenant AND version = :previous AND deleted_at IS NULL"""

_INSERT_TAG = "INSERT OR IGNORE INTO memory_tags (memory_id, tag, tenant) VALUES (?, ?, ?)"

_INSERT_OUTBOX = (
    "INSERT INTO index_outbox (tenant, memory_id, operation, created_at) VALUES (?, ?, ?, ?)"
)


def _tag_rows(memory: Memory) -> list[tuple[str, str, str]]:
    return [(memory.id, tag, memory.tenant) for tag in dict.fromkeys(memory.tags)]


class MemoryStoreMixin:
    """The memory half of :class:`graph.adapters.sqlite.store.SqliteGraphStore`."""

    _db: SqliteDatabase

    # -- writes ------------------------------------------------------------

    async def insert_memories(self, memories: Sequence[Memory]) -> None:
        """Insert new memories with their first history row, tags and outbox rows.

        A duplicate id (in the batch or already stored) raises ``Conflict`` and
        nothing of the batch is written.
        """
        if not memories:
            return
        rows = [memory_params(m) for m in memories]
        tags = [row for m in memories for row in _tag_rows(m)]

        def run(conn: sqlite3.Connection) -> None:
            now = to_db_time(utcnow())
            conn.executemany(_INSERT_MEMORY, rows)
            conn.executemany(_INSERT_VERSION, rows)
            conn.executemany(_INSERT_TAG, tags)
            conn.executemany(_INSERT_OUTBOX, [(m.tenant, m.id, "upsert", now) for m in memories])

        try:
            await self._db.write(run)
        except sqlite3.IntegrityError as exc:
            raise Conflict("A memory with one of these ids already exists.") from exc

    async def update_memory(self, updated: Memory) -> None:
        """Compare-and-set the next version; see :class:`graph.ports.GraphStore`."""
        params = memory_params(updated)
        params["previous"] = updated.version - 1

        def run(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT version, deleted_at FROM memories WHERE id = ? AND tenant = ?",
                (updated.id, updated.tenant),
            ).fetchone()
            if row is None or row["deleted_at"] is not None:
                raise NotFound(f"No memory with id {updated.id!r}.", id=updated.id)
            if row["version"] != updated.version - 1:
                raise Conflict(
                    f"Memory {updated.id!r} is at version {row['version']}; "
                    f"version {updated.version} cannot follow it.",
                    id=updated.id,
                    currentVersion=row["version"],
                )
            if conn.execute(_UPDATE_MEMORY, params).rowcount != 1:  # pragma: no cover
                raise Conflict(f"Memory {updated.id!r} changed concurrently.", id=updated.id)
            conn.execute(
                "UPDATE memory_versions SET expired_at = :recorded_at"
                " WHERE memory_id = :id AND version = :previous",
                params,
            )
            conn.execute(_INSERT_VERSION, params)
            conn.execute("DELETE FROM memory_tags WHERE memory_id = ?", (updated.id,))
            conn.executemany(_INSERT_TAG, _tag_rows(updated))
            conn.execute(
                _INSERT_OUTBOX, (updated.tenant, updated.id, "upsert", to_db_time(utcnow()))
            )

        await self._db.write(run)

    async def delete_memory(self, tenant: str, memory_id: str, at: datetime) -> Memory | None:
        """Soft-delete: mark the row deleted and expire its current version."""
        params = {"tenant": tenant, "id": memory_id, "at": to_db_time(at)}

        def run(conn: sqlite3.Connection) -> Memory | None:
            changed = conn.execute(
                "UPDATE memories SET deleted_at = :at, expired_at = :at"
                " WHERE id = :id AND tenant = :tenant AND deleted_at IS NULL",
                params,
            ).rowcount
            if changed != 1:
                return None
            conn.execute(
                "UPDATE memory_versions SET expired_at = :at"
                " WHERE memory_id = :id AND tenant = :tenant AND expired_at IS NULL",
                params,
            )
            conn.execute(_INSERT_OUTBOX, (tenant, memory_id, "delete", to_db_time(utcnow())))
            row = conn.execute(
                f"SELECT {CURRENT_MEMORY_COLUMNS} FROM memories m WHERE m.id = ?", (memory_id,)
            ).fetchone()
            return memory_from_row(row)

        return await self._db.write(run)

    # -- reads -------------------------------------------------------------

    async def get_memories(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Memory]:
        if not ids:
            return {}
        params = {"tenant": tenant, "ids": json_list(ids)}
        sql = (
            f"SELECT {CURRENT_MEMORY_COLUMNS}"
            " FROM json_each(:ids) AS j CROSS JOIN memories m ON m.id = j.value"
            " WHERE m.tenant = :tenant AND m.deleted_at IS NULL" + row_where("m", scope, params)
        )
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        return {row["id"]: memory_from_row(row) for row in rows}

    async def find_memories_by_hash(
        self,
        tenant: str,
        keys: Sequence[tuple[str | None, str]],
        scope: RowScope = UNSCOPED,
    ) -> dict[tuple[str | None, str], Memory]:
        """Live memories by (agent id, content hash); the oldest wins a tie."""
        if not keys:
            return {}
        params = {"tenant": tenant, "keys": to_json([list(key) for key in dict.fromkeys(keys)])}
        in_scope = row_where("m", scope, params)
        sql = f"""
            SELECT {CURRENT_MEMORY_COLUMNS}
            FROM json_each(:keys) AS k
            CROSS JOIN memories m
              ON m.tenant = :tenant
             AND m.content_hash = json_extract(k.value, '$[1]')
             AND m.agent_id IS json_extract(k.value, '$[0]')
             AND m.deleted_at IS NULL{in_scope}
            ORDER BY m.created_at, m.id"""
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        found: dict[tuple[str | None, str], Memory] = {}
        for row in rows:
            memory = memory_from_row(row)
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
        select = memory_select(
            tenant, memory_filter, after, agent_expr=agent_constraint(memory_filter), scope=scope
        )
        sql = (
            f"SELECT {select.columns} FROM {select.source} WHERE {select.where}"
            f" ORDER BY {NEWEST_FIRST} LIMIT :limit"
        )
        params = {**select.params, "limit": max(first, 0) + 1}
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        return [memory_from_row(row) for row in rows]

    async def keyword_fallback(
        self,
        tenant: str,
        text: str,
        memory_filter: MemoryFilter,
        limit: int,
        scope: RowScope = UNSCOPED,
    ) -> list[IndexHit]:
        """Substring matching, scored by how many query words a memory holds.

        A scan, for when the search index is unavailable; in the embedded set
        the index lives in this same file, so this is rarely needed.
        """
        words = list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", text)))[:16]
        if not words or limit <= 0:
            return []
        select = memory_select(
            tenant, memory_filter, None, agent_expr=agent_constraint(memory_filter), scope=scope
        )
        params = dict(select.params)
        terms = []
        for i, word in enumerate(words):
            params[f"w{i}"] = word
            terms.append(f"(instr(lower(m.content), :w{i}) > 0)")
        score = " + ".join(terms)
        sql = (
            f"SELECT m.id AS id, ({score}) AS score FROM {select.source}"
            f" WHERE {select.where} AND ({score}) > 0"
            f" ORDER BY score DESC, {NEWEST_FIRST} LIMIT :limit"
        )
        params["limit"] = limit
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        return [IndexHit(row["id"], float(row["score"]), float(row["score"]), None) for row in rows]

    async def tenants(self) -> list[str]:
        sql = "SELECT DISTINCT tenant FROM memories ORDER BY tenant"
        rows = await self._db.read(lambda conn: conn.execute(sql).fetchall())
        return [row["tenant"] for row in rows]

    async def live_memory_versions(self, tenant: str) -> dict[str, int]:
        sql = "SELECT id, version FROM memories WHERE tenant = ? AND deleted_at IS NULL"
        rows = await self._db.read(lambda conn: conn.execute(sql, (tenant,)).fetchall())
        return {row["id"]: int(row["version"]) for row in rows}

    async def list_memories_for_agents(
        self,
        tenant: str,
        agent_ids: Sequence[str],
        memory_filter: MemoryFilter,
        first: int,
        after: Position | None,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[Memory]]:
        """One page per agent from one statement: a correlated, index-ordered
        ``LIMIT`` sub-query per requested agent. Every requested id is a key."""
        result: dict[str, list[Memory]] = {agent_id: [] for agent_id in agent_ids}
        if not agent_ids:
            return result
        select = memory_select(tenant, memory_filter, after, agent_expr="req.agent_id", scope=scope)
        # The outer query only fetches the rows the sub-query chose, by primary
        # key; the unary + keeps the planner off the tenant indexes there.
        pick = " AND ".join(["+m.tenant = :tenant", *select.version_pick])
        sql = f"""
            WITH req(agent_id) AS (SELECT DISTINCT value FROM json_each(:agent_ids))
            SELECT req.agent_id AS req_agent, {select.columns}
            FROM req CROSS JOIN {select.source}
            WHERE {pick} AND m.id IN (
                SELECT m.id FROM {select.source} WHERE {select.where}
                ORDER BY {NEWEST_FIRST} LIMIT :limit)
            ORDER BY req.agent_id, {NEWEST_FIRST}"""
        params = {
            **select.params,
            "agent_ids": json_list(agent_ids),
            "limit": max(first, 0) + 1,
        }
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        for row in rows:
            result[row["req_agent"]].append(memory_from_row(row))
        return result

    async def count_memories_for_agents(
        self,
        tenant: str,
        agent_ids: Sequence[str | None],
        memory_filter: MemoryFilter,
        scope: RowScope = UNSCOPED,
    ) -> dict[str | None, int]:
        """Counts from one statement. An agent key replaces the filter's agent;
        the ``None`` key counts with the filter as given (its own ``agent_id``,
        if any, still applies)."""
        agents = [agent_id for agent_id in agent_ids if agent_id is not None]
        parts: list[str] = []
        params: dict[str, Any] = {}
        if agents:
            per = memory_select(tenant, memory_filter, None, agent_expr="req.agent_id", scope=scope)
            parts.append(
                "SELECT req.agent_id AS agent_id,"
                f" (SELECT count(*) FROM {per.source} WHERE {per.where}) AS n"
                " FROM (SELECT DISTINCT value AS agent_id FROM json_each(:agent_ids)) AS req"
            )
            params.update(per.params, agent_ids=json_list(agents))
        if len(agents) < len(agent_ids):
            whole = memory_select(
                tenant,
                memory_filter,
                None,
                agent_expr=agent_constraint(memory_filter),
                scope=scope,
            )
            parts.append(
                "SELECT NULL AS agent_id,"
                f" (SELECT count(*) FROM {whole.source} WHERE {whole.where}) AS n"
            )
            params.update(whole.params)
        if not parts:
            return {}
        sql = " UNION ALL ".join(parts)
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        return {row["agent_id"]: row["n"] for row in rows}

    async def memory_history(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, list[MemoryVersion]]:
        """Every version, oldest first; every requested id is a key."""
        result: dict[str, list[MemoryVersion]] = {memory_id: [] for memory_id in ids}
        if not ids:
            return result
        params = {"tenant": tenant, "ids": json_list(ids)}
        owner = ""
        if not scope.unrestricted:
            owner = (
                " AND EXISTS (SELECT 1 FROM memories m WHERE m.id = v.memory_id"
                " AND m.tenant = :tenant" + row_where("m", scope, params) + ")"
            )
        sql = (
            "SELECT v.* FROM json_each(:ids) AS j"
            " CROSS JOIN memory_versions v ON v.memory_id = j.value"
            f" WHERE v.tenant = :tenant{owner} ORDER BY v.memory_id, v.version"
        )
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        for row in rows:
            result[row["memory_id"]].append(version_from_row(row))
        return result
