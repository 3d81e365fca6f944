"""A circuit breaker: a pure state machine that stops calling a backend that
keeps failing, and probes it carefully until it answers again.

States
    ``closed``: calls go ahead. The breaker opens after
    ``failure_threshold`` consecutive failures, or when at least
    ``failure_ratio`` of the last ``window`` calls failed (counted once the
    window holds ``minimum_calls`` outcomes).

    ``open``: calls fail at once with :class:`CircuitOpen` (an
    ``Unavailable``), without touching the backend, for ``open_seconds``.

    ``half_open``: after the cool-down, up to ``probes`` calls at a time go
    ahead as probes; every other call fails fast. A failed probe opens the
    breaker again (a new cool-down); ``probes`` successful probes close it.

The breaker knows nothing of I/O: a caller asks :meth:`CircuitBreaker.acquire`
for a :class:`Permit` and reports the outcome on it. Time comes from an
injectable ``clock`` so the state machine can be tested without waiting.
Outcomes reported on a permit taken before the last state change are
ignored (a slow call started while closed cannot close a breaker that has
opened since).
"""

from __future__ import annotations

import enum
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from graph.errors import Unavailable

log = logging.getLogger(__name__)


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Unavailable):
    """A call refused without trying: the backend's circuit is open."""


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens, how long it stays open, how it probes."""

    failure_threshold: int = 5
    """Consecutive failures that open the circuit."""
    failure_ratio: float = 0.5
    """Share of failed calls in the window that opens the circuit."""
    window: int = 20
    """How many recent outcomes the ratio is computed over."""
    minimum_calls: int = 10
    """Outcomes the window must hold before the ratio can open the circuit."""
    open_seconds: float = 5.0
    """Cool-down before the first probe."""
    probes: int = 1
    """Probe calls admitted at a time while half-open, and successes needed to close."""

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.window < 1 or self.probes < 1:
            raise ValueError("breaker thresholds, window and probes must be at least 1")
        if not 0.0 < self.failure_ratio <= 1.0:
            raise ValueError("the breaker failure ratio must be in (0, 1]")
        if not 1 <= self.minimum_calls <= self.window:
            raise ValueError("the breaker minimum_calls must be between 1 and window")
        if self.open_seconds < 0:
            raise ValueError("the breaker open_seconds must not be negative")


@dataclass(frozen=True, slots=True)
class BreakerStats:
    """A breaker's state and counters since it was created (for metrics)."""

    name: str
    state: BreakerState
    calls: int
    """Calls admitted (closed or as probes)."""
    successes: int
    failures: int
    rejected: int
    """Calls refused because the circuit was open (or its probes busy)."""
    opened: int
    """Times the circuit opened."""
    consecutive_failures: int
    state_since: float
    """Clock reading of the last state change."""


class Permit:
    """One admitted call; report its outcome exactly once (later reports are ignored)."""

    __slots__ = ("_breaker", "_done", "_generation", "probe")

    def __init__(self, breaker: CircuitBreaker, generation: int, probe: bool) -> None:
        self._breaker = breaker
        self._generation = generation
        self._done = False
        self.probe = probe

    def success(self) -> None:
        if not self._done:
            self._done = True
            self._breaker._settle(self, ok=True)

    def failure(self) -> None:
        if not self._done:
            self._done = True
            self._breaker._settle(self, ok=False)

    def release(self) -> None:
        """The call ended without telling anything about the backend
        (cancelled, or failed for a reason of its own)."""
        if not self._done:
            self._done = True
            self._breaker._settle(self, ok=None)


class CircuitBreaker:
    """One backend's breaker (see the module docstring)."""

    def __init__(
        self,
        name: str,
        policy: BreakerPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        message: str | None = None,
    ) -> None:
        self.name = name
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._message = message or f"The {name} backend is unavailable; try again shortly."
        self._state = BreakerState.CLOSED
        self._since = clock()
        self._generation = 0
        self._outcomes: deque[bool] = deque(maxlen=self.policy.window)
        self._consecutive = 0
        self._probes_in_flight = 0
        self._probe_successes = 0
        self._calls = 0
        self._successes = 0
        self._failures = 0
        self._rejected = 0
        self._opened = 0
        self._on_close: list[Callable[[], None]] = []

    @property
    def state(self) -> BreakerState:
        """The current state; an open circuit whose cool-down has passed reads as half-open."""
        if self._state is BreakerState.OPEN and self._cooled_down():
            self._transition(BreakerState.HALF_OPEN)
        return self._state

    def stats(self) -> BreakerStats:
        state = self.state
        return BreakerStats(
            name=self.name,
            state=state,
            calls=self._calls,
            successes=self._successes,
            failures=self._failures,
            rejected=self._rejected,
            opened=self._opened,
            consecutive_failures=self._consecutive,
            state_since=self._since,
        )

    def on_close(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` each time the circuit closes again after being
        open (the backend is back), e.g. to resume deferred work at once."""
        self._on_close.append(listener)

    def retry_after(self) -> float:
        """Seconds until the next probe may go ahead (0 unless open)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._since + self.policy.open_seconds - self._clock())

    def acquire(self) -> Permit:
        """Admit one call, or raise :class:`CircuitOpen` without calling."""
        state = self.state
        if state is BreakerState.CLOSED:
            self._calls += 1
            return Permit(self, self._generation, probe=False)
        if state is BreakerState.HALF_OPEN and self._probes_in_flight < self.policy.probes:
            self._probes_in_flight += 1
            self._calls += 1
            return Permit(self, self._generation, probe=True)
        self._rejected += 1
        raise CircuitOpen(self._message, backend=self.name)

    # -- outcomes ---------------------------------------------------------------------

    def _settle(self, permit: Permit, ok: bool | None) -> None:
        if ok is True:
            self._successes += 1
        elif ok is False:
            self._failures += 1
        if permit._generation != self._generation:
            return  # admitted before the last state change: says nothing about now
        if permit.probe:
            self._probes_in_flight -= 1
            if ok is True:
                self._probe_successes += 1
                if self._probe_successes >= self.policy.probes:
                    self._transition(BreakerState.CLOSED)
            elif ok is False:
                self._trip()
            return
        if ok is None:
            return
        self._outcomes.append(ok)
        self._consecutive = 0 if ok else self._consecutive + 1
        if not ok and self._should_open():
            self._trip()

    def _should_open(self) -> bool:
        policy = self.policy
        if self._consecutive >= policy.failure_threshold:
            return True
        if len(self._outcomes) < policy.minimum_calls:
            return False
        failed = sum(1 for ok in self._outcomes if not ok)
        return failed / len(self._outcomes) >= policy.failure_ratio

    def _trip(self) -> None:
        self._opened += 1
        self._transition(BreakerState.OPEN)

    def _cooled_down(self) -> bool:
        return self._clock() - self._since >= self.policy.open_seconds

    def _transition(self, state: BreakerState) -> None:
        previous = self._state
        self._state = state
        self._since = self._clock()
        self._generation += 1
        self._probes_in_flight = 0
        self._probe_successes = 0
        if state is BreakerState.CLOSED:
            self._outcomes.clear()
            self._consecutive = 0
        if state is not previous and state is not BreakerState.HALF_OPEN:
            log.warning("circuit %s: %s -> %s", self.name, previous.value, state.value)
        if state is BreakerState.CLOSED and previous is not BreakerState.CLOSED:
            for listener in self._on_close:
                try:
                    listener()
                except Exception:
                    log.exception("circuit %s: a close listener failed", self.name)
