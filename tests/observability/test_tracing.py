"""Traces of GraphQL operations, captured in-process on the suite's backend set."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graph import telemetry
from graph.memory_graph import MemoryGraph
from graphql_api.settings import SettingsError
from graphql_api.tracing import exporters_named, start_tracing, stop_tracing
from schema.observability import document_hash
from tests.api.conftest import Gql, ok
from tests.support import BACKEND_SERVERS

SECRET_NAME = "Agent Zebulon-7731"
SECRET_CONTENT = "Dr. Ingrid Vasquez takes insulin at 07:30 daily"
SECRET_TAG = "tag-kumquat-5521"

NESTED = """
query AgentMemories($id: ID!, $tag: String!, $depth: Int!) {
  agent(id: $id) {
    name
    memories(first: 10, filter: {tags: [$tag]}) {
      edges { node { id content related(depth: $depth) { distance memory { id content } } } }
    }
  }
}"""


async def _seed(gql: Gql) -> str:
    agent = ok(
        await gql(
            "mutation($n: String!) { createAgent(name: $n) { id } }",
            {"n": SECRET_NAME},
        )
    )["createAgent"]["id"]
    ids = []
    for n in range(3):
        added = await gql(
            "mutation($i: AddMemoryInput!) { addMemory(input: $i) { id } }",
            {"i": {"agentId": agent, "content": f"{SECRET_CONTENT} #{n}", "tags": [SECRET_TAG]}},
        )
        ids.append(ok(added)["addMemory"]["id"])
    relate = (
        'mutation($s: ID!, $t: ID!) { relate(sourceId: $s, targetId: $t, type: "FOLLOWS") { id } }'
    )
    for source, target in itertools.pairwise(ids):
        ok(await gql(relate, {"s": source, "t": target}))
    return str(agent)


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        above = by_id[parent.span_id]
        names.append(above.name)
        parent = above.parent
    return names


def _attribute_texts(spans: Sequence[ReadableSpan]) -> list[str]:
    texts = []
    for span in spans:
        texts.append(span.name)
        for key, value in (span.attributes or {}).items():
            texts.append(f"{key}={value}")
        for event in span.events:
            texts.extend(f"{k}={v}" for k, v in (event.attributes or {}).items())
    return texts


async def test_nested_query_trace_has_store_spans_under_the_operation_and_no_values(
    gql: Gql, spans: InMemorySpanExporter, backend_name: str
) -> None:
    agent = await _seed(gql)
    spans.clear()
    variables = {"id": agent, "tag": SECRET_TAG, "depth": 2}
    data = ok(await gql(NESTED, variables))
    assert data["agent"]["name"] == SECRET_NAME
    assert len(data["agent"]["memories"]["edges"]) == 3

    finished = spans.get_finished_spans()
    by_id = {span.context.span_id: span for span in finished}
    operations = [s for s in finished if s.name == "query AgentMemories"]
    assert len(operations) == 1, [s.name for s in finished]
    operation = operations[0]
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "AgentMemories"
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["graphql.document.sha256"] == document_hash(NESTED)
    assert {s.context.trace_id for s in finished} == {operation.context.trace_id}

    store = "neo4j" if "neo4j" in BACKEND_SERVERS[backend_name] else "sqlite"
    store_spans = [s for s in finished if s.name.startswith(f"{store}.")]
    called = {s.name for s in store_spans}
    assert {f"{store}.get_agents", f"{store}.list_memories_for_agents"} <= called, called
    assert any(name.startswith(f"{store}.relations_of") for name in called), called
    for span in store_spans:
        assert "query AgentMemories" in _ancestors(span, by_id), span.name
    resolvers = {s.name for s in finished if s.name.startswith("resolve ")}
    assert {"resolve Query.agent", "resolve Agent.memories", "resolve Memory.related"} <= resolvers
    assert "resolve Memory.content" not in resolvers  # trivial fields get no span

    texts = "\n".join(_attribute_texts(finished))
    for secret in (agent, SECRET_NAME, SECRET_TAG, "insulin", "Vasquez", "memories(first"):
        assert secret not in texts


async def test_failed_operation_span_has_the_error_code_not_the_message(
    gql: Gql, spans: InMemorySpanExporter
) -> None:
    body = await gql(
        "query Missing($id: ID!) { memory(id: $id) { id } history: memory(id: $id) { id } }",
        {"id": "not-an-id-secret-42"},
    )
    assert body["data"] is not None or body.get("errors")
    await gql(
        "mutation Bad($i: AddMemoryInput!) { addMemory(input: $i) { id } }",
        {"i": {"content": "", "importance": 7}},
    )
    finished = spans.get_finished_spans()
    bad = [s for s in finished if s.name == "mutation Bad"]
    assert len(bad) == 1
    assert bad[0].attributes is not None
    assert "BAD_USER_INPUT" in list(bad[0].attributes["graphql.error.codes"])  # type: ignore[arg-type]
    assert not bad[0].status.is_ok
    assert "not-an-id-secret-42" not in "\n".join(_attribute_texts(finished))


async def test_unnamed_operations_are_reported_as_anonymous(
    gql: Gql, spans: InMemorySpanExporter
) -> None:
    ok(await gql("{ agents { edges { node { id } } } }"))
    names = {s.name for s in spans.get_finished_spans()}
    assert "query anonymous" in names


async def test_tracing_off_creates_no_spans(gql: Gql) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("check")  # a provider exists but is not enabled
    ok(await gql("{ agents { edges { node { id } } } }"))
    assert not telemetry.tracing_enabled()
    assert exporter.get_finished_spans() == ()


async def test_background_indexing_is_linked_to_the_write_that_deferred_it(
    gql: Gql, spans: InMemorySpanExporter, memory_graph: MemoryGraph
) -> None:
    indexer = memory_graph.indexer
    working = indexer._index

    class BrokenIndex:
        def __getattr__(self, name: str) -> Any:
            return getattr(working, name)

        async def upsert(self, *args: object) -> None:
            raise ConnectionError("index down")

    indexer._index = BrokenIndex()  # type: ignore[assignment]
    try:
        ok(await gql('mutation Write { addMemory(input: {content: "deferred"}) { id } }'))
    finally:
        indexer._index = working
    write = next(s for s in spans.get_finished_spans() if s.name == "mutation Write")
    write_spans = {
        s.context.span_id
        for s in spans.get_finished_spans()
        if s.context.trace_id == write.context.trace_id
    }
    spans.clear()

    assert await indexer.drain_deferred()
    background = [s for s in spans.get_finished_spans() if s.name == "outbox.background"]
    assert len(background) == 1
    assert background[0].parent is None  # a trace of its own ...
    links = background[0].links
    assert len(links) == 1, "... linked to the write"
    assert links[0].context.trace_id == write.context.trace_id
    assert links[0].context.span_id in write_spans
    drained = [s for s in spans.get_finished_spans() if s.name == "outbox.drain"]
    assert drained and drained[0].parent is not None
    assert drained[0].parent.span_id == background[0].context.span_id


async def test_subscription_delivery_joins_the_writes_trace(
    gql: Gql, spans: InMemorySpanExporter, memory_graph: MemoryGraph
) -> None:
    from resolvers.context import RequestContext
    from tests.api.conftest import SCHEMA

    context = RequestContext.create(memory_graph, "default")
    stream = await SCHEMA.subscribe(
        "subscription Watch { memoryEvents { kind memory { id } } }", context_value=context
    )
    assert not hasattr(stream, "errors")
    first = asyncio.ensure_future(stream.__anext__())  # type: ignore[union-attr]
    await asyncio.sleep(0.05)
    ok(await gql('mutation Write { addMemory(input: {content: "watched"}) { id } }'))
    result = await asyncio.wait_for(first, 5)
    assert result.errors is None
    await stream.aclose()  # type: ignore[union-attr]

    finished = spans.get_finished_spans()
    write = next(s for s in finished if s.name == "mutation Write")
    deliver = next(s for s in finished if s.name == "memory_event.deliver")
    assert deliver.context.trace_id == write.context.trace_id
    watch = next(s for s in finished if s.name == "subscription Watch")
    assert [link.context.span_id for link in deliver.links] == [watch.context.span_id]


def test_tracing_is_off_unless_the_environment_names_an_exporter() -> None:
    assert exporters_named({}) == []
    assert exporters_named({"OTEL_TRACES_EXPORTER": "none"}) == []
    assert exporters_named({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}) == ["otlp"]
    assert exporters_named({"OTEL_TRACES_EXPORTER": "otlp,console"}) == ["otlp", "console"]
    assert exporters_named({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}) == []
    assert start_tracing({}) is None
    assert not telemetry.tracing_enabled()


def test_start_tracing_builds_the_named_exporters() -> None:
    provider = start_tracing(
        {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
            "OTEL_SERVICE_NAME": "agentmem-test",
        }
    )
    try:
        assert provider is not None
        assert telemetry.tracing_enabled()
        assert provider.resource.attributes["service.name"] == "agentmem-test"
    finally:
        stop_tracing(provider)
    assert not telemetry.tracing_enabled()
    with pytest.raises(SettingsError):
        start_tracing({"OTEL_TRACES_EXPORTER": "zipkin"})
