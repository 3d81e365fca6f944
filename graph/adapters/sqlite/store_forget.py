"""Erasure (right to be forgotten) in the SQLite graph store: hard deletes
in one write transaction, leaving only ``delete`` work in the index outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.sqlite.codec import json_list, to_db_time
from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.store_scope import row_where
from graph.model import utcnow
from graph.ports import Erasure

_IN_IDS = "IN (SELECT value FROM json_each(:ids))"


def _delete_relations_of(conn: sqlite3.Connection, tenant: str, node_ids: Sequence[str]) -> int:
    """Hard-delete every relation row (live or soft-deleted) touching the nodes."""
    params = {"tenant": tenant, "ids": json_list(node_ids)}
    return conn.execute(
        f"DELETE FROM relations WHERE tenant = :tenant AND (source_id {_IN_IDS}"
        f" OR target_id {_IN_IDS})",
        params,
    ).rowcount


def _delete_facts(conn: sqlite3.Connection, tenant: str, fact_ids: Sequence[str]) -> int:
    params = {"tenant": tenant, "ids": json_list(fact_ids)}
    return conn.execute(
        f"DELETE FROM facts WHERE tenant = :tenant AND id {_IN_IDS}", params
    ).rowcount


class ForgetStoreMixin:
    """The erasure part of :class:`graph.adapters.sqlite.store.SqliteGraphStore`."""

    _db: SqliteDatabase

    async def erase_user(self, tenant: str, user_id: str, scope: RowScope = UNSCOPED) -> Erasure:
        params = {"tenant": tenant, "user_id": user_id}
        select = (
            "SELECT id FROM memories m WHERE m.tenant = :tenant AND m.user_id = :user_id"
            + row_where("m", scope, params)
        )

        def run(conn: sqlite3.Connection) -> Erasure:
            ids = [row["id"] for row in conn.execute(select, params).fetchall()]
            if not ids:
                return Erasure()
            by_ids = {"tenant": tenant, "ids": json_list(ids)}
            fact_ids = [
                row["id"]
                for row in conn.execute(
                    f"SELECT id FROM facts WHERE tenant = :tenant AND source_memory_id {_IN_IDS}",
                    by_ids,
                ).fetchall()
            ]
            relations = _delete_relations_of(conn, tenant, [*ids, *fact_ids])
            facts = _delete_facts(conn, tenant, fact_ids)
            versions = conn.execute(
                f"DELETE FROM memory_versions WHERE tenant = :tenant AND memory_id {_IN_IDS}",
                by_ids,
            ).rowcount
            conn.execute(f"DELETE FROM memory_tags WHERE memory_id {_IN_IDS}", by_ids)
            conn.execute(
                f"DELETE FROM index_outbox WHERE tenant = :tenant AND memory_id {_IN_IDS}", by_ids
            )
            now = to_db_time(utcnow())
            conn.executemany(
                "INSERT INTO index_outbox (tenant, memory_id, operation, created_at)"
                " VALUES (?, ?, 'delete', ?)",
                [(tenant, memory_id, now) for memory_id in ids],
            )
            conn.execute(f"DELETE FROM memories WHERE tenant = :tenant AND id {_IN_IDS}", by_ids)
            return Erasure(tuple(ids), versions, relations, facts, 0)

        return await self._db.write(run)

    async def erase_entity(self, tenant: str, entity_id: str) -> Erasure | None:
        params = {"tenant": tenant, "id": entity_id}

        def run(conn: sqlite3.Connection) -> Erasure | None:
            found = conn.execute(
                "SELECT 1 FROM entities WHERE tenant = :tenant AND id = :id", params
            ).fetchone()
            if found is None:
                return None
            fact_ids = [
                row["id"]
                for row in conn.execute(
                    "SELECT id FROM facts WHERE tenant = :tenant"
                    " AND (subject_id = :id OR object_id = :id)",
                    params,
                ).fetchall()
            ]
            relations = _delete_relations_of(conn, tenant, [entity_id, *fact_ids])
            facts = _delete_facts(conn, tenant, fact_ids)
            entities = conn.execute(
                "DELETE FROM entities WHERE tenant = :tenant AND id = :id", params
            ).rowcount
            return Erasure((), 0, relations, facts, entities)

        return await self._db.write(run)
