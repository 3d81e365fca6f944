"""Cypher for the Neo4j graph store: pure functions that build ``(query, params)``.

Nothing here does I/O, so tests can pin the generated text (golden tests in
``tests/conformance/test_neo4j_cypher.py``). Every builder follows three rules:

- Caller values only ever travel as parameters. The query text is assembled
  from constants of these modules alone (this one, ``cypher_base`` and
  ``cypher_graph``, whose builders it re-exports): labels, the one relationship type
  ``RELATES`` for domain relations, property names, and direction patterns
  picked from a fixed table by enum. No label, relationship type or property
  name is ever built from input.
- Every statement that touches tenant data matches the tenant in Cypher.
- Batch reads take their ids as one list parameter and ``UNWIND`` it, so each
  is a single statement however many ids a dataloader sends.

The graph: ``(:Agent:Node)``, ``(:Memory:Node)`` (the current version) with
``-[:HAS_VERSION]->(:MemoryVersion)`` history, ``(:Entity:Node)``,
``(:Fact:Node)`` (subject and object as id properties), domain relations as
``-[:RELATES {id, tenant, type, ...}]->`` between ``:Node``s, the index
outbox as ``(:OutboxEntry)`` numbered from a ``(:Counter)`` and applied
migrations as ``(:SchemaMigration)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.neo4j.cypher_base import (
    AGENT,
    CURRENT_MEMORY,
    ENTITY,
    FACT,
    FULLTEXT_INDEX,
    MAX_FULLTEXT_TERMS,
    OUTBOX,
    OUTBOX_APPEND,
    RELATION,
    VERSION,
    VERSIONED_MEMORY,
    Statement,
    db_time,
    db_time_opt,
    distinct,
    memory_props,
    outbox_params,
    version_props,
)
from graph.adapters.neo4j.cypher_graph import (
    ack_index_work,
    close_facts,
    create_agent,
    delete_relation,
    facts_for_entities,
    find_entities_by_name,
    get_agents,
    get_entities,
    get_facts,
    get_relations,
    insert_fact,
    insert_relations,
    list_agents,
    lock_relation,
    outbox_stats,
    pending_index_work,
    relations_of,
    upsert_entity,
)
from graph.adapters.neo4j.cypher_scope import memory_conditions, memory_where
from graph.model import Memory, MemoryFilter
from graph.ports import Position

__all__ = [
    "AGENT",
    "CURRENT_MEMORY",
    "ENTITY",
    "FACT",
    "FULLTEXT_INDEX",
    "MAX_FULLTEXT_TERMS",
    "OUTBOX",
    "RELATION",
    "VERSION",
    "VERSIONED_MEMORY",
    "MemoryClauses",
    "Statement",
    "ack_index_work",
    "close_facts",
    "count_memories_for_agents",
    "create_agent",
    "db_time",
    "db_time_opt",
    "delete_memory",
    "delete_relation",
    "facts_for_entities",
    "find_entities_by_name",
    "find_memories_by_hash",
    "fulltext_query",
    "get_agents",
    "get_entities",
    "get_facts",
    "get_memories",
    "get_relations",
    "insert_fact",
    "insert_memories",
    "insert_relations",
    "keyword_fallback",
    "list_agents",
    "list_memories",
    "list_memories_for_agents",
    "live_memory_versions",
    "lock_memory",
    "lock_relation",
    "memory_clauses",
    "memory_history",
    "outbox_stats",
    "pending_index_work",
    "relations_of",
    "tenants",
    "update_memory",
    "upsert_entity",
]

# -- memory listings ------------------------------------------------------------


@dataclass(slots=True)
class MemoryClauses:
    """The pieces of a memory read for one :class:`MemoryFilter`.

    ``memory_where`` constrains the ``:Memory`` node ``m``; with ``as_of``,
    ``version_where`` picks the ``:MemoryVersion`` ``v`` that was recorded and
    valid at that instant (``None`` reads the current version). ``index``
    names the properties the listing's range index starts with (all bound by
    equality): spelling them out in ``ORDER BY`` lets Neo4j read the index in
    order and stop after ``LIMIT`` rows instead of sorting the tenant.
    """

    memory_where: list[str]
    version_where: list[str] | None
    index: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def projection(self) -> str:
        return CURRENT_MEMORY if self.version_where is None else VERSIONED_MEMORY

    @property
    def carried(self) -> str:
        """The variables a ``WITH`` passes on to the projection."""
        return "m" if self.version_where is None else "m, v"

    @property
    def newest_first(self) -> str:
        """(created_at DESC, id DESC), prefixed by the equality-bound index keys."""
        keys = [f"m.{name} DESC" for name in self.index]
        return ", ".join([*keys, "m.created_at DESC", "m.id DESC"])

    def where(self) -> str:
        """``WHERE`` for ``m`` plus, with ``as_of``, the version ``MATCH``."""
        text = "WHERE " + " AND ".join(self.memory_where)
        if self.version_where is not None:
            text += " MATCH (m)-[:HAS_VERSION]->(v:MemoryVersion) WHERE " + " AND ".join(
                self.version_where
            )
        return text

    def match(self) -> str:
        return "MATCH (m:Memory) " + self.where()

    def page(self) -> str:
        """The matching memories as one list, newest first, ``$limit`` at most."""
        return (
            f"{self.match()} WITH {self.carried} ORDER BY {self.newest_first} LIMIT $limit"
            f" RETURN collect({self.projection})"
        )


def memory_clauses(
    tenant: str,
    memory_filter: MemoryFilter,
    after: Position | None,
    *,
    agent: str | None,
    scope: RowScope = UNSCOPED,
) -> MemoryClauses:
    """Build the constraints of one listing.

    ``agent`` is the Cypher expression the memory's agent id must equal:
    ``"$agent_id"`` (the filter's own agent, bound here), the variable
    ``agent`` of a per-agent batch, or ``None`` for no agent constraint. It is
    always one of these constants, never input. ``scope`` adds the caller's
    row scope.
    """
    f = memory_filter
    params: dict[str, Any] = {"tenant": tenant}
    conds = ["m.tenant = $tenant", *memory_conditions("m", scope, params)]
    index: tuple[str, ...] = ("tenant",)
    version: list[str] | None = None
    if f.as_of is None:
        conds.append("m.deleted_at IS NULL")
    else:
        params["as_of"] = db_time(f.as_of)
        version = [
            "v.tenant = $tenant",
            "v.recorded_at <= $as_of",
            "(v.expired_at IS NULL OR v.expired_at > $as_of)",
            "(v.valid_from IS NULL OR v.valid_from <= $as_of)",
            "(v.valid_to IS NULL OR v.valid_to > $as_of)",
        ]
    if agent is not None:
        conds.append(f"m.agent_id = {agent}")
        index = ("tenant", "agent_id")
        if agent == "$agent_id":
            params["agent_id"] = f.agent_id
    if f.user_id is not None:
        conds.append("m.user_id = $user_id")
        params["user_id"] = f.user_id
        index = index if len(index) > 1 else ("tenant", "user_id")
    if f.session_id is not None:
        conds.append("m.session_id = $session_id")
        params["session_id"] = f.session_id
        index = index if len(index) > 1 else ("tenant", "session_id")
    if f.types:
        conds.append("m.type IN $types")
        params["types"] = distinct(t.value for t in f.types)
    created = []
    if f.as_of is not None:
        created.append("m.created_at <= $as_of")
    if f.created_after is not None:
        created.append("m.created_at > $created_after")
        params["created_after"] = db_time(f.created_after)
    if f.created_before is not None:
        created.append("m.created_at < $created_before")
        params["created_before"] = db_time(f.created_before)
    if after is not None:
        created.append(
            "m.created_at <= $after_created AND (m.created_at < $after_created OR m.id < $after_id)"
        )
        params["after_created"] = db_time(after[0])
        params["after_id"] = after[1]
    # A created_at predicate lets the composite (..., created_at) index serve.
    conds += created or ["m.created_at IS NOT NULL"]
    # Level and tags change between versions: read them from the version shown.
    holder, target = ("m", conds) if version is None else ("v", version)
    if f.levels:
        target.append(f"{holder}.level IN $levels")
        params["levels"] = distinct(level.value for level in f.levels)
    if f.tags:
        target.append(f"all(tag IN $tags WHERE tag IN {holder}.tags)")
        params["tags"] = distinct(f.tags)
    return MemoryClauses(conds, version, index, params)


def _agent_expr(memory_filter: MemoryFilter) -> str | None:
    return "$agent_id" if memory_filter.agent_id is not None else None


def list_memories(
    tenant: str,
    memory_filter: MemoryFilter,
    first: int,
    after: Position | None,
    scope: RowScope = UNSCOPED,
) -> Statement:
    """One page newest first, ``first + 1`` rows at most."""
    c = memory_clauses(tenant, memory_filter, after, agent=_agent_expr(memory_filter), scope=scope)
    return f"{c.page()} AS rows", {**c.params, "limit": max(first, 0) + 1}


def list_memories_for_agents(
    tenant: str,
    agent_ids: Sequence[str],
    memory_filter: MemoryFilter,
    first: int,
    after: Position | None,
    scope: RowScope = UNSCOPED,
) -> Statement:
    """One page per agent: an index-ordered ``LIMIT`` sub-query per agent."""
    c = memory_clauses(tenant, memory_filter, after, agent="agent", scope=scope)
    query = (
        f"UNWIND $agent_ids AS agent CALL (agent) {{ {c.page()} AS memories }}"
        " RETURN collect({agent: agent, memories: memories}) AS rows"
    )
    return query, {**c.params, "agent_ids": distinct(agent_ids), "limit": max(first, 0) + 1}


def count_memories_for_agents(
    tenant: str,
    agent_ids: Sequence[str | None],
    memory_filter: MemoryFilter,
    scope: RowScope = UNSCOPED,
) -> Statement | None:
    """Counts per agent; a ``None`` key counts with the filter as given.
    ``None`` when nothing is asked."""
    agents = distinct(a for a in agent_ids if a is not None)
    arms: list[str] = []
    params: dict[str, Any] = {}
    if agents:
        per = memory_clauses(tenant, memory_filter, None, agent="agent", scope=scope)
        arms.append(
            "UNWIND $agent_ids AS agent CALL (agent) {"
            f" {per.match()} RETURN count(DISTINCT m) AS n }} RETURN agent, n"
        )
        params.update(per.params, agent_ids=agents)
    if len(agents) < len(agent_ids):
        whole = memory_clauses(
            tenant, memory_filter, None, agent=_agent_expr(memory_filter), scope=scope
        )
        arms.append(f"{whole.match()} WITH count(DISTINCT m) AS n RETURN null AS agent, n")
        params.update(whole.params)
    if not arms:
        return None
    query = (
        f"CALL () {{ {' UNION ALL '.join(arms)} }} RETURN collect({{agent: agent, n: n}}) AS rows"
    )
    return query, params


def fulltext_query(text: str) -> str | None:
    """User text as a Lucene query that cannot carry Lucene syntax.

    Every word becomes a quoted term (quotes and backslashes escaped, although
    ``\\w`` words hold none) and the terms are OR-ed, so operators, fields,
    wildcards, fuzzy and range syntax in the text are plain words or dropped.
    ``None`` when no word is left.
    """
    words = distinct(w.lower() for w in re.findall(r"\w+", text))[:MAX_FULLTEXT_TERMS]
    if not words:
        return None
    quoted = (w.replace("\\", "\\\\").replace('"', '\\"') for w in words)
    return " OR ".join(f'"{w}"' for w in quoted)


def keyword_fallback(
    tenant: str,
    text: str,
    memory_filter: MemoryFilter,
    limit: int,
    scope: RowScope = UNSCOPED,
) -> Statement | None:
    """Fulltext search over current memory content, filtered like a listing;
    ``None`` when the text has no word to look for."""
    lucene = fulltext_query(text)
    if lucene is None or limit <= 0:
        return None
    c = memory_clauses(tenant, memory_filter, None, agent=_agent_expr(memory_filter), scope=scope)
    query = (
        f"CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEX}', $search) YIELD node AS m, score"
        f" {c.where()}"
        " WITH m, score ORDER BY score DESC, m.created_at DESC, m.id DESC LIMIT $limit"
        " RETURN collect({id: m.id, score: score}) AS rows"
    )
    return query, {**c.params, "search": lucene, "limit": limit}


# -- memory reads by id -----------------------------------------------------------


def get_memories(tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED) -> Statement:
    params: dict[str, Any] = {"tenant": tenant, "ids": distinct(ids)}
    query = (
        "UNWIND $ids AS memory_id MATCH (m:Memory {id: memory_id})"
        " WHERE m.tenant = $tenant AND m.deleted_at IS NULL"
        + memory_where("m", scope, params)
        + f" RETURN collect({CURRENT_MEMORY}) AS rows"
    )
    return query, params


def find_memories_by_hash(
    tenant: str, keys: Sequence[tuple[str | None, str]], scope: RowScope = UNSCOPED
) -> Statement:
    rows = [{"agent_id": agent, "content_hash": digest} for agent, digest in distinct(keys)]
    params: dict[str, Any] = {"tenant": tenant, "keys": rows}
    query = (
        "UNWIND $keys AS key MATCH (m:Memory)"
        " WHERE m.tenant = $tenant AND m.content_hash = key.content_hash"
        " AND m.deleted_at IS NULL"
        " AND (m.agent_id = key.agent_id OR (key.agent_id IS NULL AND m.agent_id IS NULL))"
        + memory_where("m", scope, params)
        + f" WITH m ORDER BY m.created_at, m.id RETURN collect({CURRENT_MEMORY}) AS rows"
    )
    return query, params


def memory_history(tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED) -> Statement:
    params: dict[str, Any] = {"tenant": tenant, "ids": distinct(ids)}
    query = (
        "UNWIND $ids AS memory_id"
        " MATCH (m:Memory {id: memory_id})-[:HAS_VERSION]->(v:MemoryVersion)"
        " WHERE m.tenant = $tenant AND v.tenant = $tenant"
        + memory_where("m", scope, params)
        + f" WITH v ORDER BY v.memory_id, v.version RETURN collect({VERSION}) AS rows"
    )
    return query, params


def tenants() -> Statement:
    query = (
        "MATCH (m:Memory) WITH DISTINCT m.tenant AS tenant ORDER BY tenant"
        " RETURN collect(tenant) AS rows"
    )
    return query, {}


def live_memory_versions(tenant: str) -> Statement:
    query = (
        "MATCH (m:Memory) WHERE m.tenant = $tenant AND m.deleted_at IS NULL"
        " RETURN collect({id: m.id, version: m.version}) AS rows"
    )
    return query, {"tenant": tenant}


# -- memory writes ------------------------------------------------------------------


def insert_memories(memories: Sequence[Memory], at: datetime) -> Statement:
    """New memories, their first versions and their outbox entries. A
    duplicate id violates the ``Node.id`` constraint and fails the whole batch."""
    query = (
        "UNWIND $rows AS row"
        " CREATE (m:Memory:Node) SET m = row.memory"
        " CREATE (m)-[:HAS_VERSION]->(v:MemoryVersion) SET v = row.version"
        f" WITH count(*) AS written {OUTBOX_APPEND} RETURN written"
    )
    rows = [{"memory": memory_props(m), "version": version_props(m)} for m in memories]
    entries = [(m.tenant, m.id, "upsert") for m in memories]
    return query, {"rows": rows, **outbox_params(entries, at)}


def lock_memory(tenant: str, memory_id: str) -> Statement:
    """Take the memory's write lock, then read it: what follows in the same
    transaction sees the latest committed state and nobody else can change it."""
    query = (
        "MATCH (m:Memory {id: $id}) WHERE m.tenant = $tenant"
        " SET m._lock = true REMOVE m._lock"
        f" RETURN {CURRENT_MEMORY} AS memory"
    )
    return query, {"tenant": tenant, "id": memory_id}


def update_memory(updated: Memory, at: datetime) -> Statement:
    """Write ``updated`` as the current version (after :func:`lock_memory`
    checked the previous one), expire the previous version, add the new one."""
    props = memory_props(updated)
    for fixed in ("id", "tenant", "created_at", "deleted_at"):
        del props[fixed]
    query = (
        "MATCH (m:Memory {id: $id}) WHERE m.tenant = $tenant"
        " SET m += $memory"
        " WITH m OPTIONAL MATCH (m)-[:HAS_VERSION]->(p:MemoryVersion {version: $previous})"
        " SET p.expired_at = $recorded_at"
        " CREATE (m)-[:HAS_VERSION]->(v:MemoryVersion) SET v = $version"
        f" WITH count(*) AS written {OUTBOX_APPEND} RETURN written"
    )
    params = {
        "tenant": updated.tenant,
        "id": updated.id,
        "memory": props,
        "previous": updated.version - 1,
        "recorded_at": db_time(updated.recorded_at),
        "version": version_props(updated),
        **outbox_params([(updated.tenant, updated.id, "upsert")], at),
    }
    return query, params


def delete_memory(tenant: str, memory_id: str, deleted_at: datetime, at: datetime) -> Statement:
    """Soft delete (after :func:`lock_memory` found it live): mark the node,
    expire its open version, append a ``delete`` outbox entry."""
    query = (
        "MATCH (m:Memory {id: $id}) WHERE m.tenant = $tenant"
        " SET m.deleted_at = $deleted_at, m.expired_at = $deleted_at"
        " WITH m OPTIONAL MATCH (m)-[:HAS_VERSION]->(v:MemoryVersion)"
        " WHERE v.expired_at IS NULL SET v.expired_at = $deleted_at"
        f" WITH count(*) AS written {OUTBOX_APPEND} RETURN written"
    )
    params = {
        "tenant": tenant,
        "id": memory_id,
        "deleted_at": db_time(deleted_at),
        **outbox_params([(tenant, memory_id, "delete")], at),
    }
    return query, params
