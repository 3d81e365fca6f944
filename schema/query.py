"""The root ``Query`` type."""

from __future__ import annotations

import strawberry

from graph.model import SearchMode as DomainSearchMode
from graph.services.search import SearchRequest
from resolvers.arguments import given
from schema.apikeys import ApiKeyQueries
from schema.audit import AuditQueries
from schema.enums import SearchMode
from schema.inputs import MemoryFilter, memory_filter
from schema.types import (
    Agent,
    AgentConnection,
    Ctx,
    Entity,
    Memory,
    MemoryConnection,
    Node,
    Relation,
    SearchHit,
    Subgraph,
    wrap_node,
)


@strawberry.type
class Query(ApiKeyQueries, AuditQueries):
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Ctx, id: strawberry.ID) -> Node | None:
        found = await info.context.loaders.node.load(str(id))
        return wrap_node(found) if found is not None else None

    @strawberry.field
    async def agent(self, info: Ctx, id: strawberry.ID) -> Agent | None:
        found = await info.context.loaders.agent.load(str(id))
        return Agent.wrap(found) if found else None

    @strawberry.field(description="Agents, newest first.")
    async def agents(
        self, info: Ctx, first: int | None = 20, after: str | None = None
    ) -> AgentConnection:
        ctx = info.context
        page = await ctx.graph.memories.list_agents(ctx.tenant, given(first, 20), after, ctx.scope)
        return AgentConnection.wrap(page)

    @strawberry.field
    async def memory(self, info: Ctx, id: strawberry.ID) -> Memory | None:
        found = await info.context.loaders.memory.load(str(id))
        return Memory.wrap(found) if found else None

    @strawberry.field(description="Memories matching a filter, newest first, keyset-paged.")
    async def memories(
        self,
        info: Ctx,
        filter: MemoryFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> MemoryConnection:
        ctx = info.context
        domain_filter = memory_filter(filter)
        page = await ctx.graph.memories.list_memories(
            ctx.tenant, domain_filter, given(first, 20), after, ctx.scope
        )
        return MemoryConnection.wrap(page, domain_filter)

    @strawberry.field(
        description=(
            "Hybrid keyword + vector search. `alpha` 0 = keyword only, 1 = vector only; "
            "`expand: n` adds memories up to n relation hops from the hits."
        )
    )
    async def search(
        self,
        info: Ctx,
        query: str,
        mode: SearchMode | None = DomainSearchMode.HYBRID,
        alpha: float | None = None,
        filter: MemoryFilter | None = None,
        limit: int | None = 10,
        expand: int | None = 0,
    ) -> list[SearchHit]:
        ctx = info.context
        request = SearchRequest(
            query,
            given(mode, DomainSearchMode.HYBRID),
            alpha,
            memory_filter(filter),
            given(limit, 10),
            given(expand, 0),
        )
        results = await ctx.graph.search.search(ctx.tenant, request, rows=ctx.scope)
        if results.degraded:
            ctx.degraded.add("search")
        return [
            SearchHit(
                memory=Memory.wrap(h.memory),
                score=h.score,
                keyword_score=h.keyword_score,
                vector_score=h.vector_score,
            )
            for h in results.hits
        ]

    @strawberry.field
    async def entity(self, info: Ctx, id: strawberry.ID) -> Entity | None:
        found = await info.context.loaders.entity.load(str(id))
        return Entity.wrap(found) if found else None

    @strawberry.field(description="The neighbourhood of some nodes, up to `depth` hops.")
    async def subgraph(
        self, info: Ctx, ids: list[strawberry.ID], depth: int | None = 1, limit: int | None = 200
    ) -> Subgraph:
        ctx = info.context
        found = await ctx.graph.relations.subgraph(
            ctx.tenant, [str(i) for i in ids], given(depth, 1), given(limit, 200), ctx.scope
        )
        return Subgraph(
            nodes=[wrap_node(n) for n in found.nodes],
            relations=[Relation.wrap(r) for r in found.relations],
        )


__all__ = ["Query"]
