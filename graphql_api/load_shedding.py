"""Bounded concurrency: at most ``limit`` HTTP requests in flight.

:class:`ConcurrencyLimit` is ASGI middleware. A request that finds every slot
taken waits up to ``queue_seconds`` for one; if none frees up, it is answered
at once with ``503 Service Unavailable``, a ``Retry-After`` header and a
GraphQL-shaped JSON body (``errors[0].extensions.code == "UNAVAILABLE"``),
without reaching the application. Health endpoints are exempt, so probes
still answer under load; WebSocket connections are not counted (each is
long-lived; their operations are bounded elsewhere).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send

from graph.errors import BadInput

EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/startupz", "/metrics"})

SATURATED_MESSAGE = "The server is busy; retry after the time given in Retry-After."


def check_limits(limit: int, queue_seconds: float, drain_seconds: float) -> None:
    """Refuse load and shutdown settings that cannot work (``BadInput``), at start-up."""
    if limit < 1:
        raise BadInput(f"setting max_concurrent_requests must be at least 1, got {limit}")
    if queue_seconds < 0:
        raise BadInput(f"setting request_queue_seconds must not be negative, got {queue_seconds}")
    if drain_seconds < 0:
        raise BadInput(f"setting shutdown_drain_seconds must not be negative, got {drain_seconds}")


class ConcurrencyLimit:
    """ASGI middleware bounding in-flight HTTP requests (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        queue_seconds: float,
        *,
        retry_after: float = 1.0,
        exempt: Collection[str] = EXEMPT_PATHS,
    ) -> None:
        check_limits(limit, queue_seconds, 0.0)
        self.app = app
        self.limit = limit
        self.queue_seconds = queue_seconds
        self.retry_after = max(1, math.ceil(retry_after))
        self.exempt = frozenset(exempt)
        self._slots = asyncio.Semaphore(limit)
        self.in_flight = 0
        self.rejected = 0
        """Requests answered 503 because every slot stayed taken."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        if not await self._acquire():
            self.rejected += 1
            await self._saturated(send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._slots.release()

    async def _acquire(self) -> bool:
        if not self._slots.locked():
            await self._slots.acquire()
            return True
        if self.queue_seconds == 0:
            return False
        try:
            async with asyncio.timeout(self.queue_seconds):
                await self._slots.acquire()
        except TimeoutError:
            return False
        return True

    async def _saturated(self, send: Send) -> None:
        body = json.dumps(
            {"errors": [{"message": SATURATED_MESSAGE, "extensions": {"code": "UNAVAILABLE"}}]}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
