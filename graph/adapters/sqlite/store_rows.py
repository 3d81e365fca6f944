"""Row <-> domain object mapping for the graph tables."""

from __future__ import annotations

from typing import Any

from graph.adapters.sqlite.codec import (
    from_db_time,
    tags_from_json,
    to_db_time,
    to_db_time_opt,
    to_json,
)
from graph.model import (
    Memory,
)
from graph.records import RecordReader

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


READ = RecordReader(time=from_db_time, strings=tags_from_json)
"""Rows of the embedded store -> domain objects."""
memory_from_row = READ.memory
version_from_row = READ.version
agent_from_row = READ.agent
entity_from_row = READ.entity
relation_from_row = READ.relation
fact_from_row = READ.fact
outbox_from_row = READ.outbox
