"""The Redis :class:`~graph.ports.RateLimiter`: one token bucket per key in a
Redis hash, refilled and debited by one Lua script (atomic across every
server process, on Redis's own clock).

While Redis is unreachable the limiter falls back to per-process buckets
(:class:`~graph.adapters.rate_limit.InProcessRateLimiter`): limits stay in
force, per process, instead of failing every request or none.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from graph.adapters.rate_limit import InProcessRateLimiter
from graph.adapters.redis.bus import redis_client

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "agentmem:rate:"

# KEYS[1] bucket; ARGV: cost, per_second, burst. Returns the wait as a string
# (Lua numbers would be truncated to integers in the reply).
TAKE_SCRIPT = """
local cost = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
if cost > burst then cost = burst end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
local elapsed = now - updated
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateLimiter:
    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = 0.5) -> None:
        self.prefix = prefix
        self._redis = redis_client(url, timeout)
        self._take = self._redis.register_script(TAKE_SCRIPT)
        self._timeout = timeout
        self._fallback = InProcessRateLimiter()

    async def acquire(self, key: str, cost: float, per_second: float, burst: float) -> float:
        try:
            async with asyncio.timeout(self._timeout):
                wait = await self._take(keys=[self.prefix + key], args=[cost, per_second, burst])
        except (RedisError, OSError, TimeoutError):
            log.warning("rate limiter: Redis unavailable, limiting per process")
            return await self._fallback.acquire(key, cost, per_second, burst)
        return float(wait)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()
