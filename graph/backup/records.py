"""The backend-independent record forms a backup carries.

A record is a JSON object with plain values: times are fixed-width UTC text
(``2024-05-01T12:00:00.000000Z``, which sorts like the instants), JSON
fields (``metadata``, ``properties``) are JSON values, tags and aliases are
lists. Every graph store exports to and imports from exactly these forms,
which is what lets a backup taken on one backend set restore into another.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

Record = dict[str, Any]

AGENT: Final = "agent"
ENTITY: Final = "entity"
MEMORY: Final = "memory"
"""A memory's current row with every version nested under ``versions``."""
FACT: Final = "fact"
RELATION: Final = "relation"

KINDS: Final = (AGENT, ENTITY, MEMORY, FACT, RELATION)
"""Export and import order: a relation's endpoints and a fact's entities exist
before it is written."""

FIELDS: Final[dict[str, tuple[str, ...]]] = {
    AGENT: ("id", "tenant", "name", "description", "metadata", "created_at"),
    ENTITY: ("id", "tenant", "name", "norm_name", "kind", "summary", "aliases", "created_at"),
    MEMORY: (
        "id", "tenant", "agent_id", "user_id", "session_id", "type", "level", "content",
        "importance", "tags", "metadata", "sensitivity", "content_hash", "version",
        "created_at", "updated_at", "valid_from", "valid_to", "recorded_at", "expired_at",
        "deleted_at",
    ),
    FACT: (
        "id", "tenant", "subject_id", "predicate", "object_id", "valid_from", "valid_to",
        "source_memory_id", "recorded_at",
    ),
    RELATION: (
        "id", "tenant", "type", "source_id", "target_id", "weight", "properties",
        "valid_from", "valid_to", "created_at", "deleted_at",
    ),
}  # fmt: skip
"""The fields of each kind's record (a memory record also has ``versions``)."""

VERSION_FIELDS: Final = (
    "memory_id", "tenant", "version", "content", "importance", "tags", "metadata", "level",
    "content_hash", "valid_from", "valid_to", "recorded_at", "expired_at",
)  # fmt: skip
"""The fields of each entry of a memory record's ``versions``."""

TIME_FIELDS: Final = frozenset(
    {
        "created_at", "updated_at", "valid_from", "valid_to", "recorded_at", "expired_at",
        "deleted_at",
    }
)  # fmt: skip

ExportSink = Callable[[str, Record], None]
"""Receives each exported record with its kind, in :data:`KINDS` order.

Called synchronously (possibly from a worker thread that holds the store's
read transaction), one record at a time, so memory use stays constant."""


def time_text(value: datetime) -> str:
    """The record form of an instant (a naive datetime is taken as UTC)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_text_opt(value: datetime | None) -> str | None:
    return None if value is None else time_text(value)


def parse_time(text: str) -> datetime:
    """The aware UTC instant of a record time."""
    return datetime.fromisoformat(text).astimezone(UTC)


def parse_time_opt(text: str | None) -> datetime | None:
    return None if text is None else parse_time(text)
