"""The read scenarios measured over HTTP once the graph is seeded."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.load import Call, Check, Data, GraphQLClient, Recorder, Run, run_load
from bench.stats import Summary

BASELINE = "{ __typename }"
MEMORY = """
query($id: ID!) { memory(id: $id) { id content type level tags importance createdAt } }"""
NESTED = """
query($id: ID!) {
  agent(id: $id) {
    name
    memories(first: 20) {
      edges { node { id content related(depth: 2) { distance memory { id content } } } }
    }
  }
}"""
PAGE = """
query($agent: ID!, $after: String) {
  memories(filter: {agentId: $agent}, first: 20, after: $after) {
    edges { cursor node { id content type createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SEARCH = """
query($q: String!, $mode: SearchMode!) {
  search(query: $q, mode: $mode, limit: 10) { score memory { id content } }
}"""
REPEATED_QUERY = "What does the user like to drink in the morning?"
PAGES = 3

# Names of the lines that carry a target (see run.py).
MEMORY_BY_ID = "memory(id)"
NESTED_QUERY = "agent > memories(20) > related(depth 2)"
HYBRID = "search HYBRID, distinct queries"
SERIAL = ", 1 caller"


@dataclass(frozen=True, slots=True)
class Workload:
    """What the scenarios draw from, and how hard they push."""

    memory_ids: Sequence[str]
    agent_ids: Sequence[str]
    queries: Sequence[str]
    requests: int
    concurrency: int
    warmup: int
    serial: bool = True
    seed: int = 11


@dataclass
class Results:
    """Every measured line, and the first error message of each line that had one."""

    lines: list[Summary] = field(default_factory=list)
    first_errors: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, run: Run, *, per_call: bool = False, unit: str = "req") -> None:
        latencies = run.call_latencies if per_call else run.recorder.latencies
        errors = run.recorder.errors
        self.lines.append(Summary.of(name, latencies, run.elapsed, errors=errors, unit=unit))
        if run.recorder.first_error:
            self.first_errors[name] = run.recorder.first_error


def _single(
    client: GraphQLClient, query: str, variables: Callable[[int], Data], check: Check
) -> Call:
    async def call(index: int, recorder: Recorder) -> None:
        await recorder.request(client, query, variables(index), check)

    return call


def _has_memory(data: Data) -> bool:
    return data["memory"] is not None and bool(data["memory"]["content"])


def _has_nested(data: Data) -> bool:
    edges = data["agent"]["memories"]["edges"]
    return bool(edges) and all(isinstance(e["node"]["related"], list) for e in edges)


def _has_page(data: Data) -> bool:
    return bool(data["memories"]["edges"])


def _has_hits(data: Data) -> bool:
    return isinstance(data["search"], list)


async def measure_all(
    client: GraphQLClient, work: Workload, progress: Callable[[str], None]
) -> Results:
    """Run every scenario in turn, each with its own warm-up."""
    rng = random.Random(work.seed)
    total = work.requests + work.warmup
    ids = [rng.choice(work.memory_ids) for _ in range(total)]
    agents = [rng.choice(work.agent_ids) for _ in range(total)]
    # HYBRID and VECTOR embed the query; disjoint slices of the pool keep one
    # mode from warming the query-embedding cache for the other. KEYWORD does
    # not embed and reuses the HYBRID slice.
    hybrid_queries = list(work.queries[:total])
    vector_queries = list(work.queries[total : 2 * total]) or hybrid_queries
    results = Results()

    async def measure(
        name: str, call: Call, requests: int | None = None, concurrency: int | None = None
    ) -> Run:
        callers = work.concurrency if concurrency is None else concurrency
        progress(f"{name} ({callers} caller{'' if callers == 1 else 's'})")
        count = work.requests if requests is None else requests
        return await run_load(call, requests=count, concurrency=callers, warmup=work.warmup)

    def search(mode: str, pool: Sequence[str]) -> Call:
        return _single(
            client, SEARCH, lambda i: {"q": pool[i % len(pool)], "mode": mode}, _has_hits
        )

    baseline = _single(client, BASELINE, lambda i: {}, lambda d: d["__typename"] == "Query")
    results.add("baseline { __typename }", await measure("baseline", baseline))
    by_id = _single(client, MEMORY, lambda i: {"id": ids[i]}, _has_memory)
    results.add(MEMORY_BY_ID, await measure(MEMORY_BY_ID, by_id))
    nested = _single(client, NESTED, lambda i: {"id": agents[i]}, _has_nested)
    results.add(NESTED_QUERY, await measure(NESTED_QUERY, nested))

    async def walk(index: int, recorder: Recorder) -> None:
        after: str | None = None
        for _ in range(PAGES):
            variables = {"agent": agents[index], "after": after}
            data = await recorder.request(client, PAGE, variables, _has_page)
            if data is None:
                return
            info = data["memories"]["pageInfo"]
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]

    paging = await measure("memories paging", walk, max(1, work.requests // PAGES))
    results.add("memories(filter: agentId, 20), per page", paging)
    results.add(f"  same, walk of pages 1-{PAGES}", paging, per_call=True, unit="walk")

    results.add("search KEYWORD", await measure("KEYWORD", search("KEYWORD", hybrid_queries)))
    results.add("search VECTOR", await measure("VECTOR", search("VECTOR", vector_queries)))
    results.add(HYBRID, await measure("HYBRID", search("HYBRID", hybrid_queries)))
    repeated = search("HYBRID", [REPEATED_QUERY])
    results.add("search HYBRID, one repeated query", await measure("HYBRID cached", repeated))
    if work.serial:
        # Latency without queueing: one caller, so no request waits for another.
        serial_queries = list(work.queries[2 * total : 3 * total]) or hybrid_queries
        for name, call in (
            (MEMORY_BY_ID, by_id),
            (NESTED_QUERY, nested),
            (HYBRID, search("HYBRID", serial_queries)),
        ):
            results.add(name + SERIAL, await measure(name, call, concurrency=1))
    return results
