"""The root ``Mutation`` type. Each mutation is one transaction: on any
error nothing is written."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from resolvers.arguments import aware, given
from schema.apikeys import ApiKeyMutations
from schema.forget import forget
from schema.inputs import AddMemoryInput, UpdateMemoryInput
from schema.types import Agent, Ctx, Fact, Memory, Relation


@strawberry.type
class Mutation(ApiKeyMutations):
    forget = strawberry.mutation(
        resolver=forget,
        description=(
            "Erase a subject (all memories of `userId`, or the entity `entityId` with "
            "its facts) from the graph, the search index and the cache. Hard delete."
        ),
    )

    @strawberry.mutation
    async def create_agent(
        self,
        info: Ctx,
        name: str,
        description: str | None = None,
        metadata: JSON | None = None,
    ) -> Agent:
        ctx = info.context
        agent = await ctx.graph.memories.create_agent(
            ctx.tenant, name, description, metadata, ctx.scope
        )
        return Agent.wrap(agent)

    @strawberry.mutation(
        description="Add a memory. Content an agent already holds returns the existing memory."
    )
    async def add_memory(self, info: Ctx, input: AddMemoryInput) -> Memory:
        ctx = info.context
        (memory,) = await ctx.graph.memories.add(ctx.tenant, [input.to_domain()], ctx.scope)
        return Memory.wrap(memory)

    @strawberry.mutation(description="Add many memories in one transaction, in input order.")
    async def add_memories(self, info: Ctx, inputs: list[AddMemoryInput]) -> list[Memory]:
        ctx = info.context
        memories = await ctx.graph.memories.add(
            ctx.tenant, [i.to_domain() for i in inputs], ctx.scope
        )
        return [Memory.wrap(m) for m in memories]

    @strawberry.mutation(
        description=(
            "Write a new version of a memory (history keeps the old one). With "
            "`expectedVersion`, fails with CONFLICT unless it is the current version."
        )
    )
    async def update_memory(
        self,
        info: Ctx,
        id: strawberry.ID,
        input: UpdateMemoryInput,
        expected_version: int | None = None,
    ) -> Memory:
        ctx = info.context
        memory = await ctx.graph.memories.update(
            ctx.tenant, str(id), input.to_domain(), expected_version, ctx.scope
        )
        return Memory.wrap(memory)

    @strawberry.mutation(description="Soft-delete a memory; its history is kept.")
    async def delete_memory(self, info: Ctx, id: strawberry.ID) -> bool:
        ctx = info.context
        await ctx.graph.memories.delete(ctx.tenant, str(id), ctx.scope)
        return True

    @strawberry.mutation
    async def relate(
        self,
        info: Ctx,
        source_id: strawberry.ID,
        target_id: strawberry.ID,
        type: str,
        weight: float | None = 1.0,
        properties: JSON | None = None,
    ) -> Relation:
        ctx = info.context
        relation = await ctx.graph.relations.relate(
            ctx.tenant,
            str(source_id),
            str(target_id),
            type,
            given(weight, 1.0),
            properties,
            ctx.scope,
        )
        return Relation.wrap(relation)

    @strawberry.mutation
    async def unrelate(self, info: Ctx, id: strawberry.ID) -> bool:
        ctx = info.context
        await ctx.graph.relations.unrelate(ctx.tenant, str(id), ctx.scope)
        return True

    @strawberry.mutation(
        description=(
            "Record subject-predicate-object. `exclusive` closes the previous fact "
            "with the same subject and predicate instead of deleting it."
        )
    )
    async def add_fact(
        self,
        info: Ctx,
        subject: str,
        predicate: str,
        object: str,
        subject_kind: str | None = None,
        object_kind: str | None = None,
        exclusive: bool | None = False,
        valid_from: datetime | None = None,
        source_memory_id: strawberry.ID | None = None,
    ) -> Fact:
        ctx = info.context
        fact = await ctx.graph.facts.add_fact(
            ctx.tenant,
            subject,
            predicate,
            object,
            subject_kind=subject_kind,
            object_kind=object_kind,
            exclusive=given(exclusive, False),
            valid_from=aware(valid_from, "validFrom"),
            source_memory_id=None if source_memory_id is None else str(source_memory_id),
            scope=ctx.scope,
        )
        return Fact.wrap(fact)
