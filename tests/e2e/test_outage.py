"""The production set under failure: real servers are stopped and started.

- Weaviate down: writes are acknowledged (they are in Neo4j), search answers
  from Neo4j's fulltext index with ``extensions.degraded``; when Weaviate
  returns, the outbox catches up, every write is found and no drift remains.
- Neo4j down: clear ``UNAVAILABLE`` errors; service resumes by itself.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import agentmem

pytestmark = pytest.mark.outage

SERVICES = Path(__file__).resolve().parents[2] / "deploy" / "local" / "services"


def services(verb: str, name: str) -> None:
    subprocess.run(
        ["bash", str(SERVICES), verb, name], check=True, capture_output=True, timeout=180
    )


@pytest.fixture
def production_server(tmp_path: Path, backend_name: str) -> Iterator[ServerProcess]:
    if backend_name != "production":
        pytest.skip("stops the real Neo4j and Weaviate servers of the production set")
    server = ServerProcess(tmp_path / "data", backend_name)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def eventually(check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            assert callable(check)
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


SEARCH = '{ search(query: "kingfisher", mode: KEYWORD, limit: 100) { memory { id } } }'


def test_writes_during_a_weaviate_outage_are_searchable_after_it_returns(
    production_server: ServerProcess,
) -> None:
    server = production_server
    services("stop", "weaviate")
    try:
        ids = set()
        for i in range(100):
            body = data_of(
                post(
                    server,
                    "mutation($c: String!) { addMemory(input: {content: $c}) { id } }",
                    {"c": f"kingfisher sighting number {i}"},
                )
            )
            ids.add(body["addMemory"]["id"])
        degraded = post(server, SEARCH)
        assert degraded.status_code == 200
        assert degraded.json()["extensions"]["degraded"] == ["search"]
        assert len(degraded.json()["data"]["search"]) == 100
        ready = httpx.get(f"http://127.0.0.1:{server.port}/readyz", timeout=10).json()
        assert ready["status"] == "ready"  # degraded, not down: the graph answers
        assert ready["dependencies"]["search"]["status"] == "unavailable"
        assert ready["index_outbox"]["depth"] >= 100
    finally:
        services("start", "weaviate")

    def all_found_without_degradation() -> None:
        response = post(server, SEARCH).json()
        assert "degraded" not in response.get("extensions", {})
        assert {hit["memory"]["id"] for hit in response["data"]["search"]} == ids

    eventually(all_found_without_degradation)
    verify = agentmem("reindex", "--verify", "--dry-run", "--tenant", server.tenant, env=server.env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "drift: 0" in verify.stdout


def test_neo4j_outage_is_a_clear_unavailable_error_and_heals_by_itself(
    production_server: ServerProcess,
) -> None:
    server = production_server
    data_of(post(server, 'mutation { addMemory(input: {content: "before the outage"}) { id } }'))
    readyz = f"http://127.0.0.1:{server.port}/readyz"
    assert httpx.get(readyz, timeout=10).status_code == 200
    services("stop", "neo4j")
    try:
        response = post(server, "{ memories(first: 5) { totalCount } }")
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAVAILABLE"
        assert "Traceback" not in response.text and "neo4j" not in error["message"].lower()

        def not_ready() -> None:
            assert httpx.get(readyz, timeout=10).status_code == 503

        eventually(not_ready, timeout=30.0)
    finally:
        services("start", "neo4j")

    def answers_again() -> None:
        response = post(server, "{ memories(first: 5) { totalCount } }")
        assert (
            response.json().get("data", {})
            and response.json()["data"]["memories"]["totalCount"] >= 1
        )

    eventually(answers_again, timeout=90.0)

    def ready_again() -> None:
        assert httpx.get(readyz, timeout=10).status_code == 200

    eventually(ready_again, timeout=60.0)  # the same process: no restart
