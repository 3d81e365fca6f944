"""Breakers and retries applied at the port boundary.

:class:`Guard` runs one backend call under that backend's circuit breaker
and, for idempotent calls, its retry policy. :class:`GuardedPort` wraps a
port object (a ``GraphStore``, ``SearchIndex``, ``Cache``, ``Embedder``) so
every coroutine method goes through its guard; anything else (properties,
``close``, generator methods such as ``EventBus.subscribe``) passes straight
through, and so do methods an adapter adds beyond its port.

What counts as a backend failure (for the breaker): ``Unavailable`` and a
``TimeoutError`` or ``OSError`` that escaped the adapter (those two are
turned into ``Unavailable`` here, so no driver message reaches a client).
Any other domain error (``NotFound``, ``Conflict``...) means the backend
answered: a success. Anything else (a bug, a cancellation) says nothing
about the backend and is not counted.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

from graph.errors import DomainError, Unavailable
from graph.resilience.breaker import CircuitBreaker
from graph.resilience.retry import NO_RETRY, RetryPolicy, with_retries

T = TypeVar("T")


class Guard:
    """One backend's breaker and retry policy."""

    def __init__(self, breaker: CircuitBreaker, retry: RetryPolicy = NO_RETRY) -> None:
        self.breaker = breaker
        self.retry = retry

    async def call(self, call: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        """Run ``call`` through the breaker; retry it only if ``idempotent``."""
        return await with_retries(lambda: self._once(call), self.retry if idempotent else NO_RETRY)

    async def _once(self, call: Callable[[], Awaitable[T]]) -> T:
        permit = self.breaker.acquire()
        try:
            result = await call()
        except Unavailable:
            permit.failure()
            raise
        except (TimeoutError, OSError) as exc:
            permit.failure()
            raise Unavailable(
                f"The {self.breaker.name} backend did not answer in time; try again shortly."
                if isinstance(exc, TimeoutError)
                else f"The {self.breaker.name} backend is unavailable; try again shortly."
            ) from exc
        except DomainError:
            permit.success()
            raise
        except BaseException:
            permit.release()
            raise
        permit.success()
        return result


class GuardedPort:
    """A port object whose coroutine methods run through a :class:`Guard`.

    ``idempotent`` names the methods that may be retried. Typed as the
    wrapped port by :func:`guarded`; :attr:`target` is the adapter itself.
    """

    def __init__(
        self,
        target: object,
        guard: Guard,
        idempotent: Collection[str],
        unguarded: Collection[str] = ("close",),
    ) -> None:
        self.target = target
        self.guard = guard
        self._idempotent = frozenset(idempotent)
        self._unguarded = frozenset(unguarded)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.target, name)
        if name in self._unguarded or not inspect.iscoroutinefunction(attribute):
            return attribute
        guard = self.guard
        idempotent = name in self._idempotent

        async def guarded_call(*args: Any, **kwargs: Any) -> Any:
            return await guard.call(lambda: attribute(*args, **kwargs), idempotent=idempotent)

        guarded_call.__name__ = name
        guarded_call.__doc__ = attribute.__doc__
        return guarded_call

    def __repr__(self) -> str:
        return f"GuardedPort({self.target!r}, breaker={self.guard.breaker.name!r})"


def guarded(port: T, guard: Guard, idempotent: Collection[str]) -> T:
    """``port`` with its coroutine methods behind ``guard`` (see :class:`GuardedPort`)."""
    proxy: Any = GuardedPort(port, guard, idempotent)
    wrapped: T = proxy
    return wrapped


def unwrap(port: object) -> object:
    """The adapter behind a guarded port (or ``port`` itself)."""
    while isinstance(port, GuardedPort):
        port = port.target
    return port
