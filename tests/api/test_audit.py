"""Every mutation leaves one audit record, and only auditors read the trail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from graph.access.principal import Principal
from graph.memory_graph import MemoryGraph
from tests.api.conftest import Gql, error_code, ok

AUDITOR = Principal("jwt:alice", "default", frozenset({"auditor"}), kind="jwt")
READER = Principal("apikey:r1", "default", frozenset({"reader"}))

LOG = """query($first: Int, $after: String, $action: String) {
  auditLog(first: $first, after: $after, action: $action) {
    edges { cursor node { seq actor action at targetIds detail hash previousHash } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def records(gql: Gql, **variables: Any) -> list[dict[str, Any]]:
    data = ok(await gql(LOG, {"first": 100, **variables}, principal=AUDITOR))
    return [edge["node"] for edge in data["auditLog"]["edges"]]


async def test_each_mutation_records_who_what_and_which_ids(
    gql: Gql,
) -> None:
    agent = ok(await gql('mutation { createAgent(name: "scribe") { id } }'))["createAgent"]
    added = ok(
        await gql(
            "mutation($a: ID) { addMemory(input: {agentId: $a, content: 'the vault code is swordfish'})"
            " { id } }".replace("'", '"'),
            {"a": agent["id"]},
        )
    )["addMemory"]
    ok(await gql("mutation($id: ID!) { deleteMemory(id: $id) }", {"id": added["id"]}))

    trail = await records(gql)
    assert [r["action"] for r in trail] == ["createAgent", "addMemory", "deleteMemory"]
    assert trail[0]["targetIds"] == [agent["id"]]
    assert trail[1]["targetIds"] == [added["id"]]
    assert trail[2]["targetIds"] == [added["id"]]
    assert {r["actor"] for r in trail} == {"system"}
    assert all(r["detail"] == {"outcome": "ok"} for r in trail)
    assert trail[1]["previousHash"] == trail[0]["hash"]
    assert "swordfish" not in json.dumps(trail)


async def test_a_batch_of_100_is_one_record_and_one_append(
    gql: Gql, memory_graph: MemoryGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = memory_graph.backends.audit
    calls: list[int] = []
    append = log.append

    async def counting(events: Any) -> Any:
        calls.append(len(events))
        return await append(events)

    monkeypatch.setattr(log, "append", counting)
    inputs = [{"content": f"note number {n}"} for n in range(100)]
    added = ok(
        await gql(
            "mutation($in: [AddMemoryInput!]!) { addMemories(inputs: $in) { id } }", {"in": inputs}
        )
    )["addMemories"]
    assert calls == [1]
    [record] = await records(gql, action="addMemories")
    assert record["targetIds"] == [m["id"] for m in added]


async def test_a_failed_mutation_records_its_code_but_no_input(gql: Gql) -> None:
    missing = "mem_" + "0" * 32
    body = await gql(
        'mutation($id: ID!) { updateMemory(id: $id, input: {content: "private words"}) { id } }',
        {"id": missing},
    )
    assert error_code(body) == "NOT_FOUND"
    [record] = await records(gql)
    assert record["action"] == "updateMemory"
    assert record["targetIds"] == [missing]
    assert record["detail"] == {"outcome": "failed", "code": "NOT_FOUND"}
    assert "private" not in json.dumps(record)


async def test_only_audit_readers_see_the_trail(gql: Gql) -> None:
    ok(await gql('mutation { createAgent(name: "a") { id } }'))
    for query in (LOG, "{ auditVerify { ok } }"):
        assert error_code(await gql(query, principal=READER)) == "FORBIDDEN"
    bound = Principal("apikey:b", "default", frozenset({"admin"}), agent_id="agt_x")
    assert error_code(await gql(LOG, principal=bound)) == "FORBIDDEN"
    other_tenant = Principal("jwt:bob", "elsewhere", frozenset({"auditor"}))
    data = ok(await gql(LOG, principal=other_tenant))
    assert data["auditLog"]["edges"] == []


async def test_pages_filter_and_verify(gql: Gql) -> None:
    for n in range(5):
        ok(await gql("mutation($n: String!) { createAgent(name: $n) { id } }", {"n": f"a{n}"}))
    first = ok(await gql(LOG, {"first": 2}, principal=AUDITOR))["auditLog"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = ok(
        await gql(LOG, {"first": 10, "after": first["pageInfo"]["endCursor"]}, principal=AUDITOR)
    )
    assert len(first["edges"]) + len(rest["auditLog"]["edges"]) == 5
    assert rest["auditLog"]["pageInfo"]["hasNextPage"] is False
    assert await records(gql, action="addMemory") == []
    verified = ok(await gql("{ auditVerify { ok checked firstBrokenSeq } }", principal=AUDITOR))
    assert verified["auditVerify"] == {"ok": True, "checked": 5, "firstBrokenSeq": None}
    for bad in ({"after": "nonsense"}, {"first": 0}):
        assert error_code(await gql(LOG, bad, principal=AUDITOR)) == "BAD_USER_INPUT"
