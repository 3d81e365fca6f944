"""The domain model: plain, immutable dataclasses with no I/O.

Every node carries its tenant. Times are timezone-aware UTC datetimes.
Memories have two time axes: ``valid_from``/``valid_to`` (when the content is
true in the world) and ``recorded_at``/``expired_at`` (when the system held
that version). Updates create a new version; old versions stay in history.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")

JSONValue = Any
"""A JSON-serialisable value (dict, list, str, number, bool or None)."""


def utcnow() -> datetime:
    """The current time as an aware UTC datetime, to the millisecond."""
    now = datetime.now(UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


class MemoryType(enum.Enum):
    EPISODIC = "EPISODIC"
    SEMANTIC = "SEMANTIC"
    PROCEDURAL = "PROCEDURAL"
    KNOWLEDGE_VAULT = "KNOWLEDGE_VAULT"
    RESOURCE = "RESOURCE"


class MemoryLevel(enum.Enum):
    STRATEGIC = "STRATEGIC"
    TACTICAL = "TACTICAL"
    OPERATIONAL = "OPERATIONAL"
    CONTEXTUAL = "CONTEXTUAL"


class Sensitivity(enum.Enum):
    PUBLIC = "PUBLIC"
    INTERNAL = "INTERNAL"
    CONFIDENTIAL = "CONFIDENTIAL"
    SECRET = "SECRET"


class SearchMode(enum.Enum):
    HYBRID = "HYBRID"
    VECTOR = "VECTOR"
    KEYWORD = "KEYWORD"


class Direction(enum.Enum):
    OUT = "OUT"
    IN = "IN"
    BOTH = "BOTH"


class MemoryEventKind(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    INVALIDATED = "INVALIDATED"


class NodeKind(enum.Enum):
    """What a node id points at; the id's prefix says which."""

    AGENT = "agt"
    MEMORY = "mem"
    ENTITY = "ent"
    RELATION = "rel"
    FACT = "fct"


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    tenant: str
    name: str
    description: str | None
    metadata: JSONValue
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Memory:
    """One memory as of one version (the current one unless read ``asOf``)."""

    id: str
    tenant: str
    agent_id: str | None
    user_id: str | None
    session_id: str | None
    type: MemoryType
    level: MemoryLevel
    content: str
    importance: float
    tags: tuple[str, ...]
    metadata: JSONValue
    sensitivity: Sensitivity
    content_hash: str
    version: int
    created_at: datetime
    updated_at: datetime
    valid_from: datetime | None
    valid_to: datetime | None
    recorded_at: datetime
    expired_at: datetime | None = None
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemoryVersion:
    memory_id: str
    version: int
    content: str
    importance: float
    tags: tuple[str, ...]
    metadata: JSONValue
    level: MemoryLevel
    valid_from: datetime | None
    valid_to: datetime | None
    recorded_at: datetime
    expired_at: datetime | None


@dataclass(frozen=True, slots=True)
class Entity:
    id: str
    tenant: str
    name: str
    kind: str
    summary: str | None
    aliases: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Relation:
    """A typed, weighted, directed edge between any two nodes."""

    id: str
    tenant: str
    type: str
    source_id: str
    target_id: str
    weight: float
    properties: JSONValue
    valid_from: datetime | None
    valid_to: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Fact:
    id: str
    tenant: str
    subject_id: str
    predicate: str
    object_id: str
    valid_from: datetime | None
    valid_to: datetime | None
    source_memory_id: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class MemoryFilter:
    """Which memories a listing, count or search may return.

    Empty collections and ``None`` mean "no constraint". ``as_of`` answers from
    the time axes: the version recorded and valid at that instant.
    """

    agent_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    types: tuple[MemoryType, ...] = ()
    levels: tuple[MemoryLevel, ...] = ()
    tags: tuple[str, ...] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    as_of: datetime | None = None

    def with_agent(self, agent_id: str | None) -> MemoryFilter:
        return MemoryFilter(
            agent_id=agent_id,
            user_id=self.user_id,
            session_id=self.session_id,
            types=self.types,
            levels=self.levels,
            tags=self.tags,
            created_after=self.created_after,
            created_before=self.created_before,
            as_of=self.as_of,
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated listing, newest first."""

    items: list[T]
    has_next_page: bool
    cursors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RelatedMemory:
    memory: Memory
    distance: int
    via: tuple[Relation, ...]


@dataclass(frozen=True, slots=True)
class Subgraph:
    nodes: list[Agent | Memory | Entity]
    relations: list[Relation]


@dataclass(frozen=True, slots=True)
class SearchHit:
    memory: Memory
    score: float
    keyword_score: float | None
    vector_score: float | None


@dataclass(frozen=True, slots=True)
class MemoryEvent:
    kind: MemoryEventKind
    memory: Memory
    at: datetime
    trace_context: dict[str, str] = field(default_factory=dict, compare=False)
    """The publishing write's trace context (W3C headers), so a subscriber's
    delivery joins the write's trace; empty when tracing is off."""
