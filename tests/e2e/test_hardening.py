"""The hardening refusals against a real ``agentmem serve`` over TCP."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import post
from tests.e2e.server import ServerProcess
from tests.hardening.test_limits import nested


def test_a_query_nested_20_deep_is_refused(server: ServerProcess) -> None:
    response = post(server, nested(20))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "depth",
        "max": 12,
        "actual": 13,
    }


def test_a_query_with_1000_aliases_is_refused(server: ServerProcess) -> None:
    query = "{ " + " ".join(f"m{i}: memories {{ totalCount }}" for i in range(1000)) + " }"
    response = post(server, query)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["limit"] == "aliases"
    assert "1000 aliases" in error["message"]


def test_a_cross_site_form_post_is_refused(server: ServerProcess) -> None:
    response = httpx.post(
        server.url,
        content=b'{"query": "mutation { createAgent(name: \\"x\\") { id } }"}',
        headers={"content-type": "text/plain"},
        timeout=10,
    )
    assert response.status_code == 415


def test_an_oversized_body_is_refused(server: ServerProcess) -> None:
    response = httpx.post(
        server.url,
        json={"query": "{ memories { totalCount } }", "pad": "x" * 2_000_000},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["limit"] == "body_bytes"
