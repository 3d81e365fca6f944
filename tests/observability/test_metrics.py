"""``/metrics`` of a real server process, alone and as one of two workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from graphql_api import metrics
from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: ServerProcess) -> Samples:
    response = httpx.get(server.url.replace("/graphql", "/metrics"), timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def present(samples: Samples, name: str) -> bool:
    return any(n == name for n, _ in samples)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend_name: str) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("metrics") / "data", backend_name)
    process.env.pop(metrics.MULTIPROC_ENV, None)
    process.start()
    yield process
    process.stop()


def test_metrics_show_requests_latency_errors_cache_and_outbox(server: ServerProcess) -> None:
    agent = data_of(post(server, 'mutation Seed { createAgent(name: "m") { id } }'))
    agent_id = agent["createAgent"]["id"]
    data_of(
        post(
            server,
            'mutation Add($a: ID!) { addMemory(input: {agentId: $a, content: "tea at noon"}) { id } }',
            {"a": agent_id},
        )
    )
    for _ in range(2):
        data_of(
            post(
                server, "query Agents { agents { edges { node { id memories { totalCount } } } } }"
            )
        )
        data_of(post(server, 'query Find { search(query: "tea") { score } }'))
    data_of(post(server, "{ __typename }"))
    bad = post(server, 'mutation Bad { addMemory(input: {content: ""}) { id } }')
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    samples = scrape(server)
    requests = "agentmem_graphql_requests_total"
    assert total(samples, requests, operation="Agents", type="query", outcome="ok") == 2
    assert total(samples, requests, operation="anonymous", type="query") == 1
    assert total(samples, requests, operation="Bad", type="mutation", outcome="error") == 1
    assert (
        total(samples, "agentmem_graphql_errors_total", operation="Bad", code="BAD_USER_INPUT") == 1
    )
    latency = "agentmem_graphql_request_duration_seconds_count"
    assert total(samples, latency, operation="Agents") == 2
    assert (
        total(samples, "agentmem_graphql_resolver_duration_seconds_count", field="Query.agents")
        == 2
    )
    assert total(samples, "agentmem_dataloader_batch_size_count", loader="count") >= 2
    cache = "agentmem_cache_lookups_total"
    assert total(samples, cache, level="read", result="miss") >= 1
    assert total(samples, cache, level="read", result="hit") >= 1
    assert total(samples, cache, level="lru") >= 1
    assert present(samples, "agentmem_outbox_depth")
    assert total(samples, "agentmem_outbox_depth") == 0  # indexed by the time it answered
    assert present(samples, "agentmem_outbox_oldest_age_seconds")
    assert (
        total(samples, "agentmem_backend_call_duration_seconds_count", operation="get_agents") >= 0
    )
    backend_calls = total(samples, "agentmem_backend_call_duration_seconds_count")
    assert backend_calls > 0
    assert total(samples, "agentmem_backend_call_duration_seconds_count", backend="embedder") >= 1
    assert present(samples, "agentmem_websocket_connections")
    assert present(samples, "agentmem_subscriptions_active")


def test_response_carries_the_request_id(server: ServerProcess) -> None:
    given = post(server, "{ __typename }", **{"X-Request-ID": "req-abc.123"})
    assert given.headers["x-request-id"] == "req-abc.123"
    fresh = post(server, "{ __typename }", **{"X-Request-ID": "bad id <with> spaces"})
    assert fresh.headers["x-request-id"] != "bad id <with> spaces"
    assert len(fresh.headers["x-request-id"]) == 32


def test_two_worker_processes_report_together(tmp_path: Path, backend_name: str) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    workers = [ServerProcess(tmp_path / f"data-{n}", backend_name) for n in range(2)]
    for worker in workers:
        worker.env[metrics.MULTIPROC_ENV] = str(shared)
        worker.start()
    try:
        data_of(post(workers[0], "query One { __typename }"))
        data_of(post(workers[1], "query Two { __typename }"))
        data_of(post(workers[1], "query Two { __typename }"))
        for worker in workers:
            samples = scrape(worker)
            requests = "agentmem_graphql_requests_total"
            assert total(samples, requests, operation="One") == 1
            assert total(samples, requests, operation="Two") == 2
    finally:
        for worker in workers:
            worker.stop()


def test_circuit_breaker_states_are_published() -> None:
    metrics.set_circuit_state("neo4j", "open")
    assert metrics.CIRCUIT_STATE.labels("neo4j")._value.get() == 2
    metrics.set_circuit_state("neo4j", "half_open")
    assert metrics.CIRCUIT_STATE.labels("neo4j")._value.get() == 1
    metrics.set_circuit_state("neo4j", "closed")
    assert metrics.CIRCUIT_STATE.labels("neo4j")._value.get() == 0
    with pytest.raises(ValueError):
        metrics.set_circuit_state("neo4j", "ajar")


def test_operation_names_are_capped() -> None:
    recorder = metrics.PrometheusRecorder(max_operation_names=2)
    for name in ("CapA", "CapB", "CapC", "CapD"):
        recorder.operation(name, "query", 0.001, [])
    sample = metrics.REQUESTS.labels("other", "query", "ok")._value.get()
    assert sample >= 2
    assert metrics.REQUESTS.labels("CapB", "query", "ok")._value.get() >= 1
