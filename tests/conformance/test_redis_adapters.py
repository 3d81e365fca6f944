"""RedisEventBus, RedisCache and LayeredCache against a real Redis server.

Redis comes from ``AGENTMEM_REDIS_URL`` (``eval "$(deploy/local/services up)"``).
Without it these tests are skipped, unless a requested backend set uses Redis,
in which case they fail. Tests marked ``outage`` stop Redis with
``deploy/local/services stop redis`` and always start it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from graph.adapters.inprocess import InProcessCache
from graph.adapters.redis import LayeredCache, RedisCache, RedisEventBus, open_redis_bus
from graph.errors import Unavailable
from graph.model import MemoryEvent, MemoryEventKind, utcnow
from tests.conftest import requested_backends
from tests.support import make_memory

WAIT = 5.0
REDIS_ENV = "AGENTMEM_REDIS_URL"
SETS_WITH_REDIS = {"production", "weaviate"}
SERVICES = Path(__file__).resolve().parents[2] / "deploy" / "local" / "services"


def event(number: int, tenant: str = "tenant-a") -> MemoryEvent:
    return MemoryEvent(MemoryEventKind.CREATED, make_memory(tenant, f"event {number}"), utcnow())


async def next_event(stream: AsyncIterator[MemoryEvent]) -> MemoryEvent:
    return await asyncio.wait_for(anext(stream), WAIT)


async def eventually(check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if url:
        return url
    needing = SETS_WITH_REDIS & set(requested_backends())
    if needing:
        pytest.fail(f"{REDIS_ENV} is not set but backend set(s) {sorted(needing)} need Redis.")
    pytest.skip(f'{REDIS_ENV} is not set (run `eval "$(deploy/local/services up)"`).')


@pytest.fixture
def channel() -> str:
    return f"agentmem-test:{uuid.uuid4().hex}"


@pytest.fixture
def prefix() -> str:
    return f"agentmem-test:{uuid.uuid4().hex}:"


@pytest.fixture
async def opened(redis_url: str) -> AsyncIterator[list[RedisEventBus | RedisCache | LayeredCache]]:
    """Everything a test opens, closed afterwards."""
    things: list[RedisEventBus | RedisCache | LayeredCache] = []
    yield things
    for thing in reversed(things):
        await thing.close()


@pytest.fixture
def new_bus(
    redis_url: str, channel: str, opened: list[RedisEventBus | RedisCache | LayeredCache]
) -> Callable[..., Awaitable[RedisEventBus]]:
    async def make(max_queued: int = 1000) -> RedisEventBus:
        bus = await open_redis_bus(redis_url, channel=channel, max_queued=max_queued)
        opened.append(bus)
        return bus

    return make


@pytest.fixture
def new_cache(
    redis_url: str, prefix: str, opened: list[RedisEventBus | RedisCache | LayeredCache]
) -> Callable[..., LayeredCache]:
    """A LayeredCache as one process would hold it: its own local layer, the
    shared Redis layer under this test's prefix."""

    def make(local_ttl: float = 30.0) -> LayeredCache:
        shared = RedisCache(redis_url, prefix=prefix, timeout=1.0)
        cache = LayeredCache(InProcessCache(), shared, local_ttl=local_ttl, retry_interval=0.2)
        opened.append(cache)
        return cache

    return make


# -- RedisEventBus ----------------------------------------------------------------------


async def test_two_processes_deliver_each_others_events(
    new_bus: Callable[..., Awaitable[RedisEventBus]],
) -> None:
    first, second = await new_bus(), await new_bus()
    on_first, on_second = first.subscribe(), second.subscribe()
    sent_first = [event(n) for n in range(3)]
    sent_second = [event(n) for n in range(3, 6)]
    for item in sent_first:
        await first.publish(item)
    for item in sent_second:
        await second.publish(item)
    # each process sees its own events in order and the other's in order
    got_first = [await next_event(on_first) for _ in range(6)]
    got_second = [await next_event(on_second) for _ in range(6)]
    for got in (got_first, got_second):
        assert [e for e in got if e in sent_first] == sent_first
        assert [e for e in got if e in sent_second] == sent_second
    assert got_first[:3] == sent_first  # local events arrive at once, before remote ones
    await on_first.aclose()
    await on_second.aclose()
    await asyncio.sleep(0.1)
    assert first.received == 3 and second.received == 3  # own events never come back twice


async def test_events_survive_the_json_round_trip_exactly(
    new_bus: Callable[..., Awaitable[RedisEventBus]],
) -> None:
    first, second = await new_bus(), await new_bus()
    stream = second.subscribe()
    memory = make_memory(
        "tenant-ü", "naïve content ✓", tags=("a", "b"), metadata={"k": [1, 2.5, None]}
    )
    sent = MemoryEvent(MemoryEventKind.INVALIDATED, memory, utcnow())
    await first.publish(sent)
    assert await next_event(stream) == sent
    await stream.aclose()


async def test_subscribe_registers_before_returning(
    new_bus: Callable[..., Awaitable[RedisEventBus]],
) -> None:
    first, second = await new_bus(), await new_bus()
    await first.publish(event(0))
    await asyncio.sleep(0.2)  # event 0 has arrived everywhere before anyone subscribes
    local, remote = first.subscribe(), second.subscribe()
    assert first.subscriber_count == 1 and second.subscriber_count == 1
    await first.publish(event(1))  # before either generator started
    assert (await next_event(local)).memory.content == "event 1"
    assert (await next_event(remote)).memory.content == "event 1"
    await local.aclose()
    await remote.aclose()
    assert first.subscriber_count == 0


async def test_one_redis_subscription_per_process_whatever_the_subscriber_count(
    new_bus: Callable[..., Awaitable[RedisEventBus]], redis_url: str, channel: str
) -> None:
    first, second = await new_bus(), await new_bus()
    streams = [first.subscribe() for _ in range(50)]
    admin = Redis.from_url(redis_url)
    try:
        [(_, count)] = await admin.pubsub_numsub(channel)
        assert count == 2
    finally:
        await admin.aclose()
    await second.publish(event(7))
    for stream in streams:
        assert (await next_event(stream)).memory.content == "event 7"
        await stream.aclose()


async def test_a_slow_subscriber_drops_its_oldest_events(
    new_bus: Callable[..., Awaitable[RedisEventBus]],
) -> None:
    receiver, sender = await new_bus(max_queued=3), await new_bus()
    slow, fast = receiver.subscribe(), receiver.subscribe()
    sent = [event(n) for n in range(5)]
    for item in sent:
        await sender.publish(item)
        assert await next_event(fast) == item
    await eventually(lambda: receiver.received == 5)
    assert receiver.dropped == 2
    assert [await next_event(slow) for _ in range(3)] == sent[2:]
    await slow.aclose()
    await fast.aclose()


async def test_messages_that_are_not_events_are_ignored(
    new_bus: Callable[..., Awaitable[RedisEventBus]], redis_url: str, channel: str
) -> None:
    bus, sender = await new_bus(), await new_bus()
    stream = bus.subscribe()
    admin = Redis.from_url(redis_url)
    try:
        for junk in (b"not json", b"[]", b'{"origin": "x"}', b'{"event": {"kind": "NOPE"}}'):
            await admin.publish(channel, junk)
    finally:
        await admin.aclose()
    await sender.publish(event(1))
    assert (await next_event(stream)).memory.content == "event 1"
    assert bus.malformed == 4
    await stream.aclose()


async def test_bus_ping_and_close(new_bus: Callable[..., Awaitable[RedisEventBus]]) -> None:
    bus = await new_bus()
    await bus.ping()
    stream = bus.subscribe()
    await bus.close()
    with pytest.raises(StopAsyncIteration):
        await next_event(stream)
    with pytest.raises(Unavailable):
        await bus.ping()
    await bus.publish(event(1))  # ignored after close


async def test_opening_a_bus_on_an_unreachable_redis_fails_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await open_redis_bus("redis://127.0.0.1:1/0", timeout=0.5)
    assert time.monotonic() - started < 3.0


# -- RedisCache and LayeredCache ------------------------------------------------------------


async def test_redis_cache_get_set_delete_and_ttl(
    redis_url: str, prefix: str, opened: list[RedisEventBus | RedisCache | LayeredCache]
) -> None:
    cache = RedisCache(redis_url, prefix=prefix)
    opened.append(cache)
    await cache.ping()
    assert await cache.get("missing") is None
    await cache.set("k", b"\x00\xffbinary", 60)
    assert await cache.get("k") == b"\x00\xffbinary"
    found = await cache.get_with_ttl("k")
    assert found is not None and found[0] == b"\x00\xffbinary" and 59 < found[1] <= 60
    await cache.set("short", b"x", 0.05)
    await cache.set("gone", b"x", 60)
    await cache.set("gone", b"x", 0)  # a non-positive ttl removes
    await asyncio.sleep(0.15)
    assert await cache.get("short") is None
    assert await cache.get("gone") is None
    await cache.delete(["k", "never-set"])
    assert await cache.get("k") is None
    await cache.delete([])
    admin = Redis.from_url(redis_url)
    try:
        await cache.set("visible", b"1", 60)
        assert await admin.get(prefix + "visible") == b"1"
    finally:
        await admin.aclose()
    await cache.clear()
    assert await cache.get("visible") is None


async def test_layered_cache_reads_through_and_fills_the_local_layer(
    new_cache: Callable[..., LayeredCache],
) -> None:
    writer, reader = new_cache(), new_cache()
    await writer.set("k", b"v1", 60)
    assert await writer.local.get("k") == b"v1"
    assert await reader.local.get("k") is None
    assert await reader.get("k") == b"v1"  # from Redis ...
    assert await reader.local.get("k") == b"v1"  # ... and now held locally
    await writer.set("k", b"v2", 60)
    assert await writer.get("k") == b"v2"
    await writer.delete(["k"])
    assert await writer.get("k") is None
    assert await reader.shared.get("k") is None


async def test_layered_cache_sees_other_processes_changes_within_the_local_ttl(
    new_cache: Callable[..., LayeredCache],
) -> None:
    writer, reader = new_cache(), new_cache(local_ttl=0.2)
    await writer.set("k", b"old", 60)
    assert await reader.get("k") == b"old"
    await writer.set("k", b"new", 60)
    assert await reader.get("k") == b"old"  # the local copy, for at most local_ttl
    await asyncio.sleep(0.3)
    assert await reader.get("k") == b"new"


async def test_layered_cache_entries_expire_in_both_layers(
    new_cache: Callable[..., LayeredCache],
) -> None:
    writer, reader = new_cache(), new_cache()
    await writer.set("short", b"x", 0.1)
    await writer.set("long", b"y", 60)
    assert await reader.get("short") == b"x"  # copied locally with the remaining ttl
    await asyncio.sleep(0.25)
    for cache in (writer, reader):
        assert await cache.get("short") is None
        assert await cache.get("long") == b"y"


async def test_the_fresh_view_reads_redis_first(new_cache: Callable[..., LayeredCache]) -> None:
    writer, reader = new_cache(), new_cache()
    fresh = reader.fresh_view()
    await writer.set("gen", b"1", 60)
    assert await reader.get("gen") == b"1"  # now held locally by the reader
    await writer.set("gen", b"2", 60)
    assert await reader.get("gen") == b"1"  # the plain read may be stale ...
    assert await fresh.get("gen") == b"2"  # ... the fresh view never is
    await writer.delete(["gen"])
    assert await fresh.get("gen") is None
    assert await reader.get("gen") is None  # the fresh miss dropped the local copy
    await fresh.set("gen", b"3", 60)
    assert await writer.get("gen") == b"3"
    await fresh.ping()
    await fresh.close()  # owns nothing: the layered cache still works
    assert await reader.get("gen") == b"3"


async def test_a_bus_built_directly_starts_its_subscription_when_used(
    redis_url: str, channel: str, opened: list[RedisEventBus | RedisCache | LayeredCache]
) -> None:
    direct = RedisEventBus(redis_url, channel=channel)
    opened.append(direct)
    stream = direct.subscribe()
    await eventually(lambda: direct.connected)
    sender = await open_redis_bus(redis_url, channel=channel)
    opened.append(sender)
    await sender.publish(event(3))
    assert (await next_event(stream)).memory.content == "event 3"
    await stream.aclose()


# -- outages ------------------------------------------------------------------------------


def _services(*args: str) -> None:
    subprocess.run(["bash", str(SERVICES), *args], check=True, timeout=300, capture_output=True)


@pytest.fixture
def redis_outage(redis_url: str) -> Iterator[Callable[[], None]]:
    """Call the yielded function to stop Redis; it is started again (and
    awaited) after the test whatever happens."""
    if not SERVICES.exists():
        pytest.fail(f"{SERVICES} is missing: outage tests need it.")
    stopped = False

    def stop() -> None:
        nonlocal stopped
        stopped = True
        _services("stop", "redis")

    try:
        yield stop
    finally:
        if stopped:
            _services("start", "redis")


@pytest.mark.outage
async def test_redis_outage_layered_cache_carries_on_locally_and_recovers(
    new_cache: Callable[..., LayeredCache],
    redis_outage: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache, other = new_cache(), new_cache()
    await cache.set("before", b"1", 60)
    await cache.set("doomed", b"old", 60)
    redis_outage()
    caplog.set_level(logging.WARNING, logger="graph.adapters.redis.cache")
    started = time.monotonic()
    for n in range(50):
        await cache.set(f"during-{n}", b"2", 60)
        assert await cache.get(f"during-{n}") == b"2"
    assert await cache.get("before") == b"1"  # still held locally
    await cache.delete(["doomed"])
    await cache.set("rewritten", b"new", 60)
    assert await cache.get("doomed") is None
    assert cache.degraded
    with pytest.raises(Unavailable):
        await cache.ping()

    def warnings() -> int:
        return sum("unavailable" in r.getMessage() for r in caplog.records)

    assert warnings() == 1  # one warning per outage, not per call
    assert await other.get("before") is None  # nothing local, Redis down: a miss
    assert warnings() == 2  # the other process's cache noticed the outage too
    assert await cache.fresh_view().get("before") == b"1"  # local answers while Redis is down
    assert time.monotonic() - started < 5.0
    _services("start", "redis")
    await asyncio.sleep(0.3)  # past the retry interval
    await cache.ping()
    assert not cache.degraded
    await cache.set("after", b"3", 60)
    assert await other.get("after") == b"3"
    assert await other.get("doomed") is None  # the delete made during the outage landed
    assert cache.outages == 1


@pytest.mark.outage
async def test_redis_outage_bus_keeps_local_subscribers_and_reconnects(
    new_bus: Callable[..., Awaitable[RedisEventBus]],
    redis_outage: Callable[[], None],
) -> None:
    first, second = await new_bus(), await new_bus()
    local, remote = first.subscribe(), second.subscribe()
    redis_outage()
    await eventually(lambda: not first.connected)
    with pytest.raises(Unavailable):
        await first.ping()
    started = time.monotonic()
    for n in range(3):
        await first.publish(event(n))  # never raises
    assert time.monotonic() - started < 3.0
    assert [(await next_event(local)).memory.content for _ in range(3)] == [
        "event 0",
        "event 1",
        "event 2",
    ]
    assert first.unsent == 3
    _services("start", "redis")
    await eventually(lambda: first.connected and second.connected, timeout=15.0)
    await first.ping()
    assert first.reconnects == 1 and second.reconnects == 1
    await first.publish(event(10))
    await second.publish(event(11))
    assert (await next_event(local)).memory.content == "event 10"
    assert (await next_event(local)).memory.content == "event 11"
    # the subscriber on the other process kept its generator; it lost what was
    # published during the outage and gets everything after it
    got = {(await next_event(remote)).memory.content for _ in range(2)}
    assert got == {"event 10", "event 11"}
    await local.aclose()
    await remote.aclose()
