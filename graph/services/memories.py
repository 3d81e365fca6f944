"""The memory lifecycle: agents, adding (with de-duplication), versioned
updates with optimistic concurrency, soft deletes, reads and listings."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from graph import validation
from graph.access.scope import UNSCOPED, RowScope
from graph.errors import BadInput, Conflict, Forbidden, NotFound
from graph.ids import decode_cursor, encode_cursor, new_id
from graph.limits import Limits
from graph.model import (
    Agent,
    JSONValue,
    Memory,
    MemoryEvent,
    MemoryEventKind,
    MemoryFilter,
    MemoryLevel,
    MemoryType,
    NodeKind,
    Page,
    Sensitivity,
    utcnow,
)
from graph.ports import EventBus, GraphStore, Position
from graph.services.indexer import Indexer
from graph.telemetry import carrier


@dataclass(frozen=True, slots=True)
class NewMemory:
    content: str
    agent_id: str | None = None
    type: MemoryType = MemoryType.EPISODIC
    level: MemoryLevel = MemoryLevel.OPERATIONAL
    user_id: str | None = None
    session_id: str | None = None
    importance: float | None = None
    tags: Sequence[str] = ()
    metadata: JSONValue = None
    sensitivity: Sensitivity | None = None
    valid_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemoryPatch:
    """Fields to change; ``None`` leaves a field as it is."""

    content: str | None = None
    importance: float | None = None
    tags: Sequence[str] | None = None
    metadata: JSONValue = None
    level: MemoryLevel | None = None
    valid_to: datetime | None = None


def content_hash(content: str) -> str:
    """Hash of the content after Unicode and whitespace normalisation."""
    normalised = " ".join(unicodedata.normalize("NFC", content).split())
    return hashlib.sha256(normalised.encode()).hexdigest()


class MemoryService:
    def __init__(
        self,
        store: GraphStore,
        bus: EventBus,
        indexer: Indexer,
        limits: Limits,
        on_write: Callable[[str], Awaitable[None]],
    ) -> None:
        self._on_write = on_write
        self._store = store
        self._bus = bus
        self._indexer = indexer
        self._limits = limits

    async def create_agent(
        self,
        tenant: str,
        name: str,
        description: str | None,
        metadata: JSONValue,
        scope: RowScope = UNSCOPED,
    ) -> Agent:
        """A new agent; credentials bound to one agent may not create others."""
        if scope.agent_id is not None:
            raise Forbidden("These credentials are bound to one agent and cannot create agents.")
        limits = self._limits
        agent = Agent(
            id=new_id(NodeKind.AGENT),
            tenant=tenant,
            name=validation.text(name, limits.max_name_chars, "name").strip(),
            description=(
                None
                if description is None
                else validation.text(
                    description, limits.max_content_chars, "description", allow_empty=True
                )
            ),
            metadata=validation.metadata(metadata, limits),
            created_at=utcnow(),
        )
        await self._store.create_agent(agent)
        return agent

    async def add(
        self, tenant: str, inputs: Sequence[NewMemory], scope: RowScope = UNSCOPED
    ) -> list[Memory]:
        """Add memories in one transaction, in input order.

        A memory whose normalised content an agent already holds is not stored
        twice: the existing memory is returned in its place. Under a row
        scope, memories belong to the scope's agent and user (see
        :meth:`RowScope.owner`) and only memories inside it count as held.
        """
        if not inputs:
            return []
        if len(inputs) > self._limits.max_batch:
            raise BadInput(
                f"At most {self._limits.max_batch} memories can be added at once.",
                argument="inputs",
            )
        now = utcnow()
        if not scope.unrestricted:
            inputs = [_owned(item, scope) for item in inputs]
        candidates = [self._build(tenant, item, now) for item in inputs]
        await self._require_agents(tenant, {m.agent_id for m in candidates if m.agent_id})
        existing = await self._store.find_memories_by_hash(
            tenant, [(m.agent_id, m.content_hash) for m in candidates], scope
        )
        chosen: dict[tuple[str | None, str], Memory] = dict(existing)
        fresh: list[Memory] = []
        for memory in candidates:
            key = (memory.agent_id, memory.content_hash)
            if key not in chosen:
                chosen[key] = memory
                fresh.append(memory)
        if fresh:
            await self._store.insert_memories(fresh)
            await self._on_write(tenant)
            await self._indexer.try_drain()
            trace_context = carrier()
            for memory in fresh:
                await self._bus.publish(
                    MemoryEvent(MemoryEventKind.CREATED, memory, now, trace_context)
                )
        return [chosen[(m.agent_id, m.content_hash)] for m in candidates]

    async def update(
        self,
        tenant: str,
        memory_id: str,
        patch: MemoryPatch,
        expected_version: int | None,
        scope: RowScope = UNSCOPED,
    ) -> Memory:
        """The next version of a memory. A memory's agent and user never
        change, so the scoped read here decides for the write too."""
        current = (await self._store.get_memories(tenant, [memory_id], scope)).get(memory_id)
        if current is None:
            raise NotFound(f"No memory with id {memory_id!r}.", id=memory_id)
        if expected_version is not None and expected_version != current.version:
            raise Conflict(
                f"Memory {memory_id!r} is at version {current.version}, "
                f"not the expected {expected_version}.",
                id=memory_id,
                currentVersion=current.version,
            )
        updated = self._patched(current, patch)
        await self._store.update_memory(updated)
        await self._on_write(tenant)
        await self._indexer.try_drain()
        kind = MemoryEventKind.UPDATED
        if updated.valid_to is not None and updated.valid_to <= updated.recorded_at:
            kind = MemoryEventKind.INVALIDATED
        await self._bus.publish(MemoryEvent(kind, updated, updated.recorded_at, carrier()))
        return updated

    async def delete(self, tenant: str, memory_id: str, scope: RowScope = UNSCOPED) -> Memory:
        if not scope.unrestricted and not await self._store.get_memories(
            tenant, [memory_id], scope
        ):
            raise NotFound(f"No memory with id {memory_id!r}.", id=memory_id)
        now = utcnow()
        deleted = await self._store.delete_memory(tenant, memory_id, now)
        if deleted is None:
            raise NotFound(f"No memory with id {memory_id!r}.", id=memory_id)
        await self._on_write(tenant)
        await self._indexer.try_drain()
        await self._bus.publish(MemoryEvent(MemoryEventKind.DELETED, deleted, now, carrier()))
        return deleted

    async def get_many(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Memory]:
        return await self._store.get_memories(tenant, ids, scope)

    async def get_agents(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Agent]:
        """Agents by id; under an agent scope only that agent exists."""
        wanted = scope.agents(list(ids))
        return await self._store.get_agents(tenant, wanted) if wanted else {}

    def check_page_size(self, first: int) -> int:
        return validation.page_size(first, self._limits)

    @staticmethod
    def cursor_position(after: str | None) -> Position | None:
        return decode_cursor(after) if after else None

    async def list_memories(
        self,
        tenant: str,
        memory_filter: MemoryFilter,
        first: int,
        after: str | None,
        scope: RowScope = UNSCOPED,
    ) -> Page[Memory]:
        validation.page_size(first, self._limits)
        position = self.cursor_position(after)
        rows = await self._store.list_memories(tenant, memory_filter, first, position, scope)
        return self.page(rows, first)

    @staticmethod
    def page(rows: list[Memory], first: int) -> Page[Memory]:
        items = rows[:first]
        return Page(
            items=items,
            has_next_page=len(rows) > first,
            cursors=[encode_cursor(m.created_at, m.id) for m in items],
        )

    async def list_agents(
        self, tenant: str, first: int, after: str | None, scope: RowScope = UNSCOPED
    ) -> Page[Agent]:
        validation.page_size(first, self._limits)
        position = decode_cursor(after) if after else None
        if scope.agent_id is None:
            rows = await self._store.list_agents(tenant, first, position)
        else:  # the one agent of the scope, if it exists and lies after the cursor
            own = await self.get_agents(tenant, [scope.agent_id], scope)
            rows = [
                a
                for a in own.values()
                if first > 0 and (position is None or (a.created_at, a.id) < position)
            ]
        items = rows[:first]
        return Page(
            items=items,
            has_next_page=len(rows) > first,
            cursors=[encode_cursor(a.created_at, a.id) for a in items],
        )

    async def _require_agents(self, tenant: str, agent_ids: set[str]) -> None:
        if not agent_ids:
            return
        found = await self._store.get_agents(tenant, sorted(agent_ids))
        missing = sorted(agent_ids - found.keys())
        if missing:
            raise NotFound(f"No agent with id {missing[0]!r}.", id=missing[0])

    def _build(self, tenant: str, item: NewMemory, created: datetime) -> Memory:
        limits = self._limits
        content = validation.text(item.content, limits.max_content_chars, "content")
        importance = 0.5 if item.importance is None else item.importance
        valid_from = _datetime_or_none(item.valid_from, "validFrom")
        return Memory(
            id=new_id(NodeKind.MEMORY),
            tenant=tenant,
            agent_id=item.agent_id,
            user_id=_optional_text(item.user_id, limits.max_name_chars, "userId"),
            session_id=_optional_text(item.session_id, limits.max_name_chars, "sessionId"),
            type=item.type,
            level=item.level,
            content=content,
            importance=validation.fraction(importance, "importance"),
            tags=validation.tags(item.tags, limits),
            metadata=validation.metadata(item.metadata, limits),
            sensitivity=item.sensitivity or Sensitivity.INTERNAL,
            content_hash=content_hash(content),
            version=1,
            created_at=created,
            updated_at=created,
            valid_from=valid_from,
            valid_to=None,
            recorded_at=created,
        )

    def _patched(self, current: Memory, patch: MemoryPatch) -> Memory:
        limits = self._limits
        now = utcnow()
        if now <= current.recorded_at:  # keep the time axis strictly increasing
            now = current.recorded_at + timedelta(milliseconds=1)
        content = current.content
        if patch.content is not None:
            content = validation.text(patch.content, limits.max_content_chars, "content")
        valid_to = current.valid_to
        if patch.valid_to is not None:
            valid_to = _datetime_or_none(patch.valid_to, "validTo")
            if (
                valid_to is not None
                and current.valid_from is not None
                and valid_to < current.valid_from
            ):
                raise BadInput("`validTo` must not be before `validFrom`.", argument="validTo")
        return replace(
            current,
            content=content,
            content_hash=content_hash(content),
            importance=(
                current.importance
                if patch.importance is None
                else validation.fraction(patch.importance, "importance")
            ),
            tags=current.tags if patch.tags is None else validation.tags(patch.tags, limits),
            metadata=(
                current.metadata
                if patch.metadata is None
                else validation.metadata(patch.metadata, limits)
            ),
            level=patch.level or current.level,
            valid_to=valid_to,
            version=current.version + 1,
            updated_at=now,
            recorded_at=now,
        )


def _owned(item: NewMemory, scope: RowScope) -> NewMemory:
    agent_id, user_id = scope.owner(item.agent_id, item.user_id)
    return replace(item, agent_id=agent_id, user_id=user_id)


def _optional_text(value: str | None, limit: int, argument: str) -> str | None:
    return None if value is None else validation.text(value, limit, argument)


def _datetime_or_none(value: datetime | None, argument: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise BadInput(f"`{argument}` must be a date-time with a time zone.", argument=argument)
    return value.astimezone(UTC)
