"""Single-process event bus, cache and audit log, for the embedded backend set."""

from __future__ import annotations

import asyncio
import itertools
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from graph.access.audit import AuditEvent, AuditRecord, ChainBounds, link
from graph.model import MemoryEvent
from graph.telemetry import recorder

_CLOSED = None
"""Queued to a subscriber to end its stream when the bus closes."""


class InProcessEventBus:
    """Fans each published event out to every current subscriber.

    Each subscriber has a bounded queue. A subscriber that falls behind loses
    its oldest queued events rather than slowing publishers down; such drops
    are counted in :attr:`dropped`. :meth:`subscribe` registers the
    subscriber at once (so it sees every event published after the call) and
    returns an async generator that unregisters itself when closed.
    """

    def __init__(self, max_queued: int = 1000) -> None:
        if max_queued < 1:
            raise ValueError("max_queued must be at least 1")
        self._max_queued = max_queued
        self._queues: weakref.WeakSet[asyncio.Queue[MemoryEvent | None]] = weakref.WeakSet()
        self._closed = False
        self.dropped = 0
        """Events dropped from slow subscribers' queues, in total."""

    @property
    def subscriber_count(self) -> int:
        return len(self._queues)

    async def publish(self, event: MemoryEvent) -> None:
        """Queue ``event`` for every subscriber; never waits on a slow one."""
        if self._closed:
            return
        for queue in list(self._queues):
            self._offer(queue, event)

    def _offer(self, queue: asyncio.Queue[MemoryEvent | None], item: MemoryEvent | None) -> None:
        if queue.full():
            queue.get_nowait()
            self.dropped += 1
        queue.put_nowait(item)

    def subscribe(self) -> AsyncGenerator[MemoryEvent, None]:
        """Events published from now on, until the generator is closed (or
        the bus is)."""
        queue: asyncio.Queue[MemoryEvent | None] = asyncio.Queue(self._max_queued)
        if self._closed:
            queue.put_nowait(_CLOSED)
        else:
            self._queues.add(queue)
        return self._stream(queue)

    async def _stream(
        self, queue: asyncio.Queue[MemoryEvent | None]
    ) -> AsyncGenerator[MemoryEvent, None]:
        # The queue is held weakly by the bus, so a generator that is dropped
        # without ever being started does not stay registered.
        try:
            while True:
                event = await queue.get()
                if event is _CLOSED:
                    return
                yield event
        finally:
            self._queues.discard(queue)

    async def ping(self) -> None:
        """Always answers: the bus lives in this process."""

    async def close(self) -> None:
        """End every subscriber's stream; later publishes are ignored."""
        if self._closed:
            return
        self._closed = True
        for queue in list(self._queues):
            self._offer(queue, _CLOSED)
        self._queues = weakref.WeakSet()


class InProcessCache:
    """A least-recently-used byte cache with per-entry time-to-live.

    Holds at most ``max_entries`` values; setting one more evicts the least
    recently used. Expired values are never returned.
    """

    def __init__(
        self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            recorder().cache_lookup("lru", False)
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            recorder().cache_lookup("lru", False)
            return None
        self._entries.move_to_end(key)
        recorder().cache_lookup("lru", True)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store ``value`` for ``ttl_seconds``; a ttl of zero or less removes it."""
        if ttl_seconds <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self._clock() + ttl_seconds, bytes(value))
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def ping(self) -> None:
        """Always answers: the cache lives in this process."""

    async def close(self) -> None:
        self._entries.clear()


class InProcessAuditLog:
    """Hash-chained audit records kept in memory (lost when the process ends)."""

    def __init__(self) -> None:
        self._records: dict[str, list[AuditRecord]] = {}
        self._bounds: dict[str, ChainBounds] = {}
        self._seq = 0

    async def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        linked = []
        for event in events:
            bounds = self._bounds.get(event.tenant, ChainBounds())
            self._seq += 1
            record = link(self._seq, event, bounds.head_hash)
            self._records.setdefault(event.tenant, []).append(record)
            self._bounds[event.tenant] = replace(bounds, head_seq=record.seq, head_hash=record.hash)
            linked.append(record)
        return linked

    async def read(
        self, tenant: str, after_seq: int | None, first: int, action: str | None = None
    ) -> list[AuditRecord]:
        after = -1 if after_seq is None else after_seq
        chain = self._records.get(tenant, [])
        return [r for r in chain if r.seq > after and (action is None or r.event.action == action)][
            :first
        ]

    async def bounds(self, tenant: str) -> ChainBounds:
        return self._bounds.get(tenant, ChainBounds())

    async def prune(self, before: datetime) -> int:
        dropped = 0
        for tenant, chain in self._records.items():
            kept = list(itertools.dropwhile(lambda r: r.event.at < before, chain))
            gone = chain[: len(chain) - len(kept)]
            if gone:
                bounds = self._bounds[tenant]
                self._bounds[tenant] = replace(
                    bounds, anchor_seq=gone[-1].seq, anchor_hash=gone[-1].hash
                )
            dropped += len(gone)
            self._records[tenant] = kept
        return dropped

    async def close(self) -> None:
        return None
