"""The real Starlette app, in process: ``serve`` opens it over HTTP; tests
talk to it with httpx over ASGI (lifespan run, backends opened from the
settings as the server does, in this test's folder)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.memory_graph import MemoryGraph
from graph.ports import Backends
from graphql_api.app import create_app
from graphql_api.settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"

Serve = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    """``await serve(**settings)``: a client of a fresh app with those settings
    (embedded backends in this test's folder unless the settings say otherwise)."""
    started: list[Path] = []
    async with AsyncExitStack() as stack:

        async def start(**values: Any) -> httpx.AsyncClient:
            started.append(tmp_path / f"data{len(started)}")
            settings = Settings(data_dir=started[-1])
            app = create_app(settings.with_overrides(**values))
            await stack.enter_async_context(app.router.lifespan_context(app))
            key = (started[-1] / "bootstrap-admin.key").read_text().strip()
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://testserver",
                headers={"authorization": f"Bearer {key}"},
            )
            return await stack.enter_async_context(client)

        yield start


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    accept: str = GRAPHQL_RESPONSE,
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"query": query, "variables": variables or {}, **extra}
    return await client.post("/graphql", json=body, headers={"accept": accept})


def first_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("errors"), f"expected an error, got {body}"
    error: dict[str, Any] = body["errors"][0]
    return error


@pytest.fixture
def memory_graph(backends: Backends) -> MemoryGraph:
    """The domain over the suite's backend set (closed with the backends)."""
    return MemoryGraph(backends)
