"""GraphQL executed in-process against the suite's backend set.

``gql`` runs one operation through the real schema with a fresh request
context (fresh dataloaders), exactly as the HTTP endpoint does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from graph.access.principal import Principal
from graph.memory_graph import MemoryGraph
from graph.ports import Backends
from resolvers.context import RequestContext
from schema.build import build_schema
from schema.errors import coded
from tests.backup.canonical import TEST_VAULT

SCHEMA = build_schema()

Gql = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def memory_graph(backends: Backends) -> AsyncIterator[MemoryGraph]:
    graph = MemoryGraph(backends, vault=TEST_VAULT)
    yield graph


@pytest.fixture
def gql(memory_graph: MemoryGraph) -> Gql:
    async def run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        tenant: str = "default",
        principal: Principal | None = None,
    ) -> dict[str, Any]:
        """Run as ``principal``, or as the system (admin) principal of ``tenant``."""
        context = RequestContext.create(memory_graph, principal or tenant)
        result = await SCHEMA.execute(query, variable_values=variables, context_value=context)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [coded(e).formatted for e in result.errors]
        return body

    return run


def ok(body: dict[str, Any]) -> dict[str, Any]:
    """The data of a response that must have no errors."""
    assert "errors" not in body, body["errors"]
    data = body["data"]
    assert data is not None
    return data


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), f"expected an error, got {body}"
    return str(body["errors"][0]["extensions"]["code"])
