"""GraphQL object types. Each wraps a domain object; nested fields load
through the request's dataloaders, so no type performs I/O of its own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph import model
from graph.access.rules import AGENT_METADATA, MEMORY_CONTENT, MEMORY_METADATA, VERSION_CONTENT
from graph.errors import BadInput, NotFound
from resolvers.arguments import aware, given, types_key
from resolvers.context import RequestContext
from schema.enums import Direction, MemoryEventKind, MemoryLevel, MemoryType, Sensitivity
from schema.inputs import MemoryFilter

Ctx = Info[RequestContext, None]


@strawberry.interface
class Node:
    """An object with a global id, fetchable through ``node(id:)``."""

    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, page: model.Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )


@strawberry.type
class Agent(Node):
    name: str
    description: str | None
    created_at: datetime
    raw_metadata: strawberry.Private[model.JSONValue]

    @classmethod
    def wrap(cls, agent: model.Agent) -> Agent:
        return cls(
            id=strawberry.ID(agent.id),
            name=agent.name,
            description=agent.description,
            raw_metadata=agent.metadata,
            created_at=agent.created_at,
        )

    @strawberry.field(description="Null unless the caller may read metadata (`metadata:read`).")
    def metadata(self, info: Ctx) -> JSON | None:
        value: JSON | None = info.context.reveal.json(
            AGENT_METADATA, self.id, None, self.raw_metadata
        )
        return value

    @strawberry.field(description="This agent's memories, newest first.")
    async def memories(
        self,
        info: Ctx,
        filter: MemoryFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> MemoryConnection:
        ctx = info.context
        first = given(first, 20)
        base = (filter.to_domain() if filter else model.MemoryFilter()).with_agent(None)
        position = ctx.graph.memories.cursor_position(after)
        ctx.graph.memories.check_page_size(first)
        rows = await ctx.loaders.agent_memories.load(((base, first, position), str(self.id)))
        return MemoryConnection.wrap(
            ctx.graph.memories.page(rows, first), base.with_agent(str(self.id))
        )


@strawberry.type
class MemoryVersion:
    version: int
    recorded_at: datetime
    expired_at: datetime | None
    raw_content: strawberry.Private[str]
    memory: strawberry.Private[model.Memory]
    """The memory this is a version of: field rules look at its type and sensitivity."""

    @strawberry.field(description="Null when the caller may not read it; personal data masked.")
    def content(self, info: Ctx) -> str | None:
        memory = self.memory
        return info.context.reveal.text(VERSION_CONTENT, memory.id, memory, self.raw_content)


@strawberry.type
class Memory(Node):
    user_id: str | None
    session_id: str | None
    type: MemoryType
    level: MemoryLevel
    importance: float
    tags: list[str]
    sensitivity: Sensitivity
    version: int
    created_at: datetime
    updated_at: datetime
    valid_from: datetime | None
    valid_to: datetime | None
    agent_id: strawberry.Private[str | None]
    record: strawberry.Private[model.Memory]

    @classmethod
    def wrap(cls, memory: model.Memory) -> Memory:
        return cls(
            id=strawberry.ID(memory.id),
            record=memory,
            agent_id=memory.agent_id,
            user_id=memory.user_id,
            session_id=memory.session_id,
            type=memory.type,
            level=memory.level,
            importance=memory.importance,
            tags=list(memory.tags),
            sensitivity=memory.sensitivity,
            version=memory.version,
            created_at=memory.created_at,
            updated_at=memory.updated_at,
            valid_from=memory.valid_from,
            valid_to=memory.valid_to,
        )

    @strawberry.field(description="Null when the caller may not read it; personal data masked.")
    def content(self, info: Ctx) -> str | None:
        memory = self.record
        return info.context.reveal.text(MEMORY_CONTENT, memory.id, memory, memory.content)

    @strawberry.field(description="Null unless the caller may read metadata (`metadata:read`).")
    def metadata(self, info: Ctx) -> JSON | None:
        memory = self.record
        value: JSON | None = info.context.reveal.json(
            MEMORY_METADATA, memory.id, memory, memory.metadata
        )
        return value

    @strawberry.field
    async def agent(self, info: Ctx) -> Agent | None:
        if self.agent_id is None:
            return None
        agent = await info.context.loaders.agent.load(self.agent_id)
        return Agent.wrap(agent) if agent else None

    @strawberry.field(description="Every version of this memory, oldest first.")
    async def history(self, info: Ctx) -> list[MemoryVersion]:
        versions = await info.context.loaders.history.load(str(self.id))
        return [
            MemoryVersion(
                version=v.version,
                raw_content=v.content,
                memory=self.record,
                recorded_at=v.recorded_at,
                expired_at=v.expired_at,
            )
            for v in versions
        ]

    @strawberry.field
    async def relations(
        self,
        info: Ctx,
        direction: Direction | None = model.Direction.BOTH,
        types: list[str] | None = None,
        first: int | None = 20,
    ) -> list[Relation]:
        direction = given(direction, model.Direction.BOTH)
        first = given(first, 20)
        info.context.graph.memories.check_page_size(first)
        key = ((direction, types_key(types)), str(self.id))
        found = await info.context.loaders.relations.load(key)
        return [Relation.wrap(r) for r in found[:first]]

    @strawberry.field(description="Memories up to `depth` relation hops away, nearest first.")
    async def related(
        self,
        info: Ctx,
        depth: int | None = 1,
        types: list[str] | None = None,
        limit: int | None = 20,
    ) -> list[RelatedMemory]:
        depth = given(depth, 1)
        limit = given(limit, 20)
        limits = info.context.graph.limits
        if not 1 <= depth <= limits.max_depth:
            raise BadInput(f"`depth` must be between 1 and {limits.max_depth}.", argument="depth")
        if not 0 <= limit <= limits.max_related:
            raise BadInput(f"`limit` must be between 0 and {limits.max_related}.", argument="limit")
        key = ((depth, types_key(types), limit), str(self.id))
        found = await info.context.loaders.related.load(key)
        return [
            RelatedMemory(
                memory=Memory.wrap(item.memory),
                distance=item.distance,
                via=[Relation.wrap(r) for r in item.via],
            )
            for item in found
        ]

    @strawberry.field(description="Entities this memory mentions.")
    async def entities(self, info: Ctx) -> list[Entity]:
        found = await info.context.loaders.entities_of_memory.load(str(self.id))
        return [Entity.wrap(e) for e in found]


@strawberry.type
class Relation(Node):
    type: str
    weight: float
    properties: JSON | None
    valid_from: datetime | None
    valid_to: datetime | None
    created_at: datetime
    source_id: strawberry.Private[str]
    target_id: strawberry.Private[str]

    @classmethod
    def wrap(cls, relation: model.Relation) -> Relation:
        return cls(
            id=strawberry.ID(relation.id),
            type=relation.type,
            weight=relation.weight,
            properties=relation.properties,
            valid_from=relation.valid_from,
            valid_to=relation.valid_to,
            created_at=relation.created_at,
            source_id=relation.source_id,
            target_id=relation.target_id,
        )

    @strawberry.field
    async def source(self, info: Ctx) -> Node:
        return await load_node(info, self.source_id)

    @strawberry.field
    async def target(self, info: Ctx) -> Node:
        return await load_node(info, self.target_id)


@strawberry.type
class RelatedMemory:
    memory: Memory
    distance: int
    via: list[Relation]


@strawberry.type
class Entity(Node):
    name: str
    kind: str
    summary: str | None
    aliases: list[str]

    @classmethod
    def wrap(cls, entity: model.Entity) -> Entity:
        return cls(
            id=strawberry.ID(entity.id),
            name=entity.name,
            kind=entity.kind,
            summary=entity.summary,
            aliases=list(entity.aliases),
        )

    @strawberry.field(description="Memories that mention this entity.")
    async def memories(self, info: Ctx, first: int | None = 20) -> list[Memory]:
        first = given(first, 20)
        info.context.graph.memories.check_page_size(first)
        found = await info.context.loaders.entity_memories.load((first, str(self.id)))
        return [Memory.wrap(m) for m in found]

    @strawberry.field(description="Facts about this entity that hold at `asOf` (default: now).")
    async def facts(self, info: Ctx, as_of: datetime | None = None) -> list[Fact]:
        moment = aware(as_of, "asOf")
        found = await info.context.loaders.facts.load((moment, str(self.id)))
        return [Fact.wrap(f) for f in found]


@strawberry.type
class Fact(Node):
    predicate: str
    valid_from: datetime | None
    valid_to: datetime | None
    subject_id: strawberry.Private[str]
    object_id: strawberry.Private[str]
    source_memory_id: strawberry.Private[str | None]

    @classmethod
    def wrap(cls, fact: model.Fact) -> Fact:
        return cls(
            id=strawberry.ID(fact.id),
            predicate=fact.predicate,
            valid_from=fact.valid_from,
            valid_to=fact.valid_to,
            subject_id=fact.subject_id,
            object_id=fact.object_id,
            source_memory_id=fact.source_memory_id,
        )

    @strawberry.field
    async def subject(self, info: Ctx) -> Entity:
        return await _entity(info, self.subject_id)

    @strawberry.field(name="object")
    async def object_(self, info: Ctx) -> Entity:
        return await _entity(info, self.object_id)

    @strawberry.field
    async def source(self, info: Ctx) -> Memory | None:
        if self.source_memory_id is None:
            return None
        memory = await info.context.loaders.memory.load(self.source_memory_id)
        return Memory.wrap(memory) if memory else None


@strawberry.type
class SearchHit:
    memory: Memory
    score: float
    keyword_score: float | None
    vector_score: float | None


@strawberry.type
class MemoryEdge:
    cursor: str
    node: Memory


@strawberry.type
class MemoryConnection:
    edges: list[MemoryEdge]
    page_info: PageInfo
    count_filter: strawberry.Private[model.MemoryFilter]

    @classmethod
    def wrap(
        cls, page: model.Page[model.Memory], count_filter: model.MemoryFilter
    ) -> MemoryConnection:
        edges = [
            MemoryEdge(cursor=c, node=Memory.wrap(m))
            for c, m in zip(page.cursors, page.items, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.of(page), count_filter=count_filter)

    @strawberry.field(description="How many memories match, across all pages.")
    async def total_count(self, info: Ctx) -> int | None:
        agent_id = self.count_filter.agent_id
        key = (self.count_filter.with_agent(None), agent_id)
        return await info.context.loaders.count.load(key)


@strawberry.type
class AgentEdge:
    cursor: str
    node: Agent


@strawberry.type
class AgentConnection:
    edges: list[AgentEdge]
    page_info: PageInfo

    @classmethod
    def wrap(cls, page: model.Page[model.Agent]) -> AgentConnection:
        edges = [
            AgentEdge(cursor=c, node=Agent.wrap(a))
            for c, a in zip(page.cursors, page.items, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type
class Subgraph:
    nodes: list[Node]
    relations: list[Relation]


@strawberry.type
class MemoryEvent:
    kind: MemoryEventKind
    memory: Memory
    at: datetime


def wrap_node(node: object) -> Node:
    """The GraphQL type for a domain node of any kind."""
    if isinstance(node, model.Memory):
        return Memory.wrap(node)
    if isinstance(node, model.Agent):
        return Agent.wrap(node)
    if isinstance(node, model.Entity):
        return Entity.wrap(node)
    if isinstance(node, model.Relation):
        return Relation.wrap(node)
    if isinstance(node, model.Fact):
        return Fact.wrap(node)
    raise TypeError(f"not a node: {type(node).__name__}")


async def load_node(info: Ctx, node_id: str) -> Node:
    node = await info.context.loaders.node.load(node_id)
    if node is None:
        raise NotFound(f"No node with id {node_id!r}.", id=node_id)
    return wrap_node(node)


async def _entity(info: Ctx, entity_id: str) -> Entity:
    entity = await info.context.loaders.entity.load(entity_id)
    if entity is None:
        raise NotFound(f"No entity with id {entity_id!r}.", id=entity_id)
    return Entity.wrap(entity)
