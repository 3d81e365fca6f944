"""Authorization and PII masking through GraphQL, per principal: type-level
permissions refuse whole operations with FORBIDDEN; fields a role may not
read are null; personal data is masked per role, and every clear-text read
by a `pii:read` holder is audited once per request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graph.access.principal import Principal
from graph.memory_graph import MemoryGraph
from resolvers.context import RequestContext
from schema.errors import coded
from tests.api.conftest import SCHEMA, Gql, error_code, ok


def key(*roles: str, agent: str | None = None) -> Principal:
    return Principal(f"apikey:{'-'.join(roles)}", "default", frozenset(roles), agent_id=agent)


ADMIN, WRITER, READER, AUDITOR = key("admin"), key("writer"), key("reader"), key("auditor")
NOBODY = key()

PERSONAL = "Ann's address is ann.lee@example.com and her phone is +1 415 555 0134."
MASKED = "Ann's address is a***@e***.com and her phone is +1 *** *** 0134."
ADD = """mutation($i: AddMemoryInput!) { addMemory(input: $i) { id } }"""
READ = """query($id: ID!) {
  memory(id: $id) { id content metadata history { content } }
}"""


async def add(gql: Gql, **fields: Any) -> str:
    data = ok(await gql(ADD, {"i": {"content": PERSONAL, **fields}}))
    return str(data["addMemory"]["id"])


async def unmasked_records(graph: MemoryGraph, actor: str) -> list[Any]:
    records = await graph.audit.read("default")
    return [r for r in records if r.event.actor == actor and r.event.action == "pii.unmasked"]


async def test_a_reader_sees_personal_data_masked_and_an_admin_in_clear_audited(
    gql: Gql, memory_graph: MemoryGraph
) -> None:
    memory_id = await add(gql, metadata={"email": "ann.lee@example.com"})

    as_reader = ok(await gql(READ, {"id": memory_id}, principal=READER))["memory"]
    assert as_reader["content"] == MASKED
    assert as_reader["history"] == [{"content": MASKED}]
    assert as_reader["metadata"] is None  # readers lack metadata:read
    assert await unmasked_records(memory_graph, READER.subject) == []

    as_admin = ok(await gql(READ, {"id": memory_id}, principal=ADMIN))["memory"]
    assert as_admin["content"] == PERSONAL
    assert as_admin["history"] == [{"content": PERSONAL}]
    assert as_admin["metadata"] == {"email": "ann.lee@example.com"}
    (record,) = await unmasked_records(memory_graph, ADMIN.subject)
    assert record.event.target_ids == (memory_id,)  # once, though read three times
    assert record.event.detail == {"kinds": "email,phone"}


async def test_writers_read_metadata_masked_and_auditors_see_redactions(
    gql: Gql, memory_graph: MemoryGraph
) -> None:
    memory_id = await add(gql, metadata={"contact": ["ann.lee@example.com", 3]})
    as_writer = ok(await gql(READ, {"id": memory_id}, principal=WRITER))["memory"]
    assert as_writer["metadata"] == {"contact": ["a***@e***.com", 3]}
    assert as_writer["content"] == MASKED
    both = key("reader", "auditor")
    as_both = ok(await gql(READ, {"id": memory_id}, principal=both))["memory"]
    assert as_both["content"] == "Ann's address is [EMAIL] and her phone is [PHONE]."


async def test_memories_without_personal_data_are_not_audited(
    gql: Gql, memory_graph: MemoryGraph
) -> None:
    data = ok(await gql(ADD, {"i": {"content": "Tea at 10:30 on 2024-01-15, version 1.2.3."}}))
    memory_id = data["addMemory"]["id"]
    as_admin = ok(await gql(READ, {"id": memory_id}, principal=ADMIN))["memory"]
    assert as_admin["content"] == "Tea at 10:30 on 2024-01-15, version 1.2.3."
    assert await unmasked_records(memory_graph, ADMIN.subject) == []


async def test_vault_content_is_null_without_vault_read(gql: Gql) -> None:
    memory_id = await add(gql, type="KNOWLEDGE_VAULT")
    as_reader = ok(await gql(READ, {"id": memory_id}, principal=READER))["memory"]
    assert as_reader["content"] is None
    assert as_reader["history"] == [{"content": None}]
    as_writer = ok(await gql(READ, {"id": memory_id}, principal=WRITER))["memory"]
    assert as_writer["content"] == MASKED


async def test_search_hits_are_masked_per_caller_though_the_cache_is_shared(
    gql: Gql, memory_graph: MemoryGraph
) -> None:
    memory_id = await add(gql)
    await memory_graph.indexer.try_drain()
    search = """{ search(query: "Ann address phone", mode: KEYWORD) { memory { id content } } }"""
    for principal, expected in ((READER, MASKED), (ADMIN, PERSONAL), (READER, MASKED)):
        hits = ok(await gql(search, principal=principal))["search"]
        assert [h["memory"]["id"] for h in hits] == [memory_id]
        assert hits[0]["memory"]["content"] == expected
    assert len(await unmasked_records(memory_graph, ADMIN.subject)) == 1


@pytest.mark.parametrize(
    ("principal", "operation"),
    [
        (READER, 'mutation { addMemory(input: {content: "x"}) { id } }'),
        (READER, 'mutation { createAgent(name: "x") { id } }'),
        (READER, 'mutation { addFact(subject: "a", predicate: "b", object: "c") { id } }'),
        (AUDITOR, "{ memories { edges { node { id } } } }"),
        (AUDITOR, "{ agents { edges { node { memories { totalCount } } } } }"),
        (AUDITOR, '{ node(id: "mem_0") { ... on Memory { content } } }'),
        (AUDITOR, '{ node(id: "mem_0") { ...M } } fragment M on Memory { id }'),
        (NOBODY, '{ search(query: "x") { score } }'),
        (NOBODY, "{ agents { edges { node { id } } } }"),
    ],
)
async def test_operations_needing_a_missing_permission_are_refused_whole(
    gql: Gql, principal: Principal, operation: str
) -> None:
    body = await gql(operation, principal=principal)
    assert error_code(body) == "FORBIDDEN"
    assert body["data"] is None
    assert "permission" in body["errors"][0]["message"]


async def test_a_refused_mutation_writes_nothing(gql: Gql) -> None:
    body = await gql(
        'mutation { a: createAgent(name: "ok") { id } b: addMemory(input: {content: "x"}) { id } }',
        principal=key("auditor", "writer-of-agents-only"),
    )
    assert error_code(body) == "FORBIDDEN"
    agents = ok(await gql("{ agents { edges { node { name } } } }"))["agents"]["edges"]
    assert agents == []


async def test_allowed_operations_run(gql: Gql) -> None:
    ok(await gql("{ agents { edges { node { id } } } }", principal=AUDITOR))
    ok(await gql('{ search(query: "x") { score } }', principal=READER))
    ok(await gql('mutation { addMemory(input: {content: "x"}) { id } }', principal=WRITER))
    ok(await gql("{ __typename }", principal=NOBODY))


async def test_personal_data_in_error_messages_is_redacted(gql: Gql) -> None:
    body = await gql(
        "query($n: Int) { agents(first: $n) { edges { cursor } } }",
        {"n": "ann.lee@example.com"},
        principal=ADMIN,
    )
    message = body["errors"][0]["message"]
    assert "ann.lee" not in message and "[EMAIL]" in message


async def test_when_the_audit_log_fails_clear_personal_data_is_withheld(
    gql: Gql, memory_graph: MemoryGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory_id = await add(gql)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("audit store down")

    monkeypatch.setattr(memory_graph.audit, "record", broken)
    body = await gql(READ, {"id": memory_id}, principal=ADMIN)
    assert error_code(body) == "UNAVAILABLE"
    assert PERSONAL not in repr(body)
    masked = ok(await gql(READ, {"id": memory_id}, principal=READER))["memory"]
    assert masked["content"] == MASKED  # masked reads need no audit


async def test_subscription_payloads_are_masked_and_clear_reads_audited(
    gql: Gql, memory_graph: MemoryGraph
) -> None:
    query = "subscription { memoryEvents { memory { id content } } }"
    streams = []
    for principal in (READER, ADMIN):
        stream = await SCHEMA.subscribe(
            query, context_value=RequestContext.create(memory_graph, principal)
        )
        streams.append(stream)
    firsts = [asyncio.ensure_future(anext(s)) for s in streams]  # type: ignore[call-overload]
    await asyncio.sleep(0.2)  # let the subscriptions attach to the bus
    memory_id = await add(gql)
    as_reader, as_admin = [await asyncio.wait_for(f, 10) for f in firsts]
    assert as_reader.data["memoryEvents"]["memory"]["content"] == MASKED
    assert as_admin.data["memoryEvents"]["memory"]["content"] == PERSONAL
    (record,) = await unmasked_records(memory_graph, ADMIN.subject)
    assert record.event.target_ids == (memory_id,)
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_a_subscription_without_the_permission_is_refused(
    memory_graph: MemoryGraph,
) -> None:
    refused = await SCHEMA.subscribe(
        "subscription { memoryEvents { kind } }",
        context_value=RequestContext.create(memory_graph, AUDITOR),
    )
    if not hasattr(refused, "errors"):
        refused = await anext(refused)  # type: ignore[arg-type]
    assert refused.errors
    assert coded(refused.errors[0]).formatted["extensions"]["code"] == "FORBIDDEN"
