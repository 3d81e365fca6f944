"""Domain objects as plain JSON-able dicts, for adapters that carry them
across processes (event fan-out, shared caches) and for backups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graph.model import (
    Memory,
    MemoryEvent,
    MemoryEventKind,
    MemoryLevel,
    MemoryType,
    Sensitivity,
)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def memory_to_dict(memory: Memory) -> dict[str, Any]:
    return {
        "id": memory.id,
        "tenant": memory.tenant,
        "agent_id": memory.agent_id,
        "user_id": memory.user_id,
        "session_id": memory.session_id,
        "type": memory.type.value,
        "level": memory.level.value,
        "content": memory.content,
        "importance": memory.importance,
        "tags": list(memory.tags),
        "metadata": memory.metadata,
        "sensitivity": memory.sensitivity.value,
        "content_hash": memory.content_hash,
        "version": memory.version,
        "created_at": _time(memory.created_at),
        "updated_at": _time(memory.updated_at),
        "valid_from": _time(memory.valid_from),
        "valid_to": _time(memory.valid_to),
        "recorded_at": _time(memory.recorded_at),
        "expired_at": _time(memory.expired_at),
        "deleted_at": _time(memory.deleted_at),
    }


def memory_from_dict(data: dict[str, Any]) -> Memory:
    created = _parse(data["created_at"])
    updated = _parse(data["updated_at"])
    recorded = _parse(data["recorded_at"])
    assert created is not None and updated is not None and recorded is not None
    return Memory(
        id=data["id"],
        tenant=data["tenant"],
        agent_id=data["agent_id"],
        user_id=data["user_id"],
        session_id=data["session_id"],
        type=MemoryType(data["type"]),
        level=MemoryLevel(data["level"]),
        content=data["content"],
        importance=float(data["importance"]),
        tags=tuple(data["tags"]),
        metadata=data["metadata"],
        sensitivity=Sensitivity(data["sensitivity"]),
        content_hash=data["content_hash"],
        version=int(data["version"]),
        created_at=created,
        updated_at=updated,
        valid_from=_parse(data["valid_from"]),
        valid_to=_parse(data["valid_to"]),
        recorded_at=recorded,
        expired_at=_parse(data.get("expired_at")),
        deleted_at=_parse(data.get("deleted_at")),
    )


def event_to_dict(event: MemoryEvent) -> dict[str, Any]:
    data = {
        "kind": event.kind.value,
        "at": event.at.isoformat(),
        "memory": memory_to_dict(event.memory),
    }
    if event.trace_context:
        data["trace"] = dict(event.trace_context)
    return data


def event_from_dict(data: dict[str, Any]) -> MemoryEvent:
    return MemoryEvent(
        kind=MemoryEventKind(data["kind"]),
        memory=memory_from_dict(data["memory"]),
        at=datetime.fromisoformat(data["at"]),
        trace_context={str(k): str(v) for k, v in (data.get("trace") or {}).items()},
    )
