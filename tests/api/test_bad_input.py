"""Bad input gets a clear error with a code, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Gql, error_code, ok
from tests.api.test_memories import ADD, add, create_agent

COUNT = "{ memories(first: 100) { totalCount } agents { edges { node { id } } } }"


async def snapshot(gql: Gql) -> dict[str, Any]:
    return ok(await gql(COUNT))


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ memories(first: 101) { totalCount } }", None, "BAD_USER_INPUT"),
        ("{ memories(first: -1) { totalCount } }", None, "BAD_USER_INPUT"),
        ('{ memories(after: "garbage") { totalCount } }', None, "BAD_USER_INPUT"),
        ("{ memories(filter: {types: [NOT_A_TYPE]}) { totalCount } }", None, "BAD_USER_INPUT"),
        ("{ memories { nope } }", None, "BAD_USER_INPUT"),
        ('{ memories(first: "ten") { totalCount } }', None, "BAD_USER_INPUT"),
        ("{ memories( { totalCount }", None, "BAD_USER_INPUT"),
        (ADD, {"input": {"content": ""}}, "BAD_USER_INPUT"),
        (ADD, {"input": {"content": "x" * 32_001}}, "BAD_USER_INPUT"),
        (ADD, {"input": {"content": "ok", "importance": 1.5}}, "BAD_USER_INPUT"),
        (ADD, {"input": {"content": "ok", "type": "DREAM"}}, "BAD_USER_INPUT"),
        (ADD, {"input": {"content": "ok", "tags": [""]}}, "BAD_USER_INPUT"),
        (ADD, {"input": {"content": "ok", "validFrom": "2025-01-01T00:00:00"}}, "BAD_USER_INPUT"),
        (ADD, {"input": {"content": "ok", "agentId": "agt_" + "0" * 32}}, "NOT_FOUND"),
        (ADD, {"input": {"content": "ok", "agentId": "bogus"}}, "NOT_FOUND"),
        ('mutation { createAgent(name: "  ") { id } }', None, "BAD_USER_INPUT"),
        (
            'mutation { relate(sourceId: "mem_'
            + "0" * 32
            + '", targetId: "x", type: "A") { id } }',
            None,
            "NOT_FOUND",
        ),
        (
            'mutation { addFact(subject: "a", predicate: "is a!", object: "b") { id } }',
            None,
            "BAD_USER_INPUT",
        ),
        ('mutation { deleteMemory(id: "mem_' + "0" * 32 + '") }', None, "NOT_FOUND"),
    ],
)
async def test_bad_input_is_refused_with_a_code_and_writes_nothing(
    gql: Gql, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    before = await snapshot(gql)
    body = await gql(query, variables)
    assert error_code(body) == code
    assert "Traceback" not in str(body)
    assert await snapshot(gql) == before


async def test_one_bad_memory_in_a_batch_writes_none_of_the_batch(gql: Gql) -> None:
    before = await snapshot(gql)
    inputs = [
        {"content": "fine one"},
        {"content": "fine two"},
        {"content": "bad", "importance": -1},
    ]
    body = await gql(
        "mutation($i: [AddMemoryInput!]!) { addMemories(inputs: $i) { id } }", {"i": inputs}
    )
    assert error_code(body) == "BAD_USER_INPUT"
    assert await snapshot(gql) == before


async def test_oversized_batch_is_refused(gql: Gql) -> None:
    inputs = [{"content": f"m{i}"} for i in range(501)]
    body = await gql(
        "mutation($i: [AddMemoryInput!]!) { addMemories(inputs: $i) { id } }", {"i": inputs}
    )
    assert error_code(body) == "BAD_USER_INPUT"
    assert "500" in body["errors"][0]["message"]


async def test_relating_to_another_tenants_memory_is_not_found(gql: Gql) -> None:
    mine = await add(gql, "mine")
    other = ok(await gql(ADD, {"input": {"content": "theirs"}}, tenant="other"))["addMemory"]["id"]
    body = await gql(
        'mutation($s: ID!, $t: ID!) { relate(sourceId: $s, targetId: $t, type: "LINKS") { id } }',
        {"s": mine["id"], "t": other},
    )
    assert error_code(body) == "NOT_FOUND"


async def test_updating_with_bad_fields_changes_nothing(gql: Gql) -> None:
    agent = await create_agent(gql)
    memory = await add(gql, "stable", agentId=agent)
    body = await gql(
        'mutation($id: ID!) { updateMemory(id: $id, input: {content: "new", importance: 2}) { id } }',
        {"id": memory["id"]},
    )
    assert error_code(body) == "BAD_USER_INPUT"
    read = ok(
        await gql("query($id: ID!) { memory(id: $id) { content version } }", {"id": memory["id"]})
    )
    assert read["memory"] == {"content": "stable", "version": 1}
