"""Overhead of the query guard (limits, cost analysis, rate limiting) on a
simple query, in process.

Run: ``.venv/bin/python bench/hardening.py [--requests 2000]``

Executes the same small query through two schemas over one embedded store:
``baseline`` (the schema without the guard: observability, error coding,
parser and validation caches) and ``guarded`` (``build_schema`` with the default limits,
budgets and an in-process rate limiter). Requests alternate between the two
so that drift hits both alike. Two cases: the same document every time
(parse and validation caches hit, the usual production case) and a distinct
document each time (caches miss: the guard's document checks run every
time). Prints p50/p95/p99 in milliseconds and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import strawberry  # noqa: E402
from graphql import parse  # noqa: E402
from strawberry.extensions import ParserCache, ValidationCache  # noqa: E402

from bench.stats import percentile  # noqa: E402
from graph.adapters.rate_limit import InProcessRateLimiter  # noqa: E402
from graph.adapters.sets import BackendConfig, open_backends  # noqa: E402
from graph.embedding import create_embedder  # noqa: E402
from graph.memory_graph import MemoryGraph  # noqa: E402
from graph.services.memories import NewMemory  # noqa: E402
from resolvers.context import RequestContext  # noqa: E402
from schema.build import AgentMemSchema, build_schema  # noqa: E402
from schema.cost import operation_cost  # noqa: E402
from schema.errors import ErrorCodes  # noqa: E402
from schema.guard import GuardConfig  # noqa: E402
from schema.limits import QueryLimits, check_document  # noqa: E402
from schema.mutation import Mutation  # noqa: E402
from schema.observability import Observability  # noqa: E402
from schema.query import Query  # noqa: E402
from schema.subscription import Subscription  # noqa: E402
from schema.types import Agent, Entity, Fact, Memory, Relation  # noqa: E402

QUERY = "{ memories(first: 10) { totalCount edges { node { id content tags } } } }"


def baseline_schema() -> strawberry.Schema:
    return AgentMemSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Agent, Memory, Entity, Relation, Fact],
        extensions=[
            Observability,
            ErrorCodes,
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
    )


async def measure(requests: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        backends = await open_backends(BackendConfig(Path(folder)), create_embedder("minilm"))
        graph = MemoryGraph(backends)
        await graph.memories.add(
            "default", [NewMemory(content=f"memory {i}", tags=["t"]) for i in range(10)]
        )
        schemas = {
            "baseline": baseline_schema(),
            "guarded": build_schema(GuardConfig(rate_limiter=InProcessRateLimiter())),
        }
        print(f"{'case':<28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for case in ("same document", "distinct documents"):
            samples: dict[str, list[float]] = {name: [] for name in schemas}
            for i in range(requests + 100):
                for name, schema in schemas.items():
                    query = QUERY if case == "same document" else f"{QUERY} # {name} {i}"
                    context = RequestContext.create(graph, "default")
                    start = time.perf_counter()
                    result = await schema.execute(query, context_value=context)
                    elapsed = time.perf_counter() - start
                    if result.errors:
                        raise SystemExit(f"{name}: {result.errors}")
                    if i >= 100:  # warm-up
                        samples[name].append(elapsed * 1000)
            stats = {n: [percentile(s, q) for q in (50, 95, 99)] for n, s in samples.items()}
            for name, (p50, p95, p99) in stats.items():
                print(f"{case + ' / ' + name:<28} {p50:8.3f} {p95:8.3f} {p99:8.3f}")
            delta = [g - b for g, b in zip(stats["guarded"], stats["baseline"], strict=True)]
            print(f"{case + ' / overhead':<28} {delta[0]:8.3f} {delta[1]:8.3f} {delta[2]:8.3f}")
        await graph.close()


def guard_parts(requests: int) -> None:
    """The guard's own per-document work, without execution (microseconds)."""
    schema = build_schema()._schema
    document = parse(QUERY)
    parts = {
        "shape limits (per document)": lambda: check_document(document, QueryLimits()),
        "cost (per request)": lambda: operation_cost(schema, document),
    }
    print(f"{'guard part':<28} {'p50 us':>8} {'p95 us':>8} {'p99 us':>8}")
    for name, run in parts.items():
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            run()
            samples.append((time.perf_counter() - start) * 1_000_000)
        p50, p95, p99 = (percentile(samples, q) for q in (50, 95, 99))
        print(f"{name:<28} {p50:8.1f} {p95:8.1f} {p99:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    guard_parts(args.requests)
    asyncio.run(measure(args.requests))


if __name__ == "__main__":
    main()
