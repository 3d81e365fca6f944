"""The in-process :class:`~graph.ports.RateLimiter`: token buckets in a dict,
for one server process (the embedded default)."""

from __future__ import annotations

import time
from collections import OrderedDict

from graph.token_bucket import Bucket, take

MAX_BUCKETS = 100_000
"""Least recently used buckets beyond this many are dropped (they refill to
full anyway once idle)."""


class InProcessRateLimiter:
    def __init__(self) -> None:
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    async def acquire(self, key: str, cost: float, per_second: float, burst: float) -> float:
        bucket, wait = take(self._buckets.get(key), time.monotonic(), cost, per_second, burst)
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return wait

    async def close(self) -> None:
        self._buckets.clear()
