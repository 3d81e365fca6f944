"""The Redis adapters: :class:`RedisEventBus` (cross-process event fan-out),
:class:`RedisCache` (shared cache) and :class:`LayeredCache` (in-process cache
in front of it that carries on alone while Redis is down)."""

from graph.adapters.redis.bus import DEFAULT_CHANNEL, RedisEventBus, open_redis_bus
from graph.adapters.redis.cache import DEFAULT_PREFIX, LayeredCache, RedisCache

__all__ = [
    "DEFAULT_CHANNEL",
    "DEFAULT_PREFIX",
    "LayeredCache",
    "RedisCache",
    "RedisEventBus",
    "open_redis_bus",
]
