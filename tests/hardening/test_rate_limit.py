"""Per-principal, cost-weighted rate limits: the token-bucket arithmetic, each
RateLimiter adapter (in-process always; Redis whenever a requested backend
set includes Redis), and a burst over HTTP answering RATE_LIMITED with 429."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from graph.adapters.rate_limit import InProcessRateLimiter
from graph.adapters.redis.rate_limit import RedisRateLimiter
from graph.ports import RateLimiter
from graph.token_bucket import Bucket, take
from tests.conftest import requested_backends, server_settings
from tests.hardening.conftest import Serve, first_error, post
from tests.support import BACKEND_SERVERS

WITH_REDIS = any("redis" in BACKEND_SERVERS.get(name, ()) for name in requested_backends())
LIMITERS = ["in-process", *(["redis"] if WITH_REDIS else [])]


def test_a_missing_bucket_is_full_and_refills_at_the_rate() -> None:
    bucket, wait = take(None, 100.0, 3, per_second=2, burst=5)
    assert (bucket, wait) == (Bucket(2, 100.0), 0.0)
    bucket, wait = take(bucket, 100.0, 4, per_second=2, burst=5)
    assert (bucket, wait) == (Bucket(2, 100.0), 1.0)  # refused: nothing taken
    bucket, wait = take(bucket, 101.0, 4, per_second=2, burst=5)
    assert (bucket, wait) == (Bucket(0, 101.0), 0.0)
    bucket, _ = take(bucket, 1000.0, 0, per_second=2, burst=5)
    assert bucket.tokens == 5  # never above the burst


def test_a_cost_above_the_burst_is_charged_as_a_full_bucket() -> None:
    bucket, wait = take(None, 0.0, 50, per_second=1, burst=10)
    assert (bucket.tokens, wait) == (0, 0.0)


@pytest.fixture(params=LIMITERS)
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "redis":
        made: RateLimiter = RedisRateLimiter(
            server_settings()[2], prefix=f"test-rate-{uuid.uuid4().hex}:"
        )
    else:
        made = InProcessRateLimiter()
    yield made
    await made.close()


async def test_a_burst_past_the_bucket_waits_for_the_refill(limiter: RateLimiter) -> None:
    granted = [await limiter.acquire("t:alice", 1, per_second=1, burst=3) for _ in range(3)]
    assert granted == [0, 0, 0]
    wait = await limiter.acquire("t:alice", 1, per_second=1, burst=3)
    assert 0.5 < wait <= 1.0
    assert await limiter.acquire("t:bob", 1, per_second=1, burst=3) == 0  # buckets are per key


async def test_tokens_come_back_at_the_rate(limiter: RateLimiter) -> None:
    assert await limiter.acquire("t:carol", 10, per_second=200, burst=10) == 0
    assert await limiter.acquire("t:carol", 10, per_second=200, burst=10) > 0
    await asyncio.sleep(0.08)
    assert await limiter.acquire("t:carol", 10, per_second=200, burst=10) == 0


async def test_requests_are_weighted_by_their_cost(limiter: RateLimiter) -> None:
    assert await limiter.acquire("t:dan", 8, per_second=1, burst=10) == 0
    wait = await limiter.acquire("t:dan", 8, per_second=1, burst=10)
    assert 5.5 < wait <= 6.0
    assert await limiter.acquire("t:dan", 2, per_second=1, burst=10) == 0


@pytest.mark.parametrize("shared", LIMITERS)
async def test_a_burst_over_http_answers_rate_limited_with_retry_after(
    serve: Serve, shared: str
) -> None:
    redis_url = server_settings()[2] if shared == "redis" else None
    client = await serve(
        rate_limits="admin=0.5/5", redis_url=redis_url, tenant=f"rate-{uuid.uuid4().hex}"
    )
    query = "{ memories { totalCount } }"  # cost 1
    statuses = [(await post(client, query)).status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = await post(client, query)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    error = first_error(refused)
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 2}
    legacy = await post(client, query, accept="application/json")
    assert legacy.status_code == 429


async def test_costly_queries_drain_the_bucket_faster(serve: Serve) -> None:
    client = await serve(rate_limits="admin=1/100")
    heavy = "{ memories(first: 40) { edges { node { id } } } }"  # cost 81
    assert (await post(client, heavy)).status_code == 200
    refused = await post(client, heavy)
    assert refused.status_code == 429
    assert first_error(refused)["extensions"]["code"] == "RATE_LIMITED"
    assert (await post(client, "{ memories { totalCount } }")).status_code == 200


@pytest.mark.skipif(not WITH_REDIS, reason="runs when a requested backend set includes Redis")
async def test_redis_buckets_are_shared_by_every_server_process() -> None:
    url, prefix = server_settings()[2], f"test-rate-{uuid.uuid4().hex}:"
    first, second = RedisRateLimiter(url, prefix=prefix), RedisRateLimiter(url, prefix=prefix)
    try:
        assert await first.acquire("t:erin", 2, per_second=1, burst=3) == 0
        assert await second.acquire("t:erin", 2, per_second=1, burst=3) > 0  # same bucket
    finally:
        await first.close()
        await second.close()
