"""Live memory events for subscribers, filtered per subscriber."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from graph.access.scope import UNSCOPED, RowScope
from graph.model import MemoryEvent, MemoryType
from graph.ports import EventBus


class EventService:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def memory_events(
        self,
        tenant: str,
        agent_id: str | None,
        types: Sequence[MemoryType] | None,
        scope: RowScope = UNSCOPED,
    ) -> AsyncGenerator[MemoryEvent, None]:
        """Events of one tenant from now on, optionally for one agent and some
        types; only events of memories inside ``scope``."""
        wanted = frozenset(types or ())
        stream = self._bus.subscribe()
        try:
            async for event in stream:
                memory = event.memory
                if memory.tenant != tenant or not scope.admits(memory):
                    continue
                if agent_id is not None and memory.agent_id != agent_id:
                    continue
                if wanted and memory.type not in wanted:
                    continue
                yield event
        finally:
            await stream.aclose()
