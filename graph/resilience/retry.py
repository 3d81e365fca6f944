"""Retries with jitter, for idempotent calls that failed transiently.

A call is retried only when the caller declares it idempotent (reads, and
writes that give the same result when repeated, such as upserts keyed by id)
and the failure is transient: an ``Unavailable`` that is neither a refusal
by an open circuit nor the end of a timeout (a call that used its whole time
budget is not worth repeating at once). Pauses use "full jitter": a random
delay between 0 and ``base_delay * 2 ** attempt``, capped at ``max_delay``,
so callers that failed together do not come back together.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from graph.errors import Unavailable
from graph.resilience.breaker import CircuitOpen

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    """Tries in all, the first included (1 means no retry)."""
    base_delay: float = 0.05
    max_delay: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("retry attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry delays must not be negative")

    def delay(self, retry: int, draw: Callable[[], float] = random.random) -> float:
        """The pause before retry number ``retry`` (1 for the first retry)."""
        ceiling: float = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return draw() * ceiling


NO_RETRY = RetryPolicy(attempts=1)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is worth retrying at once (see the module docstring)."""
    if not isinstance(error, Unavailable) or isinstance(error, CircuitOpen):
        return False
    cause = error.__cause__
    return not isinstance(cause, TimeoutError)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    draw: Callable[[], float] = random.random,
) -> T:
    """Run ``call`` up to ``policy.attempts`` times while it fails transiently."""
    retry = 0
    while True:
        try:
            return await call()
        except Unavailable as exc:
            retry += 1
            if retry >= policy.attempts or not is_transient(exc):
                raise
        await sleep(policy.delay(retry, draw))
