"""What per-field authorization and PII masking cost: the nested benchmark
query run in-process (no HTTP, no other clients) as different principals.

Run: ``.venv/bin/python bench/field_access.py [--memories 200] [--requests 200]
[--pii-every 5]``

Seeds one agent's memories (every ``--pii-every``-th mentions an e-mail
address and a phone number) in a fresh embedded store, chains them with
FOLLOWS relations, then times ``agent > memories(20) > related(depth 2)``
(about 100 ``content`` fields per request) as the system principal, an admin
key (clear text: PII detection and the audit of clear reads) and a reader key
(masking). Prints p50/p95/p99 in ms of wall time and the CPU time the
process spent per request (steadier than wall time on a busy machine). Run it
on two checkouts to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import corpus  # noqa: E402
from bench.scenarios import NESTED  # noqa: E402
from bench.stats import Summary  # noqa: E402
from graph.access.principal import Principal  # noqa: E402
from graph.adapters.sets import BackendConfig, open_backends  # noqa: E402
from graph.memory_graph import MemoryGraph  # noqa: E402
from resolvers.context import RequestContext  # noqa: E402
from schema.build import build_schema  # noqa: E402
from tests.support import HashingEmbedder  # noqa: E402

SCHEMA = build_schema()
PRINCIPALS = {
    "system (admin, before auth)": Principal.system("default"),
    "admin key (clear + audit)": Principal("apikey:a", "default", frozenset({"admin"})),
    "reader key (masked)": Principal("apikey:r", "default", frozenset({"reader"})),
}


async def run(graph: MemoryGraph, query: str, variables: dict[str, Any], who: Principal) -> Any:
    context = RequestContext.create(graph, who)
    result = await SCHEMA.execute(query, variable_values=variables, context_value=context)
    if result.errors:
        raise SystemExit(f"error: {result.errors[0]}")
    return result.data


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        backends = await open_backends(BackendConfig(Path(folder)), HashingEmbedder())
        graph = MemoryGraph(backends)
        system = PRINCIPALS["system (admin, before auth)"]
        data = await run(graph, 'mutation { createAgent(name: "a") { id } }', {}, system)
        agent = data["createAgent"]["id"]
        specs = corpus.memories(args.memories, 1)
        inputs = []
        for i, spec in enumerate(specs):
            item = spec.as_input(agent)
            if i % args.pii_every == 0:
                item["content"] += (
                    f" Reach them at person{i}@example.com or +1 415 555 01{i % 100:02d}."
                )
            inputs.append(item)
        add = "mutation($i: [AddMemoryInput!]!) { addMemories(inputs: $i) { id } }"
        ids = []
        for start in range(0, len(inputs), 100):
            added = await run(graph, add, {"i": inputs[start : start + 100]}, system)
            ids += [m["id"] for m in added["addMemories"]]
        relate = (
            "mutation($s: ID!, $t: ID!) "
            '{ relate(sourceId: $s, targetId: $t, type: "FOLLOWS") { id } }'
        )
        for source, target in itertools.pairwise(ids):
            await run(graph, relate, {"s": source, "t": target}, system)
        print(f"{len(ids)} memories, every {args.pii_every}th with PII; {args.requests} requests")
        print(f"{'principal':32} {'p50':>8} {'p95':>8} {'p99':>8} {'cpu p50':>8} {'cpu p95':>8}")
        for name, who in PRINCIPALS.items():
            for _ in range(args.warmup):
                await run(graph, NESTED, {"id": agent}, who)
            latencies, cpu = [], []
            started = time.perf_counter()
            for _ in range(args.requests):
                t0, c0 = time.perf_counter(), time.process_time()
                await run(graph, NESTED, {"id": agent}, who)
                latencies.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            s = Summary.of(name, latencies, time.perf_counter() - started)
            c = Summary.of(name, cpu, 1.0)
            print(f"{name:32} {s.p50:8.2f} {s.p95:8.2f} {s.p99:8.2f} {c.p50:8.2f} {c.p95:8.2f}")
        await graph.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pii-every", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
