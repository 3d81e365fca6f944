"""Per-request dataloaders: every nested fetch is batched into one store call.

Keys that carry arguments (``first``, ``types``, a filter...) are grouped by
those arguments; each group is one batched call, so a nested query costs the
same number of store round trips whether it touches 10 items or 100.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import TypeVar

from aiodataloader import DataLoader

from graph import telemetry
from graph.access.scope import UNSCOPED, RowScope
from graph.memory_graph import MemoryGraph
from graph.model import (
    Agent,
    Direction,
    Entity,
    Fact,
    Memory,
    MemoryFilter,
    MemoryVersion,
    RelatedMemory,
    Relation,
)
from graph.services.relations import Node

K = TypeVar("K", bound=Hashable)
G = TypeVar("G", bound=Hashable)
V = TypeVar("V")


def _by_id(
    name: str, fetch: Callable[[list[K]], Awaitable[dict[K, V]]], default: V
) -> DataLoader[K, V]:
    async def load(keys: list[K]) -> list[V]:
        telemetry.recorder().batch(name, len(keys))
        with telemetry.span(f"dataloader.{name}", {"dataloader.batch_size": len(keys)}):
            found = await fetch(list(dict.fromkeys(keys)))
        return [found.get(key, default) for key in keys]

    return DataLoader(load)


def _grouped(
    name: str, fetch: Callable[[G, list[K]], Awaitable[dict[K, V]]], default: V
) -> DataLoader[tuple[G, K], V]:
    """A loader whose keys are ``(arguments, item)``: one fetch per distinct arguments."""

    async def load(keys: list[tuple[G, K]]) -> list[V]:
        telemetry.recorder().batch(name, len(keys))
        groups: dict[G, list[K]] = {}
        for group, item in keys:
            groups.setdefault(group, [])
            if item not in groups[group]:
                groups[group].append(item)
        with telemetry.span(f"dataloader.{name}", {"dataloader.batch_size": len(keys)}):
            results = {group: await fetch(group, items) for group, items in groups.items()}
        return [results[group].get(item, default) for group, item in keys]

    return DataLoader(load)


AgentPage = tuple[MemoryFilter, int, tuple[datetime, str] | None]
"""The arguments of ``Agent.memories``: filter (without agent), first, after."""


class Loaders:
    """The dataloaders of one request, scoped to one tenant and row scope."""

    def __init__(self, graph: MemoryGraph, tenant: str, scope: RowScope = UNSCOPED) -> None:
        store = graph.store
        self.agent: DataLoader[str, Agent | None] = _by_id(
            "agent", lambda ids: _widen(graph.memories.get_agents(tenant, ids, scope)), None
        )
        self.memory: DataLoader[str, Memory | None] = _by_id(
            "memory", lambda ids: _widen(store.get_memories(tenant, ids, scope)), None
        )
        self.entity: DataLoader[str, Entity | None] = _by_id(
            "entity", lambda ids: _widen(graph.facts.entities(tenant, ids)), None
        )
        self.node: DataLoader[str, Node | None] = _by_id(
            "node", lambda ids: _widen(graph.relations.get_nodes(tenant, ids, scope)), None
        )
        self.history: DataLoader[str, list[MemoryVersion]] = _by_id(
            "history", lambda ids: store.memory_history(tenant, ids, scope), []
        )
        self.entities_of_memory: DataLoader[str, list[Entity]] = _by_id(
            "entities_of_memory", lambda ids: graph.facts.entities_mentioned(tenant, ids, scope), []
        )

        async def relations(
            group: tuple[Direction, tuple[str, ...]], ids: list[str]
        ) -> dict[str, list[Relation]]:
            direction, types = group
            return await graph.relations.relations_of(tenant, ids, direction, types or None, scope)

        self.relations: DataLoader[tuple[tuple[Direction, tuple[str, ...]], str], list[Relation]]
        self.relations = _grouped("relations", relations, [])

        async def related(
            group: tuple[int, tuple[str, ...], int], ids: list[str]
        ) -> dict[str, list[RelatedMemory]]:
            depth, types, limit = group
            return await graph.relations.related(tenant, ids, depth, types or None, limit, scope)

        self.related: DataLoader[tuple[tuple[int, tuple[str, ...], int], str], list[RelatedMemory]]
        self.related = _grouped("related", related, [])

        async def agent_memories(group: AgentPage, ids: list[str]) -> dict[str, list[Memory]]:
            memory_filter, first, after = group
            return await store.list_memories_for_agents(
                tenant, ids, memory_filter, first, after, scope
            )

        self.agent_memories: DataLoader[tuple[AgentPage, str], list[Memory]]
        self.agent_memories = _grouped("agent_memories", agent_memories, [])

        async def counts(
            memory_filter: MemoryFilter, agent_ids: list[str | None]
        ) -> dict[str | None, int]:
            return await store.count_memories_for_agents(tenant, agent_ids, memory_filter, scope)

        self.count: DataLoader[tuple[MemoryFilter, str | None], int] = _grouped("count", counts, 0)

        async def entity_memories(first: int, ids: list[str]) -> dict[str, list[Memory]]:
            return await graph.facts.memories_mentioning(tenant, ids, first, scope)

        self.entity_memories: DataLoader[tuple[int, str], list[Memory]]
        self.entity_memories = _grouped("entity_memories", entity_memories, [])

        async def facts(as_of: datetime | None, ids: list[str]) -> dict[str, list[Fact]]:
            return await graph.facts.facts_for_entities(tenant, ids, as_of)

        self.facts: DataLoader[tuple[datetime | None, str], list[Fact]] = _grouped(
            "facts", facts, []
        )


async def _widen(found: Awaitable[dict[str, V]]) -> dict[str, V | None]:
    return dict(await found)
