"""The circuit breaker's state machine, driven by a fake clock."""

from __future__ import annotations

import pytest

from graph.errors import Unavailable
from graph.resilience import BreakerPolicy, BreakerState, CircuitBreaker, CircuitOpen


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def breaker(clock: FakeClock, **policy: float) -> CircuitBreaker:
    values = {"failure_threshold": 3, "open_seconds": 10.0, **policy}
    return CircuitBreaker("graph", BreakerPolicy(**values), clock=clock)  # type: ignore[arg-type]


def fail(b: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        b.acquire().failure()


def succeed(b: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        b.acquire().success()


def test_consecutive_failures_open_the_circuit_and_calls_then_fail_fast() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 2)
    assert b.state is BreakerState.CLOSED
    fail(b)
    assert b.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as refused:
        b.acquire()
    assert isinstance(refused.value, Unavailable)
    assert refused.value.code == "UNAVAILABLE"
    stats = b.stats()
    assert (stats.failures, stats.rejected, stats.opened) == (3, 1, 1)
    assert b.retry_after() == pytest.approx(10.0)


def test_a_success_resets_the_consecutive_count() -> None:
    clock = FakeClock()
    b = breaker(clock, failure_ratio=1.0)
    for _ in range(5):
        fail(b, 2)
        succeed(b)
    assert b.state is BreakerState.CLOSED
    assert b.stats().consecutive_failures == 0


def test_a_failure_ratio_over_the_window_opens_the_circuit() -> None:
    clock = FakeClock()
    b = breaker(clock, failure_threshold=100, failure_ratio=0.5, window=10, minimum_calls=6)
    for _ in range(2):
        succeed(b)
        fail(b)
    assert b.state is BreakerState.CLOSED  # 4 outcomes: fewer than minimum_calls
    succeed(b)
    fail(b)
    assert b.state is BreakerState.OPEN  # 3 failures of 6 = 0.5


def test_after_the_cool_down_one_probe_goes_ahead_and_its_success_closes() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 3)
    clock.advance(9.9)
    with pytest.raises(CircuitOpen):
        b.acquire()
    clock.advance(0.1)
    assert b.state is BreakerState.HALF_OPEN
    probe = b.acquire()
    assert probe.probe
    with pytest.raises(CircuitOpen):
        b.acquire()  # the probe slot is taken
    probe.success()
    assert b.state is BreakerState.CLOSED
    succeed(b, 5)
    assert b.state is BreakerState.CLOSED


def test_a_failed_probe_opens_the_circuit_for_a_new_cool_down() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 3)
    clock.advance(10)
    b.acquire().failure()
    assert b.state is BreakerState.OPEN
    assert b.stats().opened == 2
    clock.advance(5)
    with pytest.raises(CircuitOpen):
        b.acquire()
    clock.advance(5)
    assert b.state is BreakerState.HALF_OPEN


def test_several_probes_must_all_succeed_to_close() -> None:
    clock = FakeClock()
    b = breaker(clock, probes=2)
    fail(b, 3)
    clock.advance(10)
    first, second = b.acquire(), b.acquire()
    with pytest.raises(CircuitOpen):
        b.acquire()
    first.success()
    assert b.state is BreakerState.HALF_OPEN
    second.success()
    assert b.state is BreakerState.CLOSED


def test_a_released_probe_frees_its_slot_without_deciding() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 3)
    clock.advance(10)
    b.acquire().release()  # e.g. cancelled
    assert b.state is BreakerState.HALF_OPEN
    b.acquire().success()
    assert b.state is BreakerState.CLOSED


def test_outcomes_of_calls_admitted_before_a_state_change_are_ignored() -> None:
    clock = FakeClock()
    b = breaker(clock)
    slow = b.acquire()  # admitted while closed
    fail(b, 3)
    clock.advance(10)
    slow.success()  # finishes late: says nothing about the backend now
    assert b.state is BreakerState.HALF_OPEN
    probe = b.acquire()
    assert probe.probe


def test_an_outcome_is_counted_once() -> None:
    clock = FakeClock()
    b = breaker(clock)
    permit = b.acquire()
    permit.failure()
    permit.failure()
    permit.success()
    assert (b.stats().failures, b.stats().successes) == (1, 0)


def test_stats_give_name_state_and_counters() -> None:
    clock = FakeClock()
    b = breaker(clock)
    succeed(b, 2)
    fail(b)
    stats = b.stats()
    assert stats.name == "graph"
    assert stats.state is BreakerState.CLOSED
    assert (stats.calls, stats.successes, stats.failures, stats.rejected) == (3, 2, 1, 0)
    assert stats.consecutive_failures == 1


@pytest.mark.parametrize(
    "policy",
    [
        {"failure_threshold": 0},
        {"failure_ratio": 0.0},
        {"failure_ratio": 1.5},
        {"window": 5, "minimum_calls": 6},
        {"probes": 0},
        {"open_seconds": -1.0},
    ],
)
def test_impossible_policies_are_refused(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(**policy)  # type: ignore[arg-type]


def test_close_listeners_hear_each_recovery_once() -> None:
    clock = FakeClock()
    b = breaker(clock)
    heard: list[str] = []
    b.on_close(lambda: heard.append("back"))
    succeed(b, 3)
    assert heard == []  # never open: nothing to recover from
    fail(b, 3)
    clock.advance(10)
    b.acquire().success()
    assert heard == ["back"]
