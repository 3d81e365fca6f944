"""Nested queries cost a fixed number of store round trips, however many
items they touch: every nested fetch goes through a batching dataloader."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from graph.memory_graph import MemoryGraph
from graph.ports import Backends
from graph.services.memories import NewMemory
from resolvers.context import RequestContext
from tests.api.conftest import SCHEMA, ok

NESTED = """
query($n: Int) {
  agents(first: $n) {
    edges { node { name
      memories(first: 3) { totalCount edges { node { id content agent { id }
        relations(first: 5) { type source { id } target { id } }
        related(depth: 2, limit: 5) { distance memory { id history { version } } }
        entities { name }
      } } }
    } }
  }
}"""


class CountingStore:
    """Forwards to a real store and counts every call by method name."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        target = getattr(self._store, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return target(*args, **kwargs)

        return counted


async def seed(graph: MemoryGraph, tenant: str, agents: int) -> None:
    for i in range(agents):
        agent = await graph.memories.create_agent(tenant, f"agent {i}", None, None)
        memories = await graph.memories.add(
            tenant,
            [NewMemory(content=f"agent {i} memory {j}", agent_id=agent.id) for j in range(3)],
        )
        for a, b in itertools.pairwise(memories):
            await graph.relations.relate(tenant, a.id, b.id, "FOLLOWS", 1.0, None)
        await graph.facts.add_fact(
            tenant, f"Person {i}", "KNOWS", "Ada", source_memory_id=memories[0].id
        )


async def round_trips(
    graph: MemoryGraph, counting: CountingStore, agents: int
) -> tuple[Counter[str], int]:
    tenant = f"tenant-{agents}"
    await seed(graph, tenant, agents)
    counting.calls.clear()
    context = RequestContext.create(graph, tenant)
    result = await SCHEMA.execute(NESTED, variable_values={"n": agents}, context_value=context)
    data = ok({"data": result.data, **({"errors": result.errors} if result.errors else {})})
    assert len(data["agents"]["edges"]) == agents
    related = data["agents"]["edges"][0]["node"]["memories"]["edges"][0]["node"]["related"]
    assert [r["distance"] for r in related] == [1, 2]
    return Counter(counting.calls), sum(counting.calls.values())


async def test_nested_query_round_trips_do_not_grow_with_item_count(backends: Backends) -> None:
    counting = CountingStore(backends.store)
    graph = MemoryGraph(replace(backends, store=counting))  # type: ignore[arg-type]
    small_calls, small = await round_trips(graph, counting, 10)
    large_calls, large = await round_trips(graph, counting, 100)
    assert small > 0
    assert large == small, (
        f"10 agents took {small} store calls {dict(small_calls)}, "
        f"100 took {large} {dict(large_calls)}"
    )
