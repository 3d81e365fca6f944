"""Memory events fanned out to every server process through Redis pub/sub.

Each process holds one :class:`RedisEventBus`: one Redis connection
subscribed to the channel, feeding an :class:`InProcessEventBus` that fans
events out to this process's subscribers through bounded queues (a slow
subscriber loses its oldest events, counted in :attr:`RedisEventBus.dropped`).
Subscribers never hold a Redis connection of their own.

A published event reaches this process's subscribers directly, at once and
in publish order, and every other process through Redis (``PUBLISH`` of the
JSON of :func:`graph.codec.event_to_dict`, tagged with the publishing bus's
origin so it does not arrive twice here). So ``subscribe()`` sees exactly the
local events published after it returned, and remote events that reach the
shared subscription after it returned.

Redis outages: the subscription reconnects by itself (backing off up to
:attr:`RedisEventBus.reconnect_max` seconds) and subscribers keep their
generators throughout. Events published elsewhere while this process is
disconnected, and events this process publishes while Redis is down, are
lost to the other processes -- pub/sub keeps no history -- while this
process's own subscribers still receive its own events. ``publish`` never
fails because of Redis (it logs once per outage and counts the events that
did not leave the process in :attr:`RedisEventBus.unsent`); ``ping`` raises
``Unavailable`` while Redis is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from graph.adapters.inprocess import InProcessEventBus
from graph.codec import event_from_dict, event_to_dict
from graph.errors import Unavailable
from graph.model import MemoryEvent

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "agentmem:events"
_REDIS_ERRORS = (RedisError, OSError, TimeoutError)
_UNAVAILABLE = "The event bus is unavailable."


def redis_client(url: str, timeout: float) -> Redis:
    """A Redis client whose calls fail within ``timeout`` seconds instead of
    retrying with back-off (one immediate retry covers a pooled connection
    that a Redis restart left dead)."""
    client: Redis = Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=10,
    )
    return client


class RedisEventBus:
    """:class:`graph.ports.EventBus` shared by every process on one Redis
    channel (see the module docstring for delivery and outage semantics).

    Open it with :func:`open_redis_bus`, which waits for the subscription.
    """

    reconnect_max = 1.0
    """Longest pause, in seconds, between attempts to resubscribe."""

    def __init__(
        self,
        url: str,
        *,
        channel: str = DEFAULT_CHANNEL,
        max_queued: int = 1000,
        timeout: float = 2.0,
    ) -> None:
        self.channel = channel
        self._local = InProcessEventBus(max_queued)
        self._redis = redis_client(url, timeout)
        self._timeout = timeout
        self._origin = secrets.token_hex(8)
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._closed = False
        self._publish_down_until = 0.0
        self._publish_outage = False
        self._listen_outage = False
        self.unsent = 0
        """Events published while Redis was unreachable (seen only locally)."""
        self.received = 0
        """Events received from other processes."""
        self.malformed = 0
        """Channel messages that were not events, ignored."""
        self.reconnects = 0
        """Subscriptions re-established after a lost connection."""

    @property
    def dropped(self) -> int:
        """Events dropped from slow subscribers' queues, in total."""
        return self._local.dropped

    @property
    def subscriber_count(self) -> int:
        return self._local.subscriber_count

    @property
    def connected(self) -> bool:
        """Whether the shared subscription is currently live."""
        return self._subscribed.is_set()

    async def start(self, wait: float | None = None) -> None:
        """Start the shared subscription; with ``wait``, wait that many
        seconds for it and raise ``Unavailable`` if Redis does not answer."""
        self._start_soon()
        if wait is not None:
            try:
                await asyncio.wait_for(self._subscribed.wait(), wait)
            except TimeoutError:
                raise Unavailable(_UNAVAILABLE) from None

    async def publish(self, event: MemoryEvent) -> None:
        """Deliver ``event`` to this process's subscribers and send it to the
        others; never waits on a slow subscriber, never fails over Redis."""
        if self._closed:
            return
        self._start_soon()
        await self._local.publish(event)
        now = time.monotonic()
        if now < self._publish_down_until:
            self.unsent += 1
            return
        payload = json.dumps(
            {"origin": self._origin, "event": event_to_dict(event)}, separators=(",", ":")
        )
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.publish(self.channel, payload)
        except _REDIS_ERRORS as exc:
            self.unsent += 1
            self._publish_down_until = now + self.reconnect_max
            if not self._publish_outage:
                self._publish_outage = True
                log.warning(
                    "redis unreachable; events reach this process's subscribers only (%s)",
                    type(exc).__name__,
                )
            return
        if self._publish_outage:
            self._publish_outage = False
            log.warning("redis reachable again; events reach every process")

    def subscribe(self) -> AsyncGenerator[MemoryEvent, None]:
        """Events published from now on (here or in any process connected to
        the channel), until the generator is closed or the bus is.

        Registers at once, before returning. (A bus built without
        :func:`open_redis_bus` starts its shared subscription here, and
        remote events reach it once that subscription is live.)"""
        self._start_soon()
        return self._local.subscribe()

    def _start_soon(self) -> None:
        if self._listener is not None or self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: start() or the first publish starts it
        self._listener = asyncio.create_task(self._listen(), name="agentmem-redis-bus")

    async def ping(self) -> None:
        """Return if Redis answers and the shared subscription is live;
        raise ``Unavailable`` otherwise."""
        if self._closed:
            raise Unavailable(_UNAVAILABLE)
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.ping()
        except _REDIS_ERRORS:
            raise Unavailable(_UNAVAILABLE) from None
        if not self._subscribed.is_set():
            raise Unavailable(_UNAVAILABLE)

    async def close(self) -> None:
        """End every subscription and the shared connection."""
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._local.close()
        with contextlib.suppress(*_REDIS_ERRORS):
            await self._redis.aclose()

    # -- the shared subscription ---------------------------------------------------------

    async def _listen(self) -> None:
        delay = 0.05
        first = True
        while not self._closed:
            pubsub: PubSub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    kind = message.get("type")
                    if kind == "subscribe":
                        self._on_subscribed(first)
                        first = False
                        delay = 0.05
                    elif kind == "message":
                        await self._deliver(message.get("data"))
            except _REDIS_ERRORS as exc:
                self._subscribed.clear()
                if not self._listen_outage:
                    self._listen_outage = True
                    log.warning(
                        "redis subscription lost; reconnecting (%s); events from other "
                        "processes are lost until it is back",
                        type(exc).__name__,
                    )
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max)

    def _on_subscribed(self, first: bool) -> None:
        self._subscribed.set()
        self._publish_down_until = 0.0  # Redis answers: stop holding publishes back
        if not first:
            self.reconnects += 1
        if self._listen_outage:
            self._listen_outage = False
            log.warning("redis subscription re-established")

    async def _deliver(self, data: Any) -> None:
        try:
            envelope = json.loads(data)
            if envelope.get("origin") == self._origin:
                return  # already delivered locally when published
            event = event_from_dict(envelope["event"])
        except (ValueError, KeyError, TypeError, AttributeError):
            self.malformed += 1
            log.debug("ignoring a malformed message on %s", self.channel)
            return
        self.received += 1
        await self._local.publish(event)


async def open_redis_bus(
    url: str,
    *,
    channel: str = DEFAULT_CHANNEL,
    max_queued: int = 1000,
    timeout: float = 2.0,
) -> RedisEventBus:
    """Connect to Redis at ``url`` and subscribe to ``channel``.

    Raises ``Unavailable`` if the subscription is not live within ``timeout``
    seconds (a bus that loses Redis later reconnects by itself).
    """
    bus = RedisEventBus(url, channel=channel, max_queued=max_queued, timeout=timeout)
    try:
        await bus.start(wait=timeout)
    except BaseException:
        await bus.close()
        raise
    return bus
