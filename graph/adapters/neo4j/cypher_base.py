"""Shared pieces of the Neo4j store's Cypher: projections, fixed patterns and
parameter values. See :mod:`graph.adapters.neo4j.cypher` for the rules every
statement follows; everything here is a constant or a pure function.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from graph.model import Direction, JSONValue, Memory, Relation
from graph.ports import Position

Statement = tuple[str, dict[str, Any]]
"""A Cypher query and its parameters."""

FULLTEXT_INDEX: Final = "memory_content"
OUTBOX_COUNTER: Final = "index_outbox"
MAX_FULLTEXT_TERMS: Final = 64
"""Longer keyword queries keep their first distinct words."""


def micros(expr: str) -> str:
    """A stored DateTime as integer microseconds since the epoch. Results
    carry times as integers: they decode far faster than temporal values."""
    return f"{expr}.epochSeconds * 1000000 + {expr}.microsecond"


def project(alias: str, plain: str, times: str, more: str = "") -> str:
    """``alias {.a, .b, t: <micros of alias.t>, ...}`` from fixed field names."""
    fields = [f".{name}" for name in plain.split()]
    fields += [f"{name}: {micros(f'{alias}.{name}')}" for name in times.split()]
    return f"{alias} {{{', '.join(fields)}{more}}}"


CURRENT_MEMORY: Final = project(
    "m",
    "id tenant agent_id user_id session_id type level content importance tags metadata"
    " sensitivity content_hash version",
    "created_at updated_at valid_from valid_to recorded_at expired_at deleted_at",
)
"""A memory's current version (``m`` = the ``:Memory`` node)."""

VERSIONED_MEMORY: Final = (
    "m {.id, .tenant, .agent_id, .user_id, .session_id, .type, .sensitivity,"
    f" created_at: {micros('m.created_at')}, level: v.level, content: v.content,"
    " importance: v.importance, tags: v.tags, metadata: v.metadata,"
    " content_hash: v.content_hash, version: v.version,"
    f" updated_at: {micros('v.recorded_at')}, valid_from: {micros('v.valid_from')},"
    f" valid_to: {micros('v.valid_to')}, recorded_at: {micros('v.recorded_at')},"
    f" expired_at: {micros('v.expired_at')}, deleted_at: null}}"
)
"""The same fields for one historical version (``v`` = the ``:MemoryVersion``)."""

VERSION: Final = project(
    "v",
    "memory_id version content importance tags metadata level",
    "valid_from valid_to recorded_at expired_at",
)
AGENT: Final = project("a", "id tenant name description metadata", "created_at")
ENTITY: Final = project("e", "id tenant name kind summary aliases", "created_at")
FACT: Final = project(
    "f",
    "id tenant subject_id predicate object_id source_memory_id",
    "valid_from valid_to recorded_at",
)
RELATION: Final = project(
    "r",
    "id tenant type weight properties",
    "valid_from valid_to created_at",
    ", source_id: startNode(r).id, target_id: endNode(r).id",
)
OUTBOX: Final = project("e", "seq tenant memory_id operation", "created_at")

RELATION_PATTERNS: Final = {
    Direction.OUT: "(n)-[r:RELATES]->(o)",
    Direction.IN: "(n)<-[r:RELATES]-(o)",
    Direction.BOTH: "(n)-[r:RELATES]-(o)",
}
"""The only place a relationship pattern varies: picked by enum, never by text."""

OUTBOX_APPEND: Final = (
    "CALL () {"
    f" MERGE (c:Counter {{name: '{OUTBOX_COUNTER}'}})"
    " SET c.value = coalesce(c.value, 0) + size($outbox)"
    " WITH c.value - size($outbox) AS base"
    " UNWIND range(0, size($outbox) - 1) AS i"
    " WITH base + i + 1 AS seq, $outbox[i] AS entry"
    " CREATE (:OutboxEntry {seq: seq, tenant: entry.tenant, memory_id: entry.memory_id,"
    " operation: entry.operation, created_at: $outbox_at}) }"
)
"""Append ``$outbox`` entries, numbered from the counter node. The ``SET``
reads the counter it writes, so Cypher locks the counter before reading it:
concurrent writers get distinct, increasing numbers."""


# -- values -------------------------------------------------------------------


def db_time(value: datetime) -> datetime:
    """An aware UTC datetime for the driver (a naive one is taken as UTC).

    Every stored time has offset zero, so equal instants are equal values.
    """
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def db_time_opt(value: datetime | None) -> datetime | None:
    return None if value is None else db_time(value)


def to_json(value: JSONValue) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def distinct(values: Iterable[Any]) -> list[Any]:
    """The values without duplicates, first occurrence kept."""
    return list(dict.fromkeys(values))


def memory_props(memory: Memory) -> dict[str, Any]:
    """Every property of a ``:Memory`` node."""
    return {
        "id": memory.id,
        "tenant": memory.tenant,
        "agent_id": memory.agent_id,
        "user_id": memory.user_id,
        "session_id": memory.session_id,
        "type": memory.type.value,
        "level": memory.level.value,
        "content": memory.content,
        "importance": float(memory.importance),
        "tags": list(memory.tags),
        "metadata": to_json(memory.metadata),
        "sensitivity": memory.sensitivity.value,
        "content_hash": memory.content_hash,
        "version": memory.version,
        "created_at": db_time(memory.created_at),
        "updated_at": db_time(memory.updated_at),
        "valid_from": db_time_opt(memory.valid_from),
        "valid_to": db_time_opt(memory.valid_to),
        "recorded_at": db_time(memory.recorded_at),
        "expired_at": db_time_opt(memory.expired_at),
        "deleted_at": db_time_opt(memory.deleted_at),
    }


def version_props(memory: Memory) -> dict[str, Any]:
    """The ``:MemoryVersion`` node recording ``memory``'s version."""
    return {
        "memory_id": memory.id,
        "tenant": memory.tenant,
        "version": memory.version,
        "content": memory.content,
        "importance": float(memory.importance),
        "tags": list(memory.tags),
        "metadata": to_json(memory.metadata),
        "level": memory.level.value,
        "content_hash": memory.content_hash,
        "valid_from": db_time_opt(memory.valid_from),
        "valid_to": db_time_opt(memory.valid_to),
        "recorded_at": db_time(memory.recorded_at),
        "expired_at": db_time_opt(memory.expired_at),
    }


def relation_props(relation: Relation) -> dict[str, Any]:
    """The properties of a ``RELATES`` relationship (endpoints excluded)."""
    return {
        "id": relation.id,
        "tenant": relation.tenant,
        "type": relation.type,
        "weight": float(relation.weight),
        "properties": to_json(relation.properties),
        "valid_from": db_time_opt(relation.valid_from),
        "valid_to": db_time_opt(relation.valid_to),
        "created_at": db_time(relation.created_at),
    }


def outbox_params(entries: Sequence[tuple[str, str, str]], at: datetime) -> dict[str, Any]:
    return {
        "outbox": [{"tenant": t, "memory_id": m, "operation": op} for t, m, op in entries],
        "outbox_at": db_time(at),
    }


def keyset(alias: str, after: Position | None, params: dict[str, Any]) -> str:
    """Rows strictly after ``after`` in (created_at DESC, id DESC) order. The
    leading range predicate lets the (tenant, ..., created_at) index seek."""
    if after is None:
        return f"{alias}.created_at IS NOT NULL"
    params["after_created"] = db_time(after[0])
    params["after_id"] = after[1]
    return (
        f"{alias}.created_at <= $after_created AND ({alias}.created_at < $after_created"
        f" OR {alias}.id < $after_id)"
    )
