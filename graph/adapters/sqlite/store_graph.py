"""Agents, relations, entities, facts and the index outbox of the SQLite graph store."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.sqlite.codec import (
    from_db_time_opt,
    json_list,
    to_db_time,
    to_db_time_opt,
    to_json,
)
from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.store_rows import (
    FACT_COLUMNS,
    RELATION_COLUMNS,
    agent_from_row,
    entity_from_row,
    fact_from_row,
    outbox_from_row,
    relation_from_row,
)
from graph.adapters.sqlite.store_scope import relation_ends
from graph.errors import BadInput, Conflict
from graph.ids import new_id
from graph.model import Agent, Direction, Entity, Fact, NodeKind, Relation, utcnow
from graph.names import display_name, normalise_name
from graph.ports import OutboxEntry, OutboxStats, Position

_TOUCHING = (
    "SELECT req.node, r.rowid FROM req CROSS JOIN relations r"
    " ON r.tenant = :tenant AND r.{column} = req.node"
)


class GraphStoreMixin:
    """The non-memory half of :class:`graph.adapters.sqlite.store.SqliteGraphStore`."""

    _db: SqliteDatabase

    async def _insert(self, sql: str, params: dict[str, Any], what: str) -> None:
        try:
            await self._db.write(lambda conn: conn.execute(sql, params))
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"A {what} with id {params['id']!r} already exists.") from exc

    async def _by_ids(self, sql: str, tenant: str, ids: Sequence[str]) -> list[sqlite3.Row]:
        if not ids:
            return []
        params = {"tenant": tenant, "ids": json_list(ids)}
        return await self._db.read(lambda conn: conn.execute(sql, params).fetchall())

    # -- agents ------------------------------------------------------------

    async def create_agent(self, agent: Agent) -> None:
        await self._insert(
            "INSERT INTO agents (id, tenant, name, description, metadata, created_at)"
            " VALUES (:id, :tenant, :name, :description, :metadata, :created_at)",
            {
                "id": agent.id,
                "tenant": agent.tenant,
                "name": agent.name,
                "description": agent.description,
                "metadata": to_json(agent.metadata),
                "created_at": to_db_time(agent.created_at),
            },
            "agent",
        )

    async def get_agents(self, tenant: str, ids: Sequence[str]) -> dict[str, Agent]:
        rows = await self._by_ids(
            "SELECT a.* FROM json_each(:ids) AS j CROSS JOIN agents a ON a.id = j.value"
            " WHERE a.tenant = :tenant",
            tenant,
            ids,
        )
        return {row["id"]: agent_from_row(row) for row in rows}

    async def list_agents(self, tenant: str, first: int, after: Position | None) -> list[Agent]:
        params: dict[str, Any] = {"tenant": tenant, "limit": max(first, 0) + 1}
        keyset = ""
        if after is not None:
            keyset = " AND (created_at, id) < (:after_created, :after_id)"
            params.update(after_created=to_db_time(after[0]), after_id=after[1])
        sql = (
            f"SELECT * FROM agents WHERE tenant = :tenant{keyset}"
            " ORDER BY created_at DESC, id DESC LIMIT :limit"
        )
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        return [agent_from_row(row) for row in rows]

    # -- relations ---------------------------------------------------------

    async def insert_relation(self, relation: Relation) -> None:
        await self._insert(_INSERT_RELATION, _relation_params(relation), "relation")

    async def delete_relation(self, tenant: str, relation_id: str) -> bool:
        """Soft delete (the row keeps ``deleted_at``); no read returns it again."""
        params = {"tenant": tenant, "id": relation_id, "at": to_db_time(utcnow())}
        sql = (
            "UPDATE relations SET deleted_at = :at"
            " WHERE id = :id AND tenant = :tenant AND deleted_at IS NULL"
        )
        changed = await self._db.write(lambda conn: conn.execute(sql, params).rowcount)
        return changed == 1

    async def get_relations(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Relation]:
        if not ids:
            return {}
        params = {"tenant": tenant, "ids": json_list(ids)}
        sql = (
            f"SELECT {RELATION_COLUMNS}"
            " FROM json_each(:ids) AS j CROSS JOIN relations r ON r.id = j.value"
            " WHERE r.tenant = :tenant AND r.deleted_at IS NULL" + relation_ends("r", scope, params)
        )
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        return {row["id"]: relation_from_row(row) for row in rows}

    async def relations_of(
        self,
        tenant: str,
        node_ids: Sequence[str],
        direction: Direction,
        types: Sequence[str] | None,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[Relation]]:
        """Live relations per node, newest first; every requested id is a key.

        An empty ``types`` means no type constraint, like ``None``.
        """
        result: dict[str, list[Relation]] = {node_id: [] for node_id in node_ids}
        if not node_ids:
            return result
        # One index-driven arm per direction; UNION lists a self-loop once.
        arms = []
        if direction in (Direction.OUT, Direction.BOTH):
            arms.append(_TOUCHING.format(column="source_id"))
        if direction in (Direction.IN, Direction.BOTH):
            arms.append(_TOUCHING.format(column="target_id"))
        other = "CASE WHEN r.source_id = t.node THEN r.target_id ELSE r.source_id END"
        params: dict[str, Any] = {"tenant": tenant, "ids": json_list(node_ids)}
        type_filter = ""
        if types:
            type_filter = " AND r.type IN (SELECT value FROM json_each(:types))"
            params["types"] = json_list(types)
        type_filter += relation_ends("r", scope, params)
        sql = f"""
            WITH req(node) AS (SELECT DISTINCT value FROM json_each(:ids)),
                 touching(node, rid) AS ({" UNION ".join(arms)})
            SELECT t.node AS req_node, {RELATION_COLUMNS}
            FROM touching t CROSS JOIN relations r ON r.rowid = t.rid
            WHERE r.tenant = :tenant AND r.deleted_at IS NULL{type_filter}
              AND NOT EXISTS (
                SELECT 1 FROM memories dm
                WHERE dm.id = {other} AND dm.tenant = :tenant AND dm.deleted_at IS NOT NULL)
            ORDER BY t.node, r.created_at DESC, r.id DESC"""
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        for row in rows:
            result[row["req_node"]].append(relation_from_row(row))
        return result

    # -- entities ----------------------------------------------------------

    async def upsert_entity(self, tenant: str, name: str, kind: str, at: datetime) -> Entity:
        """The entity with this normalised name and kind (casefolded, trimmed,
        whitespace collapsed), created with the given spelling if missing."""
        normalised = normalise_name(name)
        if not normalised:
            raise BadInput("An entity name must not be blank.", argument="name")
        params = {
            "id": new_id(NodeKind.ENTITY),
            "tenant": tenant,
            "name": display_name(name),
            "norm_name": normalised,
            "kind": kind,
            "created_at": to_db_time(at),
        }

        def run(conn: sqlite3.Connection) -> Entity:
            conn.execute(
                "INSERT INTO entities (id, tenant, name, norm_name, kind, summary, aliases,"
                " created_at) VALUES (:id, :tenant, :name, :norm_name, :kind, NULL, '[]',"
                " :created_at) ON CONFLICT (tenant, kind, norm_name) DO NOTHING",
                params,
            )
            row = conn.execute(
                "SELECT * FROM entities"
                " WHERE tenant = :tenant AND kind = :kind AND norm_name = :norm_name",
                params,
            ).fetchone()
            return entity_from_row(row)

        return await self._db.write(run)

    async def find_entities_by_name(self, tenant: str, name: str) -> list[Entity]:
        """Entities of any kind whose normalised name matches, oldest first."""
        params = {"tenant": tenant, "norm_name": normalise_name(name)}
        sql = (
            "SELECT * FROM entities WHERE tenant = :tenant AND norm_name = :norm_name"
            " ORDER BY created_at, id"
        )
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        return [entity_from_row(row) for row in rows]

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, Entity]:
        rows = await self._by_ids(
            "SELECT e.* FROM json_each(:ids) AS j CROSS JOIN entities e ON e.id = j.value"
            " WHERE e.tenant = :tenant",
            tenant,
            ids,
        )
        return {row["id"]: entity_from_row(row) for row in rows}

    # -- facts -------------------------------------------------------------

    async def insert_fact(
        self, fact: Fact, exclusive: bool, mentions: Sequence[Relation] = ()
    ) -> None:
        """Insert a fact and its ``mentions`` relations; when ``exclusive``, first
        close the open facts with the same subject and predicate at
        ``coalesce(valid_from, recorded_at)``. One transaction."""
        params = {
            "id": fact.id,
            "tenant": fact.tenant,
            "subject_id": fact.subject_id,
            "predicate": fact.predicate,
            "object_id": fact.object_id,
            "valid_from": to_db_time_opt(fact.valid_from),
            "valid_to": to_db_time_opt(fact.valid_to),
            "source_memory_id": fact.source_memory_id,
            "recorded_at": to_db_time(fact.recorded_at),
            "cutoff": to_db_time(fact.valid_from or fact.recorded_at),
        }

        def run(conn: sqlite3.Connection) -> None:
            if exclusive:
                conn.execute(
                    "UPDATE facts SET valid_to = :cutoff"
                    " WHERE tenant = :tenant AND subject_id = :subject_id"
                    " AND predicate = :predicate AND (valid_to IS NULL OR valid_to > :cutoff)",
                    params,
                )
            conn.execute(
                "INSERT INTO facts (id, tenant, subject_id, predicate, object_id, valid_from,"
                " valid_to, source_memory_id, recorded_at) VALUES (:id, :tenant, :subject_id,"
                " :predicate, :object_id, :valid_from, :valid_to, :source_memory_id,"
                " :recorded_at)",
                params,
            )
            for relation in mentions:
                conn.execute(_INSERT_RELATION, _relation_params(relation))

        try:
            await self._db.write(run)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"A fact with id {fact.id!r} already exists.") from exc

    async def get_facts(self, tenant: str, ids: Sequence[str]) -> dict[str, Fact]:
        rows = await self._by_ids(
            f"SELECT {FACT_COLUMNS}"
            " FROM json_each(:ids) AS j CROSS JOIN facts f ON f.id = j.value"
            " WHERE f.tenant = :tenant",
            tenant,
            ids,
        )
        return {row["id"]: fact_from_row(row) for row in rows}

    async def facts_for_entities(
        self, tenant: str, entity_ids: Sequence[str], as_of: datetime
    ) -> dict[str, list[Fact]]:
        """Facts valid at ``as_of`` per entity (subject or object), oldest
        recorded first; every requested id is a key."""
        result: dict[str, list[Fact]] = {entity_id: [] for entity_id in entity_ids}
        if not entity_ids:
            return result
        params = {"tenant": tenant, "ids": json_list(entity_ids), "as_of": to_db_time(as_of)}
        sql = f"""
            WITH req(entity) AS (SELECT DISTINCT value FROM json_each(:ids)),
                 touching(entity, rid) AS (
                    SELECT req.entity, f.rowid FROM req CROSS JOIN facts f
                      ON f.tenant = :tenant AND f.subject_id = req.entity
                    UNION
                    SELECT req.entity, f.rowid FROM req CROSS JOIN facts f
                      ON f.tenant = :tenant AND f.object_id = req.entity)
            SELECT t.entity AS req_entity, {FACT_COLUMNS}
            FROM touching t CROSS JOIN facts f ON f.rowid = t.rid
            WHERE f.tenant = :tenant
              AND (f.valid_from IS NULL OR f.valid_from <= :as_of)
              AND (f.valid_to IS NULL OR f.valid_to > :as_of)
            ORDER BY t.entity, f.recorded_at, f.id"""
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        for row in rows:
            result[row["req_entity"]].append(fact_from_row(row))
        return result

    # -- index outbox ------------------------------------------------------

    async def pending_index_work(self, limit: int) -> list[OutboxEntry]:
        """The oldest pending outbox entries of every tenant, oldest first."""
        sql = "SELECT * FROM index_outbox ORDER BY seq LIMIT ?"
        rows = await self._db.read(lambda conn: conn.execute(sql, (max(limit, 0),)).fetchall())
        return [outbox_from_row(row) for row in rows]

    async def outbox_stats(self) -> OutboxStats:
        sql = "SELECT count(*) AS depth, min(created_at) AS oldest FROM index_outbox"
        row = await self._db.read(lambda conn: conn.execute(sql).fetchone())
        return OutboxStats(depth=int(row["depth"]), oldest=from_db_time_opt(row["oldest"]))

    async def ping(self) -> None:
        await self._db.read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def ack_index_work(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        params = {"seqs": json_list(seqs)}
        sql = "DELETE FROM index_outbox WHERE seq IN (SELECT value FROM json_each(:seqs))"
        await self._db.write(lambda conn: conn.execute(sql, params))


_INSERT_RELATION = (
    "INSERT INTO relations (id, tenant, type, source_id, target_id, weight, properties,"
    " valid_from, valid_to, created_at) VALUES (:id, :tenant, :type, :source_id,"
    " :target_id, :weight, :properties, :valid_from, :valid_to, :created_at)"
)


def _relation_params(relation: Relation) -> dict[str, Any]:
    return {
        "id": relation.id,
        "tenant": relation.tenant,
        "type": relation.type,
        "source_id": relation.source_id,
        "target_id": relation.target_id,
        "weight": float(relation.weight),
        "properties": to_json(relation.properties),
        "valid_from": to_db_time_opt(relation.valid_from),
        "valid_to": to_db_time_opt(relation.valid_to),
        "created_at": to_db_time(relation.created_at),
    }
