"""Store records -> domain objects, shared by every graph-store adapter.

A record is anything indexable by column name (a ``sqlite3.Row``, a dict
from a Cypher projection). Stores differ only in how they encode times and
string lists, so a :class:`RecordReader` is built from those two decoders;
JSON columns are JSON text in every store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.access.apikeys import ApiKey
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

Record = Any
"""A row indexable by column name."""


def from_json(text: str | None) -> JSONValue:
    return None if text is None else json.loads(text)


@dataclass(frozen=True, slots=True)
class RecordReader:
    time: Callable[[Any], datetime]
    """Decodes a stored time into an aware UTC datetime."""
    strings: Callable[[Any], tuple[str, ...]]
    """Decodes a stored list of strings (tags, aliases)."""

    def time_opt(self, value: Any) -> datetime | None:
        return None if value is None else self.time(value)

    def memory(self, row: Record) -> Memory:
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
            tags=self.strings(row["tags"]),
            metadata=from_json(row["metadata"]),
            sensitivity=Sensitivity(row["sensitivity"]),
            content_hash=row["content_hash"],
            version=int(row["version"]),
            created_at=self.time(row["created_at"]),
            updated_at=self.time(row["updated_at"]),
            valid_from=self.time_opt(row["valid_from"]),
            valid_to=self.time_opt(row["valid_to"]),
            recorded_at=self.time(row["recorded_at"]),
            expired_at=self.time_opt(row["expired_at"]),
            deleted_at=self.time_opt(row["deleted_at"]),
        )

    def version(self, row: Record) -> MemoryVersion:
        return MemoryVersion(
            memory_id=row["memory_id"],
            version=int(row["version"]),
            content=row["content"],
            importance=float(row["importance"]),
            tags=self.strings(row["tags"]),
            metadata=from_json(row["metadata"]),
            level=MemoryLevel(row["level"]),
            valid_from=self.time_opt(row["valid_from"]),
            valid_to=self.time_opt(row["valid_to"]),
            recorded_at=self.time(row["recorded_at"]),
            expired_at=self.time_opt(row["expired_at"]),
        )

    def agent(self, row: Record) -> Agent:
        return Agent(
            id=row["id"],
            tenant=row["tenant"],
            name=row["name"],
            description=row["description"],
            metadata=from_json(row["metadata"]),
            created_at=self.time(row["created_at"]),
        )

    def entity(self, row: Record) -> Entity:
        return Entity(
            id=row["id"],
            tenant=row["tenant"],
            name=row["name"],
            kind=row["kind"],
            summary=row["summary"],
            aliases=self.strings(row["aliases"]),
            created_at=self.time(row["created_at"]),
        )

    def relation(self, row: Record) -> Relation:
        return Relation(
            id=row["id"],
            tenant=row["tenant"],
            type=row["type"],
            source_id=row["source_id"],
            target_id=row["target_id"],
            weight=float(row["weight"]),
            properties=from_json(row["properties"]),
            valid_from=self.time_opt(row["valid_from"]),
            valid_to=self.time_opt(row["valid_to"]),
            created_at=self.time(row["created_at"]),
        )

    def fact(self, row: Record) -> Fact:
        return Fact(
            id=row["id"],
            tenant=row["tenant"],
            subject_id=row["subject_id"],
            predicate=row["predicate"],
            object_id=row["object_id"],
            valid_from=self.time_opt(row["valid_from"]),
            valid_to=self.time_opt(row["valid_to"]),
            source_memory_id=row["source_memory_id"],
            recorded_at=self.time(row["recorded_at"]),
        )

    def outbox(self, row: Record) -> OutboxEntry:
        return OutboxEntry(
            seq=int(row["seq"]),
            tenant=row["tenant"],
            memory_id=row["memory_id"],
            operation=row["operation"],
            created_at=self.time(row["created_at"]),
        )

    def api_key(self, row: Record) -> ApiKey:
        return ApiKey(
            id=row["id"],
            tenant=row["tenant"],
            name=row["name"],
            roles=frozenset(self.strings(row["roles"])),
            scopes=frozenset(self.strings(row["scopes"])),
            agent_id=row["agent_id"],
            user_id=row["user_id"],
            secret_hash=row["secret_hash"],
            created_at=self.time(row["created_at"]),
            expires_at=self.time_opt(row["expires_at"]),
            revoked_at=self.time_opt(row["revoked_at"]),
        )
