"""Neo4j result values -> domain objects.

The projections in :mod:`graph.adapters.neo4j.cypher` return plain maps;
these functions turn them into the domain dataclasses. Times are stored as
Neo4j ``DateTime`` values and come back as integer microseconds since the
epoch (or, from a plain property read, as ``neo4j.time.DateTime``); both
leave here as aware UTC ``datetime`` values, exact to the microsecond.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j.time

from graph.model import (
    Agent,
    Entity,
    Fact,
    JSONValue,
    Memory,
    MemoryLevel,
    MemoryType,
    MemoryVersion,
    Relation,
    Sensitivity,
)
from graph.ports import OutboxEntry

Row = dict[str, Any]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_db_time(value: Any) -> datetime:
    """An aware UTC datetime from epoch microseconds or a driver DateTime."""
    if isinstance(value, int):
        return EPOCH + timedelta(microseconds=value)
    if isinstance(value, neo4j.time.DateTime):
        native = datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.nanosecond // 1000,
            tzinfo=value.tzinfo,
        )
        return native.astimezone(UTC)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    raise TypeError(f"expected a DateTime, got {type(value).__name__}")


def from_db_time_opt(value: Any) -> datetime | None:
    return None if value is None else from_db_time(value)


def from_json(text: str | None) -> JSONValue:
    return None if text is None else json.loads(text)


def _strings(values: list[str] | None) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def memory_from(row: Row) -> Memory:
    return Memory(
        id=row["id"],
        tenant=row["tenant"],
        agent_id=row["agent_id"],
        user_id=row["user_id"],
        session_id=row["session_id"],
        type=MemoryType(row["type"]),
        level=MemoryLevel(row["level"]),
        content=row["content"],
        importance=float(row["importance"]),
        tags=_strings(row["tags"]),
        metadata=from_json(row["metadata"]),
        sensitivity=Sensitivity(row["sensitivity"]),
        content_hash=row["content_hash"],
        version=int(row["version"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        valid_from=from_db_time_opt(row["valid_from"]),
        valid_to=from_db_time_opt(row["valid_to"]),
        recorded_at=from_db_time(row["recorded_at"]),
        expired_at=from_db_time_opt(row["expired_at"]),
        deleted_at=from_db_time_opt(row["deleted_at"]),
    )


def version_from(row: Row) -> MemoryVersion:
    return MemoryVersion(
        memory_id=row["memory_id"],
        version=int(row["version"]),
        content=row["content"],
        importance=float(row["importance"]),
        tags=_strings(row["tags"]),
        metadata=from_json(row["metadata"]),
        level=MemoryLevel(row["level"]),
        valid_from=from_db_time_opt(row["valid_from"]),
        valid_to=from_db_time_opt(row["valid_to"]),
        recorded_at=from_db_time(row["recorded_at"]),
        expired_at=from_db_time_opt(row["expired_at"]),
    )


def agent_from(row: Row) -> Agent:
    return Agent(
        id=row["id"],
        tenant=row["tenant"],
        name=row["name"],
        description=row["description"],
        metadata=from_json(row["metadata"]),
        created_at=from_db_time(row["created_at"]),
    )


def entity_from(row: Row) -> Entity:
    return Entity(
        id=row["id"],
        tenant=row["tenant"],
        name=row["name"],
        kind=row["kind"],
        summary=row["summary"],
        aliases=_strings(row["aliases"]),
        created_at=from_db_time(row["created_at"]),
    )


def relation_from(row: Row) -> Relation:
    return Relation(
        id=row["id"],
        tenant=row["tenant"],
        type=row["type"],
        source_id=row["source_id"],
        target_id=row["target_id"],
        weight=float(row["weight"]),
        properties=from_json(row["properties"]),
        valid_from=from_db_time_opt(row["valid_from"]),
        valid_to=from_db_time_opt(row["valid_to"]),
        created_at=from_db_time(row["created_at"]),
    )


def fact_from(row: Row) -> Fact:
    return Fact(
        id=row["id"],
        tenant=row["tenant"],
        subject_id=row["subject_id"],
        predicate=row["predicate"],
        object_id=row["object_id"],
        valid_from=from_db_time_opt(row["valid_from"]),
        valid_to=from_db_time_opt(row["valid_to"]),
        source_memory_id=row["source_memory_id"],
        recorded_at=from_db_time(row["recorded_at"]),
    )


def outbox_from(row: Row) -> OutboxEntry:
    return OutboxEntry(
        seq=int(row["seq"]),
        tenant=row["tenant"],
        memory_id=row["memory_id"],
        operation=row["operation"],
        created_at=from_db_time(row["created_at"]),
    )
