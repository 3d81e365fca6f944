"""The token-bucket arithmetic shared by the in-process rate limiter and the
Redis one (whose Lua script does the same steps atomically)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    updated: float
    """Monotonic seconds of the last refill."""


def take(
    bucket: Bucket | None, now: float, cost: float, per_second: float, burst: float
) -> tuple[Bucket, float]:
    """The bucket after asking for ``cost`` tokens at ``now``, and the wait:
    0 when granted, else the seconds until enough tokens would be there (and
    nothing is taken). A missing bucket is full."""
    cost = min(cost, burst)
    tokens = burst if bucket is None else bucket.tokens
    elapsed = 0.0 if bucket is None else max(0.0, now - bucket.updated)
    tokens = min(burst, tokens + elapsed * per_second)
    if tokens >= cost:
        return Bucket(tokens - cost, now), 0.0
    return Bucket(tokens, now), (cost - tokens) / per_second
