"""What tracing costs: the nested query executed in-process, many times.

Run: ``.venv/bin/python bench/tracing_cost.py [--tracing off|on] [--requests 500]``

It seeds an embedded store in a temporary folder (one agent, 20 memories in
a FOLLOWS chain, the test suite's hashing embedder) and runs
``agent > memories(20) > related(depth 2)`` through the real schema and
request context, without HTTP, so the figures show the server's own work.
``--tracing on`` installs an SDK tracer provider with a batch processor and
an exporter that drops spans (the cost of making spans, not of shipping
them). Running the same script from a checkout without instrumentation gives
the baseline. Prints p50/p95/p99 of wall-clock latency and of the process's
CPU time per request (steadier than wall-clock on a shared machine), in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scenarios import NESTED  # noqa: E402
from graph.adapters.sets import BackendConfig, open_backends  # noqa: E402
from graph.memory_graph import MemoryGraph  # noqa: E402
from resolvers.context import RequestContext  # noqa: E402
from schema.build import build_schema  # noqa: E402
from tests.support import HashingEmbedder  # noqa: E402

ADD = "mutation($a: ID!, $c: String!) { addMemory(input: {agentId: $a, content: $c}) { id } }"
RELATE = 'mutation($s: ID!, $t: ID!) { relate(sourceId: $s, targetId: $t, type: "FOLLOWS") { id } }'


def _enable_tracing() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from graph import telemetry

    class Drop(SpanExporter):
        def export(self, spans: Sequence[object]) -> SpanExportResult:  # type: ignore[override]
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    telemetry.enable_tracing(provider)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main_async(tracing: bool, requests: int, warmup: int) -> None:
    if tracing:
        _enable_tracing()
    schema = build_schema()
    with tempfile.TemporaryDirectory() as folder:
        backends = await open_backends(BackendConfig(Path(folder)), HashingEmbedder())
        graph = MemoryGraph(backends)
        try:

            async def run(query: str, variables: dict[str, object]) -> dict[str, object]:
                result = await schema.execute(
                    query,
                    variable_values=variables,
                    context_value=RequestContext.create(graph, "t"),
                )
                assert not result.errors, result.errors
                assert result.data is not None
                return result.data

            agent = await run('mutation { createAgent(name: "a") { id } }', {})
            agent_id = agent["createAgent"]["id"]  # type: ignore[index]
            ids = []
            for n in range(20):
                added = await run(
                    ADD,
                    {"a": agent_id, "c": f"memory number {n} about coffee and tea"},
                )
                ids.append(added["addMemory"]["id"])  # type: ignore[index]
            for source, target in itertools.pairwise(ids):
                await run(RELATE, {"s": source, "t": target})
            timings: list[float] = []
            cpu: list[float] = []
            for n in range(warmup + requests):
                started, started_cpu = time.perf_counter(), time.process_time()
                await run(NESTED, {"id": agent_id})
                if n >= warmup:
                    timings.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
        finally:
            await backends.close()
    print(
        f"tracing {'on ' if tracing else 'off'} nested query, {requests} runs: "
        f"p50 {_percentile(timings, 0.5):.2f} ms  p95 {_percentile(timings, 0.95):.2f} ms  "
        f"p99 {_percentile(timings, 0.99):.2f} ms | CPU time p50 {_percentile(cpu, 0.5):.2f} ms  "
        f"p95 {_percentile(cpu, 0.95):.2f} ms  mean {sum(cpu) / len(cpu):.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tracing", choices=["off", "on"], default="off")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main_async(args.tracing == "on", args.requests, args.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
