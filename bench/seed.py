"""Seeding through the public API: agents, memories (the ingest benchmark), relations.

Every seeding request must succeed: the first GraphQL error or transport
failure stops the run with ``SeedError``, since figures measured on a
half-seeded graph would mislead.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bench.corpus import MemorySpec
from bench.load import GraphQLClient, GraphQLFailure
from bench.stats import Summary

CREATE_AGENT = """
mutation($name: String!, $description: String, $metadata: JSON) {
  createAgent(name: $name, description: $description, metadata: $metadata) { id }
}"""
ADD_MEMORIES = """
mutation($inputs: [AddMemoryInput!]!) { addMemories(inputs: $inputs) { id } }"""
RELATE = """
mutation($source: ID!, $target: ID!, $type: String!, $weight: Float) {
  relate(sourceId: $source, targetId: $target, type: $type, weight: $weight) { id }
}"""
FIND = """
query($q: String!) { search(query: $q, mode: VECTOR, limit: 5) { memory { id } } }"""

T = TypeVar("T")


class SeedError(RuntimeError):
    """Seeding failed; the message says which request and why."""


@dataclass(frozen=True, slots=True)
class PlannedRelation:
    source: str
    target: str
    type: str
    weight: float


async def _pool(
    items: Sequence[T], concurrency: int, step: Callable[[int, T], Awaitable[None]]
) -> None:
    """Run ``step(i, item)`` for every item on ``concurrency`` workers; the first
    failure cancels the rest and is raised as it was."""
    queue = iter(enumerate(items))

    async def worker() -> None:
        for index, item in queue:
            await step(index, item)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, concurrency)):
                group.create_task(worker())
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None


async def create_agents(client: GraphQLClient, count: int, tag: str) -> tuple[list[str], Summary]:
    """Create ``count`` agents one after the other; their ids and the timing."""
    ids: list[str] = []
    latencies: list[float] = []
    began = time.perf_counter()
    for k in range(count):
        variables = {
            "name": f"bench-agent-{k:03d}-{tag}",
            "description": f"Benchmark agent {k} of run {tag}",
            "metadata": {"bench": tag, "index": k},
        }
        start = time.perf_counter()
        try:
            data = await client.data(CREATE_AGENT, variables)
        except GraphQLFailure as exc:
            raise SeedError(f"createAgent #{k} failed: {exc}") from exc
        latencies.append(time.perf_counter() - start)
        ids.append(str(data["createAgent"]["id"]))
    return ids, Summary.of("createAgent", latencies, time.perf_counter() - began)


async def ingest(
    client: GraphQLClient,
    specs: Sequence[MemorySpec],
    agent_ids: Sequence[str],
    batch: int,
    concurrency: int,
) -> tuple[list[str], Summary]:
    """Add every memory with ``addMemories`` in batches of ``batch``.

    Returns the memory ids in corpus order and a summary whose latencies are
    per batch request and whose rate is memories per second of wall time.
    """
    batches = [specs[i : i + batch] for i in range(0, len(specs), batch)]
    ids: list[list[str]] = [[] for _ in batches]
    latencies: list[float] = []

    async def step(index: int, chunk: Sequence[MemorySpec]) -> None:
        inputs = [spec.as_input(agent_ids[spec.agent]) for spec in chunk]
        start = time.perf_counter()
        try:
            data = await client.data(ADD_MEMORIES, {"inputs": inputs})
        except GraphQLFailure as exc:
            raise SeedError(f"addMemories batch #{index} failed: {exc}") from exc
        latencies.append(time.perf_counter() - start)
        added = data["addMemories"]
        if len(added) != len(chunk):
            raise SeedError(f"addMemories batch #{index}: sent {len(chunk)}, got {len(added)}")
        ids[index] = [str(m["id"]) for m in added]

    began = time.perf_counter()
    await _pool(batches, concurrency, step)
    elapsed = time.perf_counter() - began
    flat = [memory_id for chunk in ids for memory_id in chunk]
    if len(set(flat)) != len(specs):
        raise SeedError(
            f"{len(specs)} distinct memories sent but {len(set(flat))} distinct ids came back "
            "(the server merged some as duplicates; is --data-dir fresh?)"
        )
    name = f"addMemories, batch {batch}"
    return flat, Summary.of(name, latencies, elapsed, units=len(specs), unit="mem")


def plan_relations(
    by_agent: Sequence[Sequence[str]], per_memory: float, seed: int = 5
) -> list[PlannedRelation]:
    """The relations to add, in a shuffled order.

    ``FOLLOWS`` links every memory to the previous memory of its agent (about
    one per memory). Random ``SUPPORTS``/``CAUSES`` relations (60% within one
    agent, 40% across agents) bring the total to ``per_memory`` per memory,
    but always add at least 10% of the memory count. ``per_memory <= 0``
    plans nothing.
    """
    if per_memory <= 0:
        return []
    rng = random.Random(seed)
    plan = [
        PlannedRelation(later, earlier, "FOLLOWS", 1.0)
        for ids in by_agent
        for earlier, later in itertools.pairwise(ids)
    ]
    flat = [memory_id for ids in by_agent for memory_id in ids]
    groups = [ids for ids in by_agent if len(ids) >= 2]
    extra = max(round(per_memory * len(flat)) - len(plan), round(0.1 * len(flat)))
    if len(flat) < 2:
        extra = 0
    seen: set[tuple[str, str]] = set()
    while extra > 0:
        pool = rng.choice(groups) if groups and rng.random() < 0.6 else flat
        source, target = rng.sample(list(pool), 2)
        if (source, target) in seen:
            continue
        seen.add((source, target))
        kind = rng.choice(("SUPPORTS", "CAUSES"))
        plan.append(PlannedRelation(source, target, kind, round(rng.uniform(0.2, 1.0), 2)))
        extra -= 1
    rng.shuffle(plan)
    return plan


async def relate_all(
    client: GraphQLClient, plan: Sequence[PlannedRelation], concurrency: int
) -> Summary:
    """Add every planned relation with one ``relate`` mutation each."""
    latencies: list[float] = []

    async def step(index: int, relation: PlannedRelation) -> None:
        variables = {
            "source": relation.source,
            "target": relation.target,
            "type": relation.type,
            "weight": relation.weight,
        }
        start = time.perf_counter()
        try:
            await client.data(RELATE, variables)
        except GraphQLFailure as exc:
            raise SeedError(f"relate #{index} ({relation.type}) failed: {exc}") from exc
        latencies.append(time.perf_counter() - start)

    began = time.perf_counter()
    await _pool(plan, concurrency, step)
    return Summary.of("relate", latencies, time.perf_counter() - began, unit="rel")


async def wait_until_searchable(
    client: GraphQLClient, memory_id: str, content: str, timeout: float = 120.0
) -> float:
    """Seconds until a vector search for ``content`` finds ``memory_id``.

    Writes are indexed after they commit; measuring search before the index has
    caught up would time a smaller index. Raises ``SeedError`` on timeout.
    """
    began = time.perf_counter()
    while True:
        try:
            data = await client.data(FIND, {"q": content})
        except GraphQLFailure as exc:
            raise SeedError(f"search while waiting for the index failed: {exc}") from exc
        if any(hit["memory"]["id"] == memory_id for hit in data["search"]):
            return time.perf_counter() - began
        if time.perf_counter() - began > timeout:
            raise SeedError(f"the last memory was not searchable after {timeout:.0f} s")
        await asyncio.sleep(0.5)
