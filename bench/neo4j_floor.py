"""How close the store-served nested query comes to its raw-Cypher floor on Neo4j.

Seeds one tenant with agents, memories and ``FOLLOWS`` relations chaining each
agent's memories, then times, for random agents:

- ``store``: what the GraphQL nested query asks of the graph store, as the
  services run it (per-agent page of 20, ``relations_of`` for the page, a
  depth-2 ``related`` walk = two ``relations_of`` rounds + ``get_memories``);
- ``graphql``: that nested query executed in-process through the real schema
  (Neo4j store; the other ports embedded/in-process, as in the ``neo4j`` set);
- ``floor``: ONE hand-written Cypher statement returning the same data as one
  record with integer times (``floor-rows``: the same statement returning a
  record per memory with DateTime values, as one might first write it).

Prints p50/p95 per line. Reads ``AGENTMEM_NEO4J_URI``/``_USER``/``_PASSWORD``;
the seeded tenant is removed afterwards (``--keep`` keeps it).

    python -m bench.neo4j_floor [--memories 10000] [--agents 50] [--runs 300]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graph.adapters.neo4j.store import Neo4jGraphStore, Neo4jSettings
from graph.adapters.sets import BackendConfig, open_backends
from graph.memory_graph import MemoryGraph
from graph.model import Direction, MemoryFilter
from graph.ports import Backends
from graph.resilience import unwrap
from graph.services.relations import RelationService
from resolvers.context import RequestContext
from schema.build import build_schema
from tests.support import HashingEmbedder, make_agent, make_memory, make_relation

LOCK = Path(tempfile.gettempdir()) / "agentmem-neo4j-tests.lock"
"""The lock test sessions that wipe the shared Neo4j hold (tests/conftest.py)."""
PAGE = 20
DEPTH = 2

NESTED = """
query($id: ID!) {
  agent(id: $id) {
    memories(first: 20) {
      edges { node {
        id content createdAt
        relations { id type weight source { id } target { id } }
        related(depth: 2, limit: 20) { distance memory { id content } via { id } }
      } }
    }
  }
}"""

FLOOR = """
MATCH (m:Memory)
WHERE m.tenant = $tenant AND m.agent_id = $agent AND m.deleted_at IS NULL
  AND m.created_at IS NOT NULL
WITH m ORDER BY m.created_at DESC, m.id DESC LIMIT $limit
CALL (m) {
  OPTIONAL MATCH (m)-[r:RELATES]-(o)
  WHERE r.tenant = $tenant AND r.deleted_at IS NULL AND o.deleted_at IS NULL
  RETURN collect(r {.id, .type, .weight, .created_at, source: startNode(r).id,
                    target: endNode(r).id}) AS relations
}
CALL (m) {
  OPTIONAL MATCH path = (m)-[:RELATES*1..2]-(x:Memory)
  WHERE x <> m AND x.deleted_at IS NULL
    AND all(r IN relationships(path) WHERE r.tenant = $tenant AND r.deleted_at IS NULL)
  WITH x, min(length(path)) AS distance, head(collect([r IN relationships(path) | r.id])) AS via
  ORDER BY distance LIMIT 20
  RETURN collect(CASE WHEN x IS NULL THEN null ELSE
    {distance: distance, via: via, memory: x {.id, .content}} END) AS related
}
RETURN m {.id, .content, .created_at} AS memory, relations, related
"""


FLOOR_TUNED = """
MATCH (m:Memory)
WHERE m.tenant = $tenant AND m.agent_id = $agent AND m.deleted_at IS NULL
  AND m.created_at IS NOT NULL
WITH m ORDER BY m.tenant DESC, m.agent_id DESC, m.created_at DESC, m.id DESC LIMIT $limit
CALL (m) {
  OPTIONAL MATCH (m)-[r:RELATES]-(o)
  WHERE r.tenant = $tenant AND r.deleted_at IS NULL AND o.deleted_at IS NULL
  RETURN collect(r {.id, .type, .weight,
                    created_at: r.created_at.epochSeconds * 1000000 + r.created_at.microsecond,
                    source: startNode(r).id, target: endNode(r).id}) AS relations
}
CALL (m) {
  OPTIONAL MATCH path = (m)-[:RELATES*1..2]-(x:Memory)
  WHERE x <> m AND x.deleted_at IS NULL
    AND all(r IN relationships(path) WHERE r.tenant = $tenant AND r.deleted_at IS NULL)
  WITH x, min(length(path)) AS distance, head(collect([r IN relationships(path) | r.id])) AS via
  ORDER BY distance LIMIT 20
  RETURN collect(CASE WHEN x IS NULL THEN null ELSE
    {distance: distance, via: via, memory: x {.id, .content}} END) AS related
}
RETURN collect({memory: m {.id, .content,
                created_at: m.created_at.epochSeconds * 1000000 + m.created_at.microsecond},
                relations: relations, related: related}) AS rows
"""
"""The same statement returning one record, times as integers (what the
store's own queries do): the tighter floor."""


def settings_from_env() -> Neo4jSettings:
    names = ("AGENTMEM_NEO4J_URI", "AGENTMEM_NEO4J_USER", "AGENTMEM_NEO4J_PASSWORD")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise SystemExit(f'set {", ".join(missing)} (eval "$(deploy/local/services env)")')
    uri, user, password = (os.environ[name] for name in names)
    return Neo4jSettings(uri, user, password, os.environ.get("AGENTMEM_NEO4J_DATABASE") or None)


async def seed(store: Neo4jGraphStore, tenant: str, memories: int, agents: int) -> list[str]:
    """Agents, their memories (1 ms apart) and a FOLLOWS chain per agent."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    agent_ids = []
    for n in range(agents):
        agent = make_agent(tenant, f"agent {n}", at=start)
        await store.create_agent(agent)
        agent_ids.append(agent.id)
    previous: dict[str, str] = {}
    batch, relations = [], []
    for n in range(memories):
        agent_id = agent_ids[n % agents]
        at = start + timedelta(milliseconds=n)
        memory = make_memory(tenant, f"memory {n} of {agent_id}", at=at, agent_id=agent_id)
        batch.append(memory)
        if agent_id in previous:
            relations.append(make_relation(tenant, memory.id, previous[agent_id], "FOLLOWS", at=at))
        previous[agent_id] = memory.id
        if len(batch) == 500:
            await store.insert_memories(batch)
            batch = []
    if batch:
        await store.insert_memories(batch)
    for i in range(0, len(relations), 1000):
        chunk = relations[i : i + 1000]
        await store._transact(True, lambda tx, c=chunk: store._insert_relations(tx, c))
    return agent_ids


async def remove(store: Neo4jGraphStore, tenant: str) -> None:
    query = (
        "MATCH (n) WHERE (n:Node OR n:MemoryVersion OR n:OutboxEntry) AND n.tenant = $tenant"
        " CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"
    )
    async with store._driver.session(database=store._database) as session:
        await (await session.run(query, tenant=tenant)).consume()


async def store_pattern(
    store: Neo4jGraphStore, relations: RelationService, tenant: str, agent_id: str
) -> int:
    pages = await store.list_memories_for_agents(tenant, [agent_id], MemoryFilter(), PAGE, None)
    ids = [m.id for m in pages[agent_id][:PAGE]]
    await store.relations_of(tenant, ids, Direction.BOTH, None)
    related = await relations.related(tenant, ids, DEPTH, None, 20)
    return sum(len(found) for found in related.values())


async def floor(store: Neo4jGraphStore, tenant: str, agent_id: str, tuned: bool) -> int:
    params = {"tenant": tenant, "agent": agent_id, "limit": PAGE}

    async def work(tx: Any) -> int:
        result = await tx.run(FLOOR_TUNED if tuned else FLOOR, params)
        rows = [row async for row in result]
        if tuned:
            rows = rows[0]["rows"]
        return sum(len(row["related"]) for row in rows)

    async with store._driver.session(database=store._database) as session:
        return int(await session.execute_read(work))


async def timed(
    runs: int, calls: dict[str, Callable[[str], Awaitable[int]]], agents: list[str]
) -> list[dict[str, Any]]:
    """Time each call on the same random agents, interleaved (each round runs
    every call once, in rotating order) so machine noise hits all alike."""
    rng = random.Random(7)
    names = list(calls)
    for _ in range(20):  # warm-up: plans cached, connections open
        for name in names:
            await calls[name](rng.choice(agents))
    samples: dict[str, list[float]] = {name: [] for name in names}
    checksum = dict.fromkeys(names, 0)
    for round_number in range(runs):
        agent = rng.choice(agents)
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            begin = time.perf_counter()
            checksum[name] += await calls[name](agent)
            samples[name].append((time.perf_counter() - begin) * 1000)
    lines = []
    for name in names:
        ordered = sorted(samples[name])
        lines.append(
            {
                "name": name,
                "p50": statistics.median(ordered),
                "p95": ordered[int(0.95 * (len(ordered) - 1))],
                "mean": statistics.fmean(ordered),
                "checksum": checksum[name],
            }
        )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the seeded tenant")
    args = parser.parse_args()
    tenant = f"bench-floor-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        neo4j = settings_from_env()
        config = BackendConfig(Path(tmp), neo4j.uri, neo4j.user, neo4j.password, neo4j.database)
        backends: Backends = await open_backends(config, HashingEmbedder())
        store = unwrap(backends.store)
        assert isinstance(store, Neo4jGraphStore)
        try:
            began = time.perf_counter()
            agents = await seed(store, tenant, args.memories, args.agents)
            print(
                f"seeded {args.memories} memories, {args.agents} agents and "
                f"{args.memories - args.agents} FOLLOWS relations in "
                f"{time.perf_counter() - began:.1f}s (tenant {tenant})"
            )
            graph = MemoryGraph(backends)
            schema = build_schema()

            async def graphql(agent_id: str) -> int:
                context = RequestContext.create(graph, tenant)
                result = await schema.execute(
                    NESTED, variable_values={"id": agent_id}, context_value=context
                )
                assert not result.errors, result.errors
                assert result.data is not None
                edges = result.data["agent"]["memories"]["edges"]
                return sum(len(edge["node"]["related"]) for edge in edges)

            calls: dict[str, Callable[[str], Awaitable[int]]] = {
                "floor": lambda a: floor(store, tenant, a, True),
                "floor-rows": lambda a: floor(store, tenant, a, False),
                "store": lambda a: store_pattern(store, graph.relations, tenant, a),
                "graphql": graphql,
            }
            lines = await timed(args.runs, calls, agents)
            base = lines[0]
            print(f"{'':10} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}  x floor (p50/p95)")
            for line in lines:
                print(
                    f"{line['name']:10} {line['p50']:8.2f} {line['p95']:8.2f} {line['mean']:8.2f}"
                    f"  {line['p50'] / base['p50']:.2f} / {line['p95'] / base['p95']:.2f}"
                    f"   (related found: {line['checksum']})"
                )
        finally:
            if not args.keep:
                await remove(store, tenant)
            await backends.close()


if __name__ == "__main__":
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # no test session wipes the graph meanwhile
        asyncio.run(main())
