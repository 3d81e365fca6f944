"""A cache of read results per tenant and scope, invalidated by any write.

Each tenant has a *generation* token kept in the ``generations`` cache (the
shared layer: Redis when configured, so every server process sees it). Keys
embed the current generation, so a write invalidates every cached read of its
tenant at once by replacing the token; stale entries simply age out.

Two guards against stampedes: concurrent misses of one key in a process wait
for a single load (single flight), and entries are refreshed a little before
they expire with a probability that grows as expiry nears, so processes
sharing the cache do not all miss at the same instant (probabilistic early
expiration).
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import struct
import time
from collections.abc import Awaitable, Callable

from graph.ports import Cache
from graph.telemetry import recorder

_HEADER = struct.Struct("<dd")  # expires_at (epoch s), load_seconds
EARLY_REFRESH_BETA = 1.0


class ReadCache:
    def __init__(self, values: Cache, generations: Cache, ttl_seconds: float = 30.0) -> None:
        self._values = values
        self._generations = generations
        self._ttl = ttl_seconds
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        self.hits = 0
        self.misses = 0

    async def invalidate(self, tenant: str) -> None:
        """Every cached read of ``tenant`` is stale from now on."""
        await self._generations.set(_generation_key(tenant), secrets.token_bytes(8), 86_400.0)

    async def get_or_load(
        self, tenant: str, scope: str, key: str, load: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        generation = await self._generations.get(_generation_key(tenant)) or b"0"
        full_key = f"read:{tenant}:{scope}:{generation.hex()}:{key}"
        cached = await self._values.get(full_key)
        if cached is not None and not _refresh_early(cached):
            self.hits += 1
            recorder().cache_lookup("read", True)
            return cached[_HEADER.size :]
        self.misses += 1
        recorder().cache_lookup("read", False)
        running = self._inflight.get(full_key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[full_key] = future
        try:
            started = time.monotonic()
            value = await load()
            took = time.monotonic() - started
            header = _HEADER.pack(time.time() + self._ttl, took)
            await self._values.set(full_key, header + value, self._ttl)
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # the waiters re-raise it; the creator raises below
            raise
        finally:
            del self._inflight[full_key]


def _generation_key(tenant: str) -> str:
    return f"gen:{tenant}"


def _refresh_early(entry: bytes) -> bool:
    if len(entry) < _HEADER.size:
        return True
    expires_at, load_seconds = _HEADER.unpack_from(entry)
    draw = -math.log(max(random.random(), 1e-12))
    return bool(time.time() + load_seconds * EARLY_REFRESH_BETA * draw >= expires_at)
