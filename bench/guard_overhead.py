"""What the resilience guard costs per backend call: a no-op adapter method
and an embedded SQLite read, each called bare and through its guarded port.

    .venv/bin/python -m bench.guard_overhead [--runs 5000]

Prints p50/p95/p99 per call in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.stats import percentile
from graph.adapters.sets import BackendConfig, open_backends
from graph.model import MemoryFilter
from graph.ports import GraphStore
from graph.resilience import CircuitBreaker, Guard, RetryPolicy, guarded, unwrap
from tests.support import HashingEmbedder, make_memory


class _Noop:
    async def get(self) -> None:
        return None


async def _noop_samples(port: _Noop, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await port.get()
        samples.append((time.perf_counter() - began) * 1e6)
    return samples


async def _timed(store: GraphStore, ids: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await store.get_memories("bench", ids)
        samples.append((time.perf_counter() - began) * 1e6)
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends = await open_backends(BackendConfig(Path(tmp)), HashingEmbedder())
        try:
            memories = [make_memory("bench", f"guard overhead {i}") for i in range(5)]
            await backends.store.insert_memories(memories)
            ids = [m.id for m in memories]
            guarded_store = backends.store
            bare = unwrap(guarded_store)
            assert bare is not guarded_store
            await backends.store.list_memories("bench", MemoryFilter(), 5, None)  # warm up
            noop = _Noop()
            guarded_noop = guarded(noop, Guard(CircuitBreaker("noop"), RetryPolicy()), {"get"})
            lines: dict[str, list[float]] = {}
            for name, run in (
                ("no-op, bare", lambda: _noop_samples(noop, args.runs)),
                ("no-op, guarded", lambda: _noop_samples(guarded_noop, args.runs)),
                ("SQLite get_memories(5), bare", lambda: _timed(bare, ids, args.runs)),  # type: ignore[arg-type]
                ("SQLite get_memories(5), guarded", lambda: _timed(guarded_store, ids, args.runs)),
            ):
                lines[name] = await run()
        finally:
            await backends.close()
    print(f"{args.runs} calls each, microseconds per call")
    for name, samples in lines.items():
        p50, p95, p99 = (percentile(samples, q) for q in (50, 95, 99))
        print(f"  {name:32} p50 {p50:8.1f}  p95 {p95:8.1f}  p99 {p99:8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
