"""What row-level scope costs in the embedded store: the same reads with no
scope, an agent scope and a user scope, on one tenant of 20,000 memories
(20 agents, 50 users) with 5,000 relations.

    .venv/bin/python -m bench.row_scope [--memories 20000] [--runs 200]

Prints p50/p95/p99 per call in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.stats import percentile
from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.sets import BackendConfig, open_backends
from graph.model import Direction, MemoryFilter
from graph.ports import Backends, IndexQuery
from tests.support import HashingEmbedder, make_agent, make_memory, make_relation

TENANT = "bench"


async def _seed(backends: Backends, count: int) -> list[str]:
    rng = random.Random(7)
    agents = [make_agent(TENANT, f"agent {n}") for n in range(20)]
    for agent in agents:
        await backends.store.create_agent(agent)
    ids: list[str] = []
    for start in range(0, count, 1000):
        batch = [
            make_memory(
                TENANT,
                f"note {n} about {rng.choice(['tea', 'trains', 'taxes', 'tulips'])} {n * 7919}",
                agent_id=agents[n % 20].id,
                user_id=f"user-{n % 50}",
            )
            for n in range(start, min(start + 1000, count))
        ]
        await backends.store.insert_memories(batch)
        vectors = await backends.embedder.embed([m.content for m in batch])
        await backends.index.upsert(batch, vectors)
        ids += [m.id for m in batch]
    await backends.store.ack_index_work(
        [e.seq for e in await backends.store.pending_index_work(count * 2)]
    )
    for _ in range(5000):
        source, target = rng.sample(ids, 2)
        await backends.store.insert_relation(make_relation(TENANT, source, target))
    return ids


async def _time(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - began) * 1e3)
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--memories", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends = await open_backends(BackendConfig(Path(tmp)), HashingEmbedder())
        try:
            ids = await _seed(backends, args.memories)
            agent = (await backends.store.get_memories(TENANT, ids[:1]))[ids[0]].agent_id
            scopes = {
                "none": UNSCOPED,
                "agent": RowScope(agent_id=agent),
                "user": RowScope(user_id="user-0"),
            }
            store, index = backends.store, backends.index
            sample = ids[:: max(1, len(ids) // 20)][:20]
            vector = await backends.embedder.embed(["tulips and trains"])
            print(f"{'operation':<28} {'scope':<6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
            for name, scope in scopes.items():
                operations: dict[str, Callable[[], Awaitable[object]]] = {
                    "list_memories(first=20)": lambda s=scope: store.list_memories(
                        TENANT, MemoryFilter(), 20, None, s
                    ),
                    "count_memories": lambda s=scope: store.count_memories_for_agents(
                        TENANT, [None], MemoryFilter(), s
                    ),
                    "get_memories(20 ids)": lambda s=scope: store.get_memories(TENANT, sample, s),
                    "relations_of(20 ids)": lambda s=scope: store.relations_of(
                        TENANT, sample, Direction.BOTH, None, s
                    ),
                    "search keyword": lambda s=scope: index.search(
                        TENANT, IndexQuery("tulips trains", None, 0.0, MemoryFilter(), 10, s)
                    ),
                    "search hybrid": lambda s=scope: index.search(
                        TENANT, IndexQuery("tulips trains", vector, 0.5, MemoryFilter(), 10, s)
                    ),
                }
                for op, call in operations.items():
                    samples = await _time(call, args.runs)
                    print(
                        f"{op:<28} {name:<6} {percentile(samples, 50):>8.2f}"
                        f" {percentile(samples, 95):>8.2f} {percentile(samples, 99):>8.2f}"
                    )
        finally:
            await backends.close()


if __name__ == "__main__":
    asyncio.run(main())
