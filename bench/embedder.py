"""Throughput and latency of the local MiniLM embedder.

Run: ``.venv/bin/python bench/embedder.py [--threads N] [--seconds S]``

Embeds deterministic 10-30 word sentences as single texts (one after the
other, and 64 callers at once, which the embedder coalesces) and as batches of
16, 64 and 256, and prints texts/s with p50/p95/p99 latency per call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable

from graph.embedding import MiniLMEmbedder

SUBJECTS = (
    "The user",
    "Our finance team",
    "The on-call engineer",
    "My sister",
    "The new intern",
    "The customer in Berlin",
    "The support agent",
    "The product manager",
)
VERBS = ("prefers", "asked about", "forgot", "scheduled", "cancelled", "reviewed", "mentioned")
OBJECTS = (
    "dark roast coffee in the morning",
    "the quarterly budget review",
    "a weekend trip to the mountains",
    "the database migration plan",
    "vegetarian options for the team dinner",
    "the flaky integration tests",
    "a refund for the duplicate invoice",
    "the blue-green deployment of the billing service",
)
TAILS = (
    "because the previous attempt failed",
    "after the meeting on Tuesday",
    "and wants a reminder next week",
    "while travelling for work",
    "so the release may slip by a few days",
    "according to the notes from yesterday",
    "without telling anyone else on the team",
    "before the end of the month",
)
FILLER = "and would like a short summary of what changed since then"


def sentences(count: int, seed: int = 7) -> list[str]:
    """``count`` deterministic sentences of 10 to 30 words."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = " ".join(
            (rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(TAILS))
        ).split()
        target = rng.randint(10, 30)
        words = (words + FILLER.split())[:target] if len(words) < target else words[:target]
        out.append(" ".join(words) + ".")
    return out


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def measure(
    name: str, texts_per_call: int, call: Callable[[], Awaitable[object]], seconds: float
) -> None:
    """Run ``call`` repeatedly for about ``seconds`` (at least 20 times) and print figures."""
    for _ in range(3):
        await call()
    latencies: list[float] = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds or len(latencies) < 20:
        start = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - began
    rate = len(latencies) * texts_per_call / elapsed
    p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (50, 95, 99))
    print(
        f"{name:<24} {rate:>9.0f} {p50:>9.2f} {p95:>9.2f} {p99:>9.2f} "
        f"{statistics.mean(latencies) * 1000:>9.2f} {len(latencies):>6}"
    )


async def main(threads: int | None, seconds: float) -> None:
    corpus = sentences(4096)
    embedder = MiniLMEmbedder(threads=threads)
    began = time.perf_counter()
    await embedder.load()
    print(f"model loaded in {(time.perf_counter() - began) * 1000:.0f} ms")
    print(f"threads={threads or os.cpu_count()}, cpus={os.cpu_count()}")
    words = [len(s.split()) for s in corpus]
    print(f"sentences: {min(words)}-{max(words)} words, mean {statistics.mean(words):.1f}")
    print(
        f"{'case':<24} {'texts/s':>9} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} "
        f"{'mean ms':>9} {'calls':>6}"
    )
    cursor = 0

    def take(n: int) -> list[str]:
        nonlocal cursor
        cursor = (cursor + n) % (len(corpus) - n)
        return corpus[cursor : cursor + n]

    try:
        await measure("single", 1, lambda: embedder.embed(take(1)), seconds)
        await measure(
            "single x64 concurrent",
            64,
            lambda: asyncio.gather(*(embedder.embed(take(1)) for _ in range(64))),
            seconds,
        )
        for size in (16, 64, 256):
            await measure(f"batch {size}", size, lambda n=size: embedder.embed(take(n)), seconds)
    finally:
        await embedder.close()
    fast = MiniLMEmbedder(threads=threads, max_wait=0.0)
    try:
        await fast.load()
        await measure("single (max_wait=0)", 1, lambda: fast.embed(take(1)), seconds)
    finally:
        await fast.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per case")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.threads, arguments.seconds))
