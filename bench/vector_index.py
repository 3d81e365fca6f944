"""Benchmark: vector search latency of the embedded search index at 100k memories.

Inserts 100,000 random unit 384-d vectors for one tenant (10 agents, so an
agent filter matches ~10%), then prints p50/p95/p99 latency of an unfiltered
top-10 vector search and of one filtered by agent.

    .venv/bin/python bench/vector_index.py [--count 100000] [--queries 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.search import SqliteSearchIndex
from graph.model import Memory, MemoryFilter, MemoryLevel, MemoryType, Sensitivity
from graph.ports import IndexQuery, Vectors

DIMENSIONS = 384
TENANT = "bench"
AGENTS = [f"agt_{n:032x}" for n in range(10)]


def memory(number: int, at: datetime) -> Memory:
    return Memory(
        id=f"mem_{number:032x}",
        tenant=TENANT,
        agent_id=AGENTS[number % len(AGENTS)],
        user_id=None,
        session_id=None,
        type=MemoryType.EPISODIC,
        level=MemoryLevel.OPERATIONAL,
        content=f"benchmark memory number {number}",
        importance=0.5,
        tags=(),
        metadata=None,
        sensitivity=Sensitivity.INTERNAL,
        content_hash=f"{number:064x}",
        version=1,
        created_at=at,
        updated_at=at,
        valid_from=None,
        valid_to=None,
        recorded_at=at,
    )


def unit_vectors(rng: np.random.Generator, rows: int) -> Vectors:
    matrix = rng.standard_normal((rows, DIMENSIONS)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {cuts[49]:7.2f} ms   p95 {cuts[94]:7.2f} ms   p99 {cuts[98]:7.2f} ms"


async def timed_searches(
    index: SqliteSearchIndex, queries: Vectors, memory_filter: MemoryFilter
) -> list[float]:
    samples = []
    for vector in queries:
        query = IndexQuery(text="", vector=vector, alpha=1.0, memory_filter=memory_filter, limit=10)
        started = time.perf_counter()
        hits = await index.search(TENANT, query)
        samples.append((time.perf_counter() - started) * 1000)
        assert len(hits) == 10
    return samples


async def main(count: int, queries: int, batch: int) -> None:
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as folder:
        db = await SqliteDatabase.open(Path(folder) / "bench.db")
        index = SqliteSearchIndex(db, DIMENSIONS)
        start = datetime(2024, 1, 1, tzinfo=UTC)
        started = time.perf_counter()
        for first in range(0, count, batch):
            numbers = range(first, min(first + batch, count))
            memories = [memory(n, start + timedelta(milliseconds=n)) for n in numbers]
            await index.upsert(memories, unit_vectors(rng, len(memories)))
        print(f"upserted {count:,} vectors in {time.perf_counter() - started:.1f} s")

        probe = unit_vectors(rng, 1)[0]
        started = time.perf_counter()
        await timed_searches(index, probe[None, :], MemoryFilter())
        print(f"first search (loads the tenant's matrix): {(time.perf_counter() - started):.2f} s")

        query_vectors = unit_vectors(rng, queries)
        plain = await timed_searches(index, query_vectors, MemoryFilter())
        by_agent = await timed_searches(index, query_vectors, MemoryFilter(agent_id=AGENTS[3]))
        print(f"{queries} top-10 vector searches over {count:,} memories, {DIMENSIONS} dims:")
        print(f"  unfiltered          {percentiles(plain)}")
        print(f"  agent filter (~10%) {percentiles(by_agent)}")
        await index.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--batch", type=int, default=5_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.queries, arguments.batch))
