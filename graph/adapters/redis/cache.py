"""Caches on Redis: :class:`RedisCache` (shared by every process) and
:class:`LayeredCache` (an in-process layer in front of a shared one that
carries on alone while the shared layer is down)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from redis.exceptions import RedisError

from graph.adapters.redis.bus import redis_client
from graph.errors import Unavailable
from graph.ports import Cache
from graph.telemetry import recorder

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "agentmem:cache:"
_REDIS_ERRORS = (RedisError, OSError, TimeoutError)
_UNAVAILABLE = "The shared cache is unavailable."


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


class RedisCache:
    """:class:`graph.ports.Cache` in Redis: ``GET``, ``SET ... PX`` and
    ``DEL`` on keys under ``prefix``. Every call is bounded by ``timeout``
    seconds; any Redis or connection error raises ``Unavailable``.

    A time-to-live of zero or less removes the key (as the in-process cache
    does); positive ones are rounded up to whole milliseconds.
    """

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = 1.0) -> None:
        self.prefix = prefix
        self._redis = redis_client(url, timeout)
        self._timeout = timeout

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> bytes | None:
        try:
            async with asyncio.timeout(self._timeout):
                value = await self._redis.get(self._key(key))
        except _REDIS_ERRORS:
            raise Unavailable(_UNAVAILABLE) from None
        recorder().cache_lookup("redis", value is not None)
        return None if value is None else _as_bytes(value)

    async def get_with_ttl(self, key: str) -> tuple[bytes, float] | None:
        """The value and its remaining time to live in seconds (one round
        trip), or ``None`` if absent."""
        try:
            async with asyncio.timeout(self._timeout):
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.get(self._key(key))
                    pipe.pttl(self._key(key))
                    value, pttl = await pipe.execute()
        except _REDIS_ERRORS:
            raise Unavailable(_UNAVAILABLE) from None
        recorder().cache_lookup("redis", value is not None)
        if value is None:
            return None
        ttl = float(pttl) / 1000.0 if pttl is not None and pttl > 0 else 0.0
        return _as_bytes(value), ttl

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            await self.delete([key])
            return
        milliseconds = max(1, int(-(-ttl_seconds * 1000 // 1)))
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.set(self._key(key), bytes(value), px=milliseconds)
        except _REDIS_ERRORS:
            raise Unavailable(_UNAVAILABLE) from None

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.delete(*(self._key(key) for key in keys))
        except _REDIS_ERRORS:
            raise Unavailable(_UNAVAILABLE) from None

    async def clear(self) -> None:
        """Delete every key under this cache's prefix (``SCAN`` + ``UNLINK``)."""
        try:
            async with asyncio.timeout(self._timeout * 30):
                batch: list[bytes] = []
                async for name in self._redis.scan_iter(match=self.prefix + "*", count=1000):
                    batch.append(name)
                    if len(batch) >= 1000:
                        await self._redis.unlink(*batch)
                        batch = []
                if batch:
                    await self._redis.unlink(*batch)
        except _REDIS_ERRORS:
            raise Unavailable(_UNAVAILABLE) from None

    async def flush_database(self) -> None:
        """``FLUSHDB``: delete every key of the whole Redis database, not only
        this prefix (tests and resets only)."""
        try:
            async with asyncio.timeout(self._timeout * 10):
                await self._redis.flushdb()
        except _REDIS_ERRORS:
            raise Unavailable(_UNAVAILABLE) from None

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.ping()
        except _REDIS_ERRORS:
            raise Unavailable(_UNAVAILABLE) from None

    async def close(self) -> None:
        with contextlib.suppress(*_REDIS_ERRORS):
            await self._redis.aclose()


class LayeredCache:
    """A process-local cache in front of a shared one.

    Reads try ``local`` first, then ``shared`` (copying a hit into ``local``
    for at most ``local_ttl`` seconds, or the entry's remaining time to live
    when the shared cache can tell it, so another process's change is seen
    here within that bound); writes and deletes go to both.

    When ``shared`` raises ``Unavailable`` the cache carries on with
    ``local`` alone: one warning per outage (not per call), and the shared
    layer is left alone for ``retry_interval`` seconds between attempts so a
    hung Redis costs one timeout per interval, not one per call. Keys written
    or deleted during an outage are deleted from ``shared`` when it is back,
    before anything else, so no value from before the outage outlives it.
    :meth:`ping` raises ``Unavailable`` while the shared layer is down
    (degraded, though every call still works). Closing closes both layers.
    """

    max_pending = 10_000
    """Keys remembered for deletion after an outage; past this, recovery
    clears the whole shared cache instead (a ``RedisCache``'s prefix)."""

    def __init__(
        self,
        local: Cache,
        shared: Cache,
        *,
        local_ttl: float = 30.0,
        retry_interval: float = 1.0,
    ) -> None:
        self.local = local
        self.shared = shared
        self.local_ttl = local_ttl
        self.retry_interval = retry_interval
        self._down_until = 0.0
        self._outage = False
        self._pending: set[str] = set()
        self._overflowed = False
        self.outages = 0
        """Outages of the shared layer seen so far."""

    @property
    def degraded(self) -> bool:
        """Whether the shared layer is currently considered down."""
        return self._outage

    def _skip_shared(self) -> bool:
        return self._outage and time.monotonic() < self._down_until

    def _failed(self) -> None:
        self._down_until = time.monotonic() + self.retry_interval
        if not self._outage:
            self._outage = True
            self.outages += 1
            log.warning("shared cache unavailable; carrying on with the in-process cache")

    async def _recovered(self) -> bool:
        """After an outage, probe the shared layer and delete what changed
        meanwhile; True if the shared layer is usable (again)."""
        if not self._outage:
            return True
        try:
            await self.shared.ping()
            if self._overflowed:
                clear = getattr(self.shared, "clear", None)  # a RedisCache, maybe guarded
                if clear is not None:
                    await clear()
            else:
                pending = list(self._pending)
                for start in range(0, len(pending), 500):
                    await self.shared.delete(pending[start : start + 500])
        except Unavailable:
            self._down_until = time.monotonic() + self.retry_interval
            return False
        self._pending.clear()
        self._overflowed = False
        self._outage = False
        log.warning("shared cache available again")
        return True

    def _remember(self, keys: Sequence[str]) -> None:
        if self._overflowed:
            return
        self._pending.update(keys)
        if len(self._pending) > self.max_pending:
            self._overflowed = True
            self._pending.clear()
            log.warning(
                "more than %d keys changed during the shared cache outage; "
                "it will be cleared when it is back",
                self.max_pending,
            )

    async def get(self, key: str) -> bytes | None:
        value = await self.local.get(key)
        if value is not None or self._skip_shared() or not await self._recovered():
            return value
        try:
            found = await self._shared_get(key)
        except Unavailable:
            self._failed()
            return None
        if found is None:
            return None
        value, ttl = found
        await self.local.set(key, value, min(ttl, self.local_ttl) if ttl > 0 else self.local_ttl)
        return value

    async def get_fresh(self, key: str) -> bytes | None:
        """Like :meth:`get` but asks the shared layer first, so a value another
        process changed is never read from a stale local copy while the
        shared layer answers; while it is down, the local layer answers."""
        if not self._skip_shared() and await self._recovered():
            try:
                found = await self._shared_get(key)
            except Unavailable:
                self._failed()
            else:
                if found is None:
                    await self.local.delete([key])
                    return None
                value, ttl = found
                await self.local.set(
                    key, value, min(ttl, self.local_ttl) if ttl > 0 else self.local_ttl
                )
                return value
        return await self.local.get(key)

    def fresh_view(self) -> Cache:
        """This cache as a :class:`graph.ports.Cache` whose reads use
        :meth:`get_fresh` -- for coordination values such as invalidation
        tokens (``Backends.shared_cache``). Closing the view does nothing;
        the layered cache owns the layers."""
        return _FreshView(self)

    async def _shared_get(self, key: str) -> tuple[bytes, float] | None:
        get_with_ttl = getattr(self.shared, "get_with_ttl", None)  # a RedisCache, maybe guarded
        if get_with_ttl is not None:
            found: tuple[bytes, float] | None = await get_with_ttl(key)
            return found
        value = await self.shared.get(key)
        return None if value is None else (value, 0.0)

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        await self.local.set(key, value, min(ttl_seconds, self.local_ttl))
        if self._skip_shared() or not await self._recovered():
            self._remember([key])
            return
        try:
            await self.shared.set(key, value, ttl_seconds)
        except Unavailable:
            self._failed()
            self._remember([key])

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        await self.local.delete(keys)
        if self._skip_shared() or not await self._recovered():
            self._remember(keys)
            return
        try:
            await self.shared.delete(keys)
        except Unavailable:
            self._failed()
            self._remember(keys)

    async def ping(self) -> None:
        """Raise ``Unavailable`` if either layer is down (the cache still
        serves from the local layer while the shared one is)."""
        await self.local.ping()
        try:
            await self.shared.ping()
        except Unavailable:
            self._failed()
            raise
        if self._outage and not await self._recovered():
            raise Unavailable(_UNAVAILABLE)

    async def close(self) -> None:
        await self.local.close()
        await self.shared.close()


class _FreshView:
    """A :class:`LayeredCache` read shared-layer-first (see ``fresh_view``)."""

    def __init__(self, layered: LayeredCache) -> None:
        self._layered = layered

    async def get(self, key: str) -> bytes | None:
        return await self._layered.get_fresh(key)

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        await self._layered.set(key, value, ttl_seconds)

    async def delete(self, keys: Sequence[str]) -> None:
        await self._layered.delete(keys)

    async def ping(self) -> None:
        await self._layered.ping()

    async def close(self) -> None:
        """Nothing to close: the layered cache owns both layers."""
