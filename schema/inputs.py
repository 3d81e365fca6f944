"""GraphQL input types and their translation into domain values."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from graph import model
from graph.services.memories import MemoryPatch, NewMemory
from resolvers.arguments import aware, given
from schema.enums import MemoryLevel, MemoryType, Sensitivity


@strawberry.input
class MemoryFilter:
    agent_id: strawberry.ID | None = None
    user_id: str | None = None
    session_id: str | None = None
    types: list[MemoryType] | None = None
    levels: list[MemoryLevel] | None = None
    tags: list[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    as_of: datetime | None = None

    def to_domain(self) -> model.MemoryFilter:
        return model.MemoryFilter(
            agent_id=None if self.agent_id is None else str(self.agent_id),
            user_id=self.user_id,
            session_id=self.session_id,
            types=tuple(dict.fromkeys(self.types or ())),
            levels=tuple(dict.fromkeys(self.levels or ())),
            tags=tuple(sorted(set(self.tags or ()))),
            created_after=aware(self.created_after, "createdAfter"),
            created_before=aware(self.created_before, "createdBefore"),
            as_of=aware(self.as_of, "asOf"),
        )


def memory_filter(value: MemoryFilter | None) -> model.MemoryFilter:
    return value.to_domain() if value is not None else model.MemoryFilter()


@strawberry.input
class AddMemoryInput:
    content: str
    agent_id: strawberry.ID | None = None
    type: MemoryType | None = model.MemoryType.EPISODIC
    level: MemoryLevel | None = model.MemoryLevel.OPERATIONAL
    user_id: str | None = None
    session_id: str | None = None
    importance: float | None = None
    tags: list[str] | None = None
    metadata: JSON | None = None
    sensitivity: Sensitivity | None = None
    valid_from: datetime | None = None

    def to_domain(self) -> NewMemory:
        return NewMemory(
            content=self.content,
            agent_id=None if self.agent_id is None else str(self.agent_id),
            type=given(self.type, model.MemoryType.EPISODIC),
            level=given(self.level, model.MemoryLevel.OPERATIONAL),
            user_id=self.user_id,
            session_id=self.session_id,
            importance=self.importance,
            tags=tuple(self.tags or ()),
            metadata=self.metadata,
            sensitivity=self.sensitivity,
            valid_from=aware(self.valid_from, "validFrom"),
        )


@strawberry.input
class UpdateMemoryInput:
    content: str | None = None
    importance: float | None = None
    tags: list[str] | None = None
    metadata: JSON | None = None
    level: MemoryLevel | None = None
    valid_to: datetime | None = None

    def to_domain(self) -> MemoryPatch:
        return MemoryPatch(
            content=self.content,
            importance=self.importance,
            tags=None if self.tags is None else tuple(self.tags),
            metadata=self.metadata,
            level=self.level,
            valid_to=aware(self.valid_to, "validTo"),
        )
