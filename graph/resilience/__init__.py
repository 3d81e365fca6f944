"""Resilience at the port boundary: circuit breakers, retries with jitter.

Read API for metrics: ``MemoryGraph.backends.breakers`` lists every
:class:`CircuitBreaker` of the backend set; ``breaker.stats()`` gives its
name, state and counters (:class:`BreakerStats`).
"""

from graph.resilience.boundary import BreakerBoard, ResiliencePolicy
from graph.resilience.breaker import (
    BreakerPolicy,
    BreakerState,
    BreakerStats,
    CircuitBreaker,
    CircuitOpen,
)
from graph.resilience.guard import Guard, GuardedPort, guarded, unwrap
from graph.resilience.retry import NO_RETRY, RetryPolicy, is_transient, with_retries

__all__ = [
    "NO_RETRY",
    "BreakerBoard",
    "BreakerPolicy",
    "BreakerState",
    "BreakerStats",
    "CircuitBreaker",
    "CircuitOpen",
    "Guard",
    "GuardedPort",
    "ResiliencePolicy",
    "RetryPolicy",
    "guarded",
    "is_transient",
    "unwrap",
    "with_retries",
]
