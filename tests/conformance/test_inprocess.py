"""EventBus and Cache behaviour: the port contract through ``backends``, plus the
in-process adapters' own guarantees (bounded queues, drop counting, LRU)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest

from graph.adapters.inprocess import InProcessCache, InProcessEventBus
from graph.model import MemoryEvent, MemoryEventKind, utcnow
from graph.ports import Backends
from tests.support import make_memory

WAIT = 2.0


def event(number: int, tenant: str = "tenant-a") -> MemoryEvent:
    memory = make_memory(tenant, f"event {number}")
    return MemoryEvent(MemoryEventKind.CREATED, memory, utcnow())


async def next_event(stream: AsyncIterator[MemoryEvent]) -> MemoryEvent:
    return await asyncio.wait_for(anext(stream), WAIT)


# -- EventBus through the backend set --------------------------------------------------


async def test_every_subscriber_receives_every_event_in_order(backends: Backends) -> None:
    bus = backends.bus
    first, second = bus.subscribe(), bus.subscribe()
    sent = [event(n) for n in range(3)]
    for item in sent:
        await bus.publish(item)
    for stream in (first, second):
        assert [await next_event(stream) for _ in sent] == sent
        await stream.aclose()


async def test_a_subscriber_sees_only_events_published_after_it_subscribed(
    backends: Backends,
) -> None:
    bus = backends.bus
    await bus.publish(event(0))
    stream = bus.subscribe()
    later = event(1)
    await bus.publish(later)
    assert await next_event(stream) == later
    await stream.aclose()


async def test_a_closed_subscription_no_longer_receives_events(backends: Backends) -> None:
    bus = backends.bus
    closed, open_ = bus.subscribe(), bus.subscribe()
    await bus.publish(event(0))
    await next_event(closed)
    await closed.aclose()
    await bus.publish(event(1))
    with pytest.raises(StopAsyncIteration):
        await anext(closed)
    assert (await next_event(open_)).memory.content == "event 0"
    assert (await next_event(open_)).memory.content == "event 1"
    await open_.aclose()


# -- Cache through the backend set -----------------------------------------------------


async def test_cache_returns_what_was_set_until_deleted(backends: Backends) -> None:
    cache = backends.cache
    assert await cache.get("missing") is None
    await cache.set("k1", b"\x00value", 60)
    await cache.set("k2", b"other", 60)
    assert await cache.get("k1") == b"\x00value"
    await cache.set("k1", b"replaced", 60)
    assert await cache.get("k1") == b"replaced"
    await cache.delete(["k1", "never-set"])
    assert await cache.get("k1") is None
    assert await cache.get("k2") == b"other"
    await cache.delete([])


async def test_cache_entries_expire_after_their_ttl(backends: Backends) -> None:
    cache = backends.cache
    await cache.set("short", b"x", 0.05)
    await cache.set("long", b"y", 60)
    await asyncio.sleep(0.2)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"y"


# -- InProcessEventBus specifics ----------------------------------------------------------


async def test_a_slow_subscriber_drops_its_oldest_events_without_blocking_publishers() -> None:
    bus = InProcessEventBus(max_queued=3)
    slow, fast = bus.subscribe(), bus.subscribe()
    sent = [event(n) for n in range(5)]
    for item in sent:
        await asyncio.wait_for(bus.publish(item), WAIT)  # never waits on a full queue
        assert await next_event(fast) == item
    assert bus.dropped == 2
    assert [await next_event(slow) for _ in range(3)] == sent[2:]
    await slow.aclose()
    await fast.aclose()
    await bus.close()


async def test_subscribing_registers_at_once_and_closing_unregisters() -> None:
    bus = InProcessEventBus()
    stream = bus.subscribe()
    assert bus.subscriber_count == 1
    await bus.publish(event(0))  # before the first iteration: still delivered
    assert (await next_event(stream)).memory.content == "event 0"
    await stream.aclose()
    assert bus.subscriber_count == 0
    never_started = bus.subscribe()
    assert bus.subscriber_count == 1
    del never_started
    gc.collect()
    assert bus.subscriber_count == 0
    await bus.close()


async def test_closing_the_bus_ends_every_subscription() -> None:
    bus = InProcessEventBus()
    stream = bus.subscribe()
    waiter = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    await bus.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiter, WAIT)
    await bus.publish(event(1))  # ignored after close
    late = bus.subscribe()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(late), WAIT)
    await bus.close()


def test_the_bus_rejects_a_queue_bound_below_one() -> None:
    with pytest.raises(ValueError):
        InProcessEventBus(max_queued=0)


# -- InProcessCache specifics -------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_cache_evicts_the_least_recently_used_entry_when_full() -> None:
    cache = InProcessCache(max_entries=2)
    await cache.set("a", b"1", 60)
    await cache.set("b", b"2", 60)
    assert await cache.get("a") == b"1"  # "b" is now the least recently used
    await cache.set("c", b"3", 60)
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1"
    assert await cache.get("c") == b"3"
    assert len(cache) == 2


async def test_cache_ttl_is_measured_on_its_clock_and_non_positive_ttl_removes() -> None:
    clock = FakeClock()
    cache = InProcessCache(clock=clock)
    await cache.set("k", b"v", 10)
    clock.now += 9.999
    assert await cache.get("k") == b"v"
    clock.now += 0.001
    assert await cache.get("k") is None
    assert len(cache) == 0
    await cache.set("k", b"v", 10)
    await cache.set("k", b"v", 0)
    assert await cache.get("k") is None
    await cache.close()
