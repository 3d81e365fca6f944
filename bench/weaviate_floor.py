"""How close WeaviateSearchIndex.search comes to the raw weaviate-client call.

Indexes ``--memories`` benchmark memories (bench/corpus.py) with vectors from
the real MiniLM embedder into a Weaviate tenant, then times, for the same
queries and interleaved so both see the same machine load:

- ``agentmem``: embed the query + ``WeaviateSearchIndex.search`` (hybrid,
  alpha 0.5, limit 10), i.e. what the search service asks of the index;
- ``floor``: embed the query + one raw ``collection.query.hybrid`` call that
  returns the same data (memory id, fused score, explain score);
- the same two without the embedding (``index only``), where the adapter's
  own overhead shows most; once more with the floor sending the adapter's
  query words (stop words dropped, as AgentMem does) instead of the raw text,
  which isolates the adapter's overhead; and a filtered variant (one agent).

Prints p50/p95 per line and the agentmem/floor ratios. Reads
``AGENTMEM_WEAVIATE_URL`` and ``AGENTMEM_WEAVIATE_GRPC_PORT``; uses its own
collection (``AgentMemBench``) and drops it at the end unless ``--keep``.

    python -m bench.weaviate_floor [--memories 10000] [--runs 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from weaviate.classes.query import Filter, HybridFusion, MetadataQuery

from bench.corpus import memories as corpus_memories
from bench.corpus import queries as corpus_queries
from graph.adapters.weaviate.index import VECTOR_NAME, WeaviateSearchIndex, open_weaviate_index
from graph.adapters.weaviate.mapping import query_terms
from graph.embedding import create_embedder
from graph.model import MemoryFilter, MemoryLevel, MemoryType
from graph.ports import Embedder, IndexQuery
from tests.support import make_memory

COLLECTION = "AgentMemBench"
TENANT = "bench"
AGENTS = 50


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def seed(index: WeaviateSearchIndex, embedder: Embedder, count: int) -> list[str]:
    specs = corpus_memories(count, AGENTS)
    agent_ids = [f"agt_{n:032x}" for n in range(AGENTS)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    embed_seconds = 0.0
    for offset in range(0, len(specs), 500):
        chunk = specs[offset : offset + 500]
        memories = [
            make_memory(
                TENANT,
                spec.content,
                at=start + timedelta(seconds=offset + n),
                agent_id=agent_ids[spec.agent],
                user_id=spec.user_id,
                session_id=spec.session_id,
                type=MemoryType(spec.type),
                level=MemoryLevel(spec.level),
                tags=spec.tags,
                importance=spec.importance,
            )
            for n, spec in enumerate(chunk)
        ]
        t0 = time.perf_counter()
        vectors = await embedder.embed([m.content for m in memories])
        embed_seconds += time.perf_counter() - t0
        await index.upsert(memories, vectors)
    total = time.perf_counter() - started
    print(
        f"seeded {count} memories in {total:.1f} s "
        f"(embedding {embed_seconds:.1f} s, indexing {total - embed_seconds:.1f} s)"
    )
    return agent_ids


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the collection afterwards")
    args = parser.parse_args()
    url = os.environ.get("AGENTMEM_WEAVIATE_URL", "http://127.0.0.1:18080")
    grpc_port = int(os.environ.get("AGENTMEM_WEAVIATE_GRPC_PORT", "15051"))

    embedder = create_embedder("minilm")
    index = await open_weaviate_index(url, grpc_port, embedder.dimensions, collection=COLLECTION)
    try:
        have = await index.indexed_versions(TENANT)
        if len(have) != args.memories:
            await index.drop_all_tenants()
            agent_ids = await seed(index, embedder, args.memories)
        else:
            agent_ids = [f"agt_{n:032x}" for n in range(AGENTS)]
            print(f"reusing {len(have)} indexed memories")
        await run(index, embedder, agent_ids, args.runs)
    finally:
        if not args.keep:
            await index._client.collections.delete(COLLECTION)
        await index.close()
        await embedder.close()


async def run(
    index: WeaviateSearchIndex, embedder: Embedder, agent_ids: list[str], runs: int
) -> None:
    raw = index._tenant(TENANT)  # the same client and tenant handle: only the adapter differs
    texts = corpus_queries(runs + 20)
    rng = random.Random(5)
    agents = [rng.choice(agent_ids) for _ in texts]
    vectors = await embedder.embed(texts)
    terms = [query_terms(text) for text in texts]
    floor_words = {"same_terms": False}

    async def agentmem(i: int, embed: bool, agent: bool) -> Any:
        vector = (await embedder.embed([texts[i]]))[0] if embed else vectors[i]
        memory_filter = MemoryFilter(agent_id=agents[i]) if agent else MemoryFilter()
        return await index.search(TENANT, IndexQuery(texts[i], vector, 0.5, memory_filter, 10))

    async def floor(i: int, embed: bool, agent: bool) -> Any:
        vector = (await embedder.embed([texts[i]]))[0] if embed else vectors[i]
        return await raw.query.hybrid(
            query=terms[i] if floor_words["same_terms"] else texts[i],
            vector=vector.tolist(),
            alpha=0.5,
            fusion_type=HybridFusion.RELATIVE_SCORE,
            target_vector=VECTOR_NAME,
            query_properties=["content"],
            filters=Filter.by_property("agent_id").equal(agents[i]) if agent else None,
            limit=10,
            return_metadata=MetadataQuery(score=True, explain_score=True),
            return_properties=["memory_id"],
        )

    Case = Callable[[int, bool, bool], Awaitable[Any]]
    cases: list[tuple[str, bool, bool, bool]] = [
        ("hybrid + query embedding", True, False, False),
        ("hybrid, index only", False, False, False),
        ("hybrid, index only, floor w/ same terms", False, False, True),
        ("hybrid + embedding, agent filter", True, True, False),
    ]
    print(f"\n{'line':<46}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for label, embed, agent, same_terms in cases:
        floor_words["same_terms"] = same_terms
        samples: dict[str, list[float]] = {"agentmem": [], "floor": []}
        order: list[tuple[str, Case]] = [("agentmem", agentmem), ("floor", floor)]
        for i in range(len(texts)):
            order.reverse()  # alternate who goes first
            for name, call in order:
                t0 = time.perf_counter()
                await call(i, embed, agent)
                if i >= 20:  # the first 20 warm up connections and caches
                    samples[name].append((time.perf_counter() - t0) * 1000)
        for name in ("agentmem", "floor"):
            ms = samples[name]
            print(
                f"{label + ' / ' + name:<46}"
                + f"{pct(ms, 50):>9.2f}{pct(ms, 95):>9.2f}{statistics.fmean(ms):>9.2f}"
            )
        a, f = samples["agentmem"], samples["floor"]
        print(
            f"{'  ratio agentmem/floor':<46}{pct(a, 50) / pct(f, 50):>9.2f}"
            f"{pct(a, 95) / pct(f, 95):>9.2f}{statistics.fmean(a) / statistics.fmean(f):>9.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
