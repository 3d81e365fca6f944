"""Retries with jitter and the guard at the port boundary (pure code: a
scripted adapter stands in for a backend here; the real adapters run through
the same guards in every backend test, since ``open_backends`` applies them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from graph.errors import NotFound, Unavailable
from graph.resilience import (
    BreakerPolicy,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    Guard,
    RetryPolicy,
    guarded,
    is_transient,
    unwrap,
    with_retries,
)


def scripted(*outcomes: BaseException | str) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A call that raises or returns the given outcomes in turn; counts calls."""
    calls = [0]

    async def call() -> str:
        outcome = outcomes[min(calls[0], len(outcomes) - 1)]
        calls[0] += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return call, calls


async def no_sleep(delays: list[float], seconds: float) -> None:
    delays.append(seconds)


async def test_transient_failures_are_retried_with_growing_capped_jittered_pauses() -> None:
    delays: list[float] = []
    call, calls = scripted(Unavailable("x"), Unavailable("x"), Unavailable("x"), "ok")
    policy = RetryPolicy(attempts=4, base_delay=0.1, max_delay=0.3)
    result = await with_retries(call, policy, sleep=lambda s: no_sleep(delays, s), draw=lambda: 1.0)
    assert result == "ok" and calls[0] == 4
    assert delays == pytest.approx([0.1, 0.2, 0.3])
    assert policy.delay(1, lambda: 0.5) == pytest.approx(0.05)  # jitter scales the ceiling


async def test_attempts_are_bounded() -> None:
    call, calls = scripted(Unavailable("down"))
    with pytest.raises(Unavailable):
        await with_retries(call, RetryPolicy(attempts=3, base_delay=0.0))
    assert calls[0] == 3


@pytest.mark.parametrize(
    "error",
    [NotFound("gone"), CircuitOpen("open"), ValueError("bug")],
    ids=["domain-error", "open-circuit", "bug"],
)
async def test_other_failures_are_not_retried(error: Exception) -> None:
    call, calls = scripted(error)
    with pytest.raises(type(error)):
        await with_retries(call, RetryPolicy(attempts=3, base_delay=0.0))
    assert calls[0] == 1


def test_a_timeout_is_not_transient() -> None:
    try:
        raise Unavailable("slow") from TimeoutError()
    except Unavailable as exc:
        assert not is_transient(exc)
    assert is_transient(Unavailable("refused"))


class ScriptedStore:
    """An adapter with one read, one write, a property and close."""

    def __init__(self, *outcomes: BaseException | str) -> None:
        self.read_call, self.reads = scripted(*outcomes)
        self.write_call, self.writes = scripted(*outcomes)
        self.closed = False

    @property
    def dimensions(self) -> int:
        return 3

    async def read(self) -> str:
        return await self.read_call()

    async def write(self) -> str:
        return await self.write_call()

    async def close(self) -> None:
        self.closed = True


def guard(failure_threshold: int = 2, attempts: int = 3) -> Guard:
    breaker = CircuitBreaker(
        "search", BreakerPolicy(failure_threshold=failure_threshold, open_seconds=60.0)
    )
    return Guard(breaker, RetryPolicy(attempts=attempts, base_delay=0.0))


async def test_idempotent_methods_are_retried_and_others_are_not() -> None:
    store = ScriptedStore(Unavailable("blip"), "ok")
    port = guarded(store, guard(failure_threshold=5), idempotent={"read"})
    assert await port.read() == "ok"
    assert store.reads[0] == 2
    with pytest.raises(Unavailable):
        await port.write()
    assert store.writes[0] == 1


async def test_an_open_circuit_fails_fast_without_calling_the_adapter() -> None:
    store = ScriptedStore(Unavailable("down"))
    g = guard(failure_threshold=2, attempts=5)
    port = guarded(store, g, idempotent={"read"})
    with pytest.raises(Unavailable):
        await port.read()
    assert store.reads[0] == 2  # the breaker opened after two failures: retries stopped
    assert g.breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as refused:
        await port.write()
    assert store.writes[0] == 0
    assert refused.value.code == "UNAVAILABLE"
    assert refused.value.details == {"backend": "search"}


async def test_escaped_timeouts_and_socket_errors_become_unavailable() -> None:
    store = ScriptedStore(TimeoutError("driver internals"), ConnectionResetError("internals"))
    port = guarded(store, guard(failure_threshold=5, attempts=1), idempotent={"read"})
    with pytest.raises(Unavailable) as first:
        await port.read()
    with pytest.raises(Unavailable) as second:
        await port.read()
    assert "internals" not in first.value.message + second.value.message
    assert "in time" in first.value.message


async def test_an_answer_with_a_domain_error_counts_as_a_success() -> None:
    store = ScriptedStore(NotFound("no such memory"))
    g = guard(failure_threshold=1)
    port = guarded(store, g, idempotent={"read"})
    for _ in range(3):
        with pytest.raises(NotFound):
            await port.read()
    assert g.breaker.state is BreakerState.CLOSED
    assert g.breaker.stats().successes == 3


async def test_properties_close_and_the_adapter_pass_through() -> None:
    store = ScriptedStore("ok")
    g = guard(failure_threshold=1)
    port = guarded(store, g, idempotent=())
    g.breaker.acquire().failure()  # open
    assert port.dimensions == 3
    await port.close()  # not guarded: closing works with an open circuit
    assert store.closed
    assert unwrap(port) is store
