"""A small GraphQL-over-HTTP client and a closed-loop load runner.

The client keeps connections alive (one ``httpx.AsyncClient`` with a pool as
large as the concurrency) and asks for ``application/graphql-response+json``.
The runner starts ``concurrency`` workers that each send one request, wait for
the answer and send the next, so the figures are what that many busy callers
see, client-side (HTTP, JSON encoding and decoding included).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

Data = dict[str, Any]
Check = Callable[[Data], bool]


class GraphQLFailure(RuntimeError):
    """A request that did not come back as data without errors."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer: status, the ``data`` member and the ``errors`` member."""

    status: int
    data: Data | None
    errors: list[Any] | None

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.errors and self.data is not None

    def describe(self) -> str:
        """A one-line account of what went wrong."""
        if self.errors:
            first = self.errors[0]
            code = (first.get("extensions") or {}).get("code") if isinstance(first, dict) else None
            message = first.get("message") if isinstance(first, dict) else first
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return f"HTTP {self.status} {code or ''}: {message}{more}".replace("  ", " ")
        if self.status != 200:
            return f"HTTP {self.status}"
        return "no data"


class GraphQLClient:
    """POSTs GraphQL documents to one endpoint over kept-alive connections."""

    def __init__(self, url: str, connections: int, timeout: float = 120.0) -> None:
        self.url = url
        self._http = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={
                "accept": "application/graphql-response+json",
                "content-type": "application/json",
            },
        )

    async def post(self, query: str, variables: Data | None = None) -> Reply:
        """Send one operation; transport failures raise ``httpx.HTTPError``."""
        body = json.dumps({"query": query, "variables": variables or {}})
        response = await self._http.post(self.url, content=body)
        try:
            payload = response.json()
        except ValueError:
            return Reply(response.status_code, None, [{"message": response.text[:200]}])
        if not isinstance(payload, dict):
            return Reply(response.status_code, None, [{"message": "response is not an object"}])
        return Reply(response.status_code, payload.get("data"), payload.get("errors"))

    async def data(self, query: str, variables: Data | None = None) -> Data:
        """The ``data`` of a successful answer; anything else raises ``GraphQLFailure``."""
        try:
            reply = await self.post(query, variables)
        except httpx.HTTPError as exc:
            raise GraphQLFailure(f"{type(exc).__name__}: {exc}") from exc
        if not reply.ok or reply.data is None:
            raise GraphQLFailure(reply.describe())
        return reply.data

    async def close(self) -> None:
        await self._http.aclose()


@dataclass
class Recorder:
    """Collects the latency and outcome of every request of one measurement."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    async def request(
        self, client: GraphQLClient, query: str, variables: Data, check: Check
    ) -> Data | None:
        """Send, time and judge one request; its data if it passed ``check``."""
        began = time.perf_counter()
        problem: str | None = None
        reply: Reply | None = None
        try:
            reply = await client.post(query, variables)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        self.latencies.append(time.perf_counter() - began)
        if reply is not None:
            if not reply.ok or reply.data is None:
                problem = reply.describe()
            elif not _passes(check, reply.data):
                problem = f"unexpected data: {json.dumps(reply.data)[:160]}"
        if problem is None:
            return reply.data if reply else None
        self.errors += 1
        self.first_error = self.first_error or problem
        return None


def _passes(check: Check, data: Data) -> bool:
    try:
        return bool(check(data))
    except (KeyError, TypeError, IndexError, AttributeError):
        return False


Call = Callable[[int, Recorder], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Run:
    """What one measurement produced: per-request records, per-call times, wall time."""

    recorder: Recorder
    call_latencies: list[float]
    elapsed: float


async def run_load(call: Call, *, requests: int, concurrency: int, warmup: int) -> Run:
    """Warm up with ``warmup`` calls (indices ``requests..``), then time ``requests`` calls.

    ``call(i, recorder)`` makes one logical call (one or more requests, each
    recorded through ``recorder``); ``concurrency`` workers run calls back to
    back. Warm-up calls use a throw-away recorder and are not counted.
    """

    async def drive(indices: list[int], recorder: Recorder, times: list[float]) -> None:
        queue = iter(indices)

        async def worker() -> None:
            for i in queue:
                began = time.perf_counter()
                await call(i, recorder)
                times.append(time.perf_counter() - began)

        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))

    await drive(list(range(requests, requests + warmup)), Recorder(), [])
    recorder = Recorder()
    times: list[float] = []
    began = time.perf_counter()
    await drive(list(range(requests)), recorder, times)
    return Run(recorder, times, time.perf_counter() - began)
