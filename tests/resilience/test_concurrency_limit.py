"""Bounded concurrency on the real in-process app: real concurrent HTTP
requests held inside a store call until the test lets them go (no timing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.adapters.sqlite.store import SqliteGraphStore
from graphql_api.app import create_app
from graphql_api.settings import Settings

AGENTS = {"query": "{ agents(first: 5) { edges { node { id } } } }"}


class Gate:
    """Holds every ``list_agents`` call until opened; counts the calls held."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.held = 0

    async def wait_for_held(self, count: int) -> None:
        for _ in range(10_000):
            if self.held >= count:
                return
            await asyncio.sleep(0.001)
        raise AssertionError(f"only {self.held} of {count} requests reached the store")


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate()
    original = SqliteGraphStore.list_agents

    async def held(self: SqliteGraphStore, *args: Any, **kwargs: Any) -> Any:
        gate.held += 1
        await gate.opened.wait()
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SqliteGraphStore, "list_agents", held)
    return gate


AppClient = Callable[..., Any]


@pytest.fixture
async def client_for(tmp_path: Path) -> AsyncIterator[AppClient]:
    """Starts the real app (lifespan included) with the given settings."""
    stack: list[Any] = []

    async def start(**settings: Any) -> httpx.AsyncClient:
        app = create_app(Settings(data_dir=tmp_path / "data", **settings))
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        stack.append(lifespan)
        key = (tmp_path / "data" / "bootstrap-admin.key").read_text().strip()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            timeout=60,
            headers={"authorization": f"Bearer {key}"},
        )
        stack.append(client)
        return client

    yield start
    for item in reversed(stack):
        if isinstance(item, httpx.AsyncClient):
            await item.aclose()
        else:
            await item.__aexit__(None, None, None)


async def test_a_saturated_server_answers_503_with_retry_after(
    client_for: AppClient, gate: Gate
) -> None:
    client = await client_for(max_concurrent_requests=2, request_queue_seconds=0.0)
    slow = [asyncio.create_task(client.post("/graphql", json=AGENTS)) for _ in range(2)]
    await gate.wait_for_held(2)

    busy = await client.post("/graphql", json=AGENTS)
    assert busy.status_code == 503
    assert int(busy.headers["retry-after"]) >= 1
    assert busy.headers["content-type"].startswith("application/json")
    error = busy.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert "Traceback" not in busy.text

    assert (await client.get("/livez")).status_code == 200  # health is exempt
    assert (await client.get("/readyz")).status_code == 200

    gate.opened.set()
    for response in await asyncio.gather(*slow):
        assert response.status_code == 200, response.text
        assert "errors" not in response.json()
    assert gate.held == 2  # the refused request never reached the store
    assert (await client.post("/graphql", json=AGENTS)).status_code == 200


async def test_a_request_waits_in_the_queue_for_a_free_slot(
    client_for: AppClient, gate: Gate
) -> None:
    client = await client_for(max_concurrent_requests=1, request_queue_seconds=60.0)
    first = asyncio.create_task(client.post("/graphql", json=AGENTS))
    await gate.wait_for_held(1)
    second = asyncio.create_task(client.post("/graphql", json=AGENTS))
    for _ in range(20):
        await asyncio.sleep(0)
    assert gate.held == 1  # the second request waits for the slot
    gate.opened.set()
    responses = await asyncio.gather(first, second)
    assert [r.status_code for r in responses] == [200, 200]
    assert gate.held == 2
