"""Row <-> domain object mapping for the graph tables."""

from __future__ import annotations

import sqlite3
from typing import Any

from graph.adapters.sqlite.codec import (
    from_db_time,
    from_db_time_opt,
    from_json,
    tags_from_json,
    to_db_time,
    to_db_time_opt,
    to_json,
)
from graph.model import (
    Agent,
    Entity,
    Fact,
    Memory,
    MemoryLevel,
    MemoryType,
    MemoryVersion,
    Relation,
    Sensitivity,
)
from graph.ports import OutboxEntry

CURRENT_MEMORY_COLUMNS = """
    m.id, m.tenant, m.agent_id, m.user_id, m.session_id, m.type, m.level, m.content,
    m.importance, m.tags, m.metadata, m.sensitivity, m.content_hash, m.version,
    m.created_at, m.updated_at, m.valid_from, m.valid_to, m.recorded_at, m.expired_at,
    m.deleted_at"""
"""The columns of a memory's current version (alias ``m`` = memories)."""

VERSION_MEMORY_COLUMNS = """
    m.id, m.tenant, m.agent_id, m.user_id, m.session_id, m.type, v.level, v.content,
    v.importance, v.tags, v.metadata, m.sensitivity, v.content_hash, v.version,
    m.created_at, v.recorded_at AS updated_at, v.valid_from, v.valid_to, v.recorded_at,
    v.expired_at, NULL AS deleted_at"""
"""The same columns for one historical version (alias ``v`` = memory_versions)."""

RELATION_COLUMNS = """
    r.id, r.tenant, r.type, r.source_id, r.target_id, r.weight, r.properties,
    r.valid_from, r.valid_to, r.created_at"""

FACT_COLUMNS = """
    f.id, f.tenant, f.subject_id, f.predicate, f.object_id, f.valid_from, f.valid_to,
    f.source_memory_id, f.recorded_at"""


def memory_from_row(row: sqlite3.Row) -> Memory:
    return Memory(
        id=row["id"],
        tenant=row["tenant"],
        agent_id=row["agent_id"],
        user_id=row["user_id"],
        session_id=row["session_id"],
        type=MemoryType(row["type"]),
        level=MemoryLevel(row["level"]),
        content=row["content"],
        importance=row["importance"],
        tags=tags_from_json(row["tags"]),
        metadata=from_json(row["metadata"]),
        sensitivity=Sensitivity(row["sensitivity"]),
        content_hash=row["content_hash"],
        version=row["version"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        valid_from=from_db_time_opt(row["valid_from"]),
        valid_to=from_db_time_opt(row["valid_to"]),
        recorded_at=from_db_time(row["recorded_at"]),
        expired_at=from_db_time_opt(row["expired_at"]),
        deleted_at=from_db_time_opt(row["deleted_at"]),
    )


def memory_params(memory: Memory) -> dict[str, Any]:
    """Named parameters for every memories column."""
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
        "tags": to_json(list(memory.tags)),
        "metadata": to_json(memory.metadata),
        "sensitivity": memory.sensitivity.value,
        "content_hash": memory.content_hash,
        "version": memory.version,
        "created_at": to_db_time(memory.created_at),
        "updated_at": to_db_time(memory.updated_at),
        "valid_from": to_db_time_opt(memory.valid_from),
        "valid_to": to_db_time_opt(memory.valid_to),
        "recorded_at": to_db_time(memory.recorded_at),
        "expired_at": to_db_time_opt(memory.expired_at),
        "deleted_at": to_db_time_opt(memory.deleted_at),
    }


def version_from_row(row: sqlite3.Row) -> MemoryVersion:
    return MemoryVersion(
        memory_id=row["memory_id"],
        version=row["version"],
        content=row["content"],
        importance=row["importance"],
        tags=tags_from_json(row["tags"]),
        metadata=from_json(row["metadata"]),
        level=MemoryLevel(row["level"]),
        valid_from=from_db_time_opt(row["valid_from"]),
        valid_to=from_db_time_opt(row["valid_to"]),
        recorded_at=from_db_time(row["recorded_at"]),
        expired_at=from_db_time_opt(row["expired_at"]),
    )


def agent_from_row(row: sqlite3.Row) -> Agent:
    return Agent(
        id=row["id"],
        tenant=row["tenant"],
        name=row["name"],
        description=row["description"],
        metadata=from_json(row["metadata"]),
        created_at=from_db_time(row["created_at"]),
    )


def entity_from_row(row: sqlite3.Row) -> Entity:
    return Entity(
        id=row["id"],
        tenant=row["tenant"],
        name=row["name"],
        kind=row["kind"],
        summary=row["summary"],
        aliases=tags_from_json(row["aliases"]),
        created_at=from_db_time(row["created_at"]),
    )


def relation_from_row(row: sqlite3.Row) -> Relation:
    return Relation(
        id=row["id"],
        tenant=row["tenant"],
        type=row["type"],
        source_id=row["source_id"],
        target_id=row["target_id"],
        weight=row["weight"],
        properties=from_json(row["properties"]),
        valid_from=from_db_time_opt(row["valid_from"]),
        valid_to=from_db_time_opt(row["valid_to"]),
        created_at=from_db_time(row["created_at"]),
    )


def fact_from_row(row: sqlite3.Row) -> Fact:
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


def outbox_from_row(row: sqlite3.Row) -> OutboxEntry:
    return OutboxEntry(
        seq=row["seq"],
        tenant=row["tenant"],
        memory_id=row["memory_id"],
        operation=row["operation"],
        created_at=from_db_time(row["created_at"]),
    )
