"""The root ``Subscription`` type."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from graph import telemetry
from graph.errors import NotFound
from schema.enums import MemoryType
from schema.types import Ctx, Memory, MemoryEvent


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Memory changes from now on, optionally for one agent and some types."
    )
    async def memory_events(
        self,
        info: Ctx,
        agent_id: strawberry.ID | None = None,
        types: list[MemoryType] | None = None,
    ) -> AsyncGenerator[MemoryEvent, None]:
        ctx = info.context
        if agent_id is not None and await ctx.loaders.agent.load(str(agent_id)) is None:
            raise NotFound(f"No agent with id {str(agent_id)!r}.", id=str(agent_id))
        events = ctx.graph.events.memory_events(
            ctx.tenant, None if agent_id is None else str(agent_id), types, ctx.scope
        )
        telemetry.recorder().subscriptions(1)
        try:
            subscription = telemetry.current_link()
            async for event in events:
                with telemetry.span(
                    "memory_event.deliver",
                    {"memory_event.kind": event.kind.value},
                    parent=telemetry.context_from(event.trace_context),
                    links=() if subscription is None else (subscription,),
                ):
                    delivered = MemoryEvent(
                        kind=event.kind, memory=Memory.wrap(event.memory), at=event.at
                    )
                yield delivered
        finally:
            telemetry.recorder().subscriptions(-1)
            await events.aclose()
