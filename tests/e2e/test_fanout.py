"""Several server processes on one Redis act as one: a subscriber on one
process receives the events of mutations made on another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import ServerProcess
from tests.e2e.test_subscriptions import gql, next_event, open_subscription
from tests.support import BACKEND_SERVERS


@pytest.fixture
def two_servers(tmp_path: Path, backend_name: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    if "redis" not in BACKEND_SERVERS[backend_name]:
        pytest.skip(f"the {backend_name!r} set has no shared event bus (Redis): one process only")
    first = ServerProcess(tmp_path / "a", backend_name)
    second = ServerProcess(tmp_path / "b", backend_name, tenant=first.tenant)
    first.start()
    second.api_key = first.api_key  # one tenant in one store: the first start's key
    try:
        second.start()
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


async def test_a_subscriber_on_one_process_receives_writes_made_on_another(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    listener, writer = two_servers
    ws = await open_subscription(listener, "graphql-transport-ws", {})
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            created = await gql(
                client, writer, 'mutation { addMemory(input: {content: "written on B"}) { id } }'
            )
            # Delivery is what is tested; its latency is not asserted (a
            # loaded CI machine would make that flaky).
            event = (await next_event(ws, timeout=10.0))["data"]["memoryEvents"]
        assert event["kind"] == "CREATED"
        assert event["memory"]["id"] == created["addMemory"]["id"]
        assert event["memory"]["content"] == "written on B"
    finally:
        await ws.close()
