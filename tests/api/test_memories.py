"""The memory lifecycle through GraphQL: add, read, update with history,
optimistic concurrency, soft delete, de-duplication, listing and paging."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.api.conftest import Gql, error_code, ok

ADD = """
mutation($input: AddMemoryInput!) {
  addMemory(input: $input) { id content version type level importance tags sensitivity
                             metadata userId sessionId createdAt agent { id name } }
}"""

UPDATE = """
mutation($id: ID!, $input: UpdateMemoryInput!, $v: Int) {
  updateMemory(id: $id, input: $input, expectedVersion: $v) { id version content importance tags }
}"""

GET = """
query($id: ID!) {
  memory(id: $id) { id content version history { version content recordedAt expiredAt } }
}"""


async def create_agent(gql: Gql, name: str = "planner") -> str:
    data = ok(await gql("mutation($n: String!) { createAgent(name: $n) { id name } }", {"n": name}))
    return str(data["createAgent"]["id"])


async def add(gql: Gql, content: str, **fields: object) -> dict[str, object]:
    data = ok(await gql(ADD, {"input": {"content": content, **fields}}))
    return dict(data["addMemory"])


async def test_added_memory_reads_back_with_defaults_and_its_agent(gql: Gql) -> None:
    agent = await create_agent(gql)
    memory = await add(
        gql,
        "The user prefers dark roast coffee",
        agentId=agent,
        type="SEMANTIC",
        tags=["prefs", "coffee"],
        metadata={"source": "chat", "turn": 3},
        userId="u1",
        sessionId="s1",
    )
    assert memory["version"] == 1
    assert memory["type"] == "SEMANTIC" and memory["level"] == "OPERATIONAL"
    assert memory["importance"] == 0.5 and memory["sensitivity"] == "INTERNAL"
    assert memory["tags"] == ["prefs", "coffee"]
    assert memory["metadata"] == {"source": "chat", "turn": 3}
    assert memory["agent"] == {"id": agent, "name": "planner"}
    read = ok(await gql(GET, {"id": memory["id"]}))["memory"]
    assert read["content"] == "The user prefers dark roast coffee"


async def test_same_content_for_same_agent_returns_the_existing_memory(gql: Gql) -> None:
    agent = await create_agent(gql)
    first = await add(gql, "Standup is at 9:30", agentId=agent)
    again = await add(gql, "  Standup   is at 9:30 ", agentId=agent)
    other_agent = await add(gql, "Standup is at 9:30", agentId=await create_agent(gql, "b"))
    assert again["id"] == first["id"]
    assert other_agent["id"] != first["id"]
    batch = ok(
        await gql(
            "mutation($i: [AddMemoryInput!]!) { addMemories(inputs: $i) { id } }",
            {"i": [{"content": "x1"}, {"content": "x1"}, {"content": "x2"}]},
        )
    )["addMemories"]
    assert batch[0]["id"] == batch[1]["id"] != batch[2]["id"]


async def test_update_writes_a_new_version_and_keeps_history(gql: Gql) -> None:
    memory = await add(gql, "Budget is 10k")
    updated = ok(
        await gql(UPDATE, {"id": memory["id"], "input": {"content": "Budget is 12k"}, "v": 1})
    )
    assert updated["updateMemory"]["version"] == 2
    read = ok(await gql(GET, {"id": memory["id"]}))["memory"]
    assert read["content"] == "Budget is 12k"
    history = read["history"]
    assert [h["version"] for h in history] == [1, 2]
    assert history[0]["content"] == "Budget is 10k"
    assert history[0]["expiredAt"] == history[1]["recordedAt"]
    assert history[1]["expiredAt"] is None


async def test_stale_expected_version_is_a_conflict_and_changes_nothing(gql: Gql) -> None:
    memory = await add(gql, "Office moves in March")
    ok(
        await gql(
            UPDATE, {"id": memory["id"], "input": {"content": "Office moves in April"}, "v": 1}
        )
    )
    stale = await gql(
        UPDATE, {"id": memory["id"], "input": {"content": "Office moves in May"}, "v": 1}
    )
    assert error_code(stale) == "CONFLICT"
    read = ok(await gql(GET, {"id": memory["id"]}))["memory"]
    assert read["content"] == "Office moves in April" and read["version"] == 2


async def test_concurrent_updates_with_the_same_expected_version_let_exactly_one_win(
    gql: Gql,
) -> None:
    memory = await add(gql, "Counter at zero")
    results = await asyncio.gather(
        *(
            gql(UPDATE, {"id": memory["id"], "input": {"content": f"v{i}"}, "v": 1})
            for i in range(5)
        )
    )
    winners = [r for r in results if "errors" not in r]
    assert len(winners) == 1
    assert all(error_code(r) == "CONFLICT" for r in results if "errors" in r)


async def test_deleted_memory_disappears_and_cannot_be_updated(gql: Gql) -> None:
    memory = await add(gql, "Temporary note")
    assert ok(await gql("mutation($id: ID!) { deleteMemory(id: $id) }", {"id": memory["id"]}))[
        "deleteMemory"
    ]
    assert ok(await gql(GET, {"id": memory["id"]}))["memory"] is None
    assert (
        error_code(await gql(UPDATE, {"id": memory["id"], "input": {"content": "x"}}))
        == "NOT_FOUND"
    )
    again = await gql("mutation($id: ID!) { deleteMemory(id: $id) }", {"id": memory["id"]})
    assert error_code(again) == "NOT_FOUND"


LIST = """
query($f: MemoryFilter, $first: Int, $after: String) {
  memories(filter: $f, first: $first, after: $after) {
    totalCount edges { cursor node { id content } } pageInfo { hasNextPage endCursor }
  }
}"""


async def test_keyset_pages_are_stable_while_newer_memories_arrive(gql: Gql) -> None:
    for i in range(7):
        await add(gql, f"note {i}")
    first_page = ok(await gql(LIST, {"first": 3}))["memories"]
    assert [e["node"]["content"] for e in first_page["edges"]] == ["note 6", "note 5", "note 4"]
    assert first_page["totalCount"] == 7
    await add(gql, "newer note")
    seen = [e["node"]["content"] for e in first_page["edges"]]
    after = first_page["pageInfo"]["endCursor"]
    while after:
        page = ok(await gql(LIST, {"first": 3, "after": after}))["memories"]
        seen += [e["node"]["content"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert seen == [f"note {i}" for i in range(6, -1, -1)]


async def test_filters_combine(gql: Gql) -> None:
    agent = await create_agent(gql)
    await add(gql, "a", agentId=agent, type="SEMANTIC", tags=["x", "y"], userId="u1")
    await add(gql, "b", agentId=agent, type="EPISODIC", tags=["x"], userId="u1")
    await add(gql, "c", type="SEMANTIC", tags=["x", "y"], userId="u2")
    data = ok(
        await gql(LIST, {"f": {"agentId": agent, "types": ["SEMANTIC"], "tags": ["x", "y"]}})
    )["memories"]
    assert [e["node"]["content"] for e in data["edges"]] == ["a"]
    assert data["totalCount"] == 1
    by_user = ok(await gql(LIST, {"f": {"userId": "u1"}}))["memories"]
    assert sorted(e["node"]["content"] for e in by_user["edges"]) == ["a", "b"]


async def test_as_of_reads_the_version_held_at_that_time(gql: Gql) -> None:
    memory = await add(gql, "CEO is Alice")
    await asyncio.sleep(0.02)
    between = datetime.now(UTC)
    await asyncio.sleep(0.02)
    ok(await gql(UPDATE, {"id": memory["id"], "input": {"content": "CEO is Bob"}}))
    then = ok(await gql(LIST, {"f": {"asOf": between.isoformat()}}))["memories"]
    assert [e["node"]["content"] for e in then["edges"]] == ["CEO is Alice"]
    before = (between - timedelta(days=1)).isoformat()
    assert ok(await gql(LIST, {"f": {"asOf": before}}))["memories"]["edges"] == []


async def test_agents_page_newest_first_with_their_memories(gql: Gql) -> None:
    a = await create_agent(gql, "a")
    b = await create_agent(gql, "b")
    await add(gql, "from a", agentId=a)
    query = """{ agents(first: 1) { edges { node { name memories { totalCount edges { node { content } } } } }
                   pageInfo { hasNextPage endCursor } } }"""
    data = ok(await gql(query))["agents"]
    assert [e["node"]["name"] for e in data["edges"]] == ["b"]
    assert data["pageInfo"]["hasNextPage"] is True
    after = data["pageInfo"]["endCursor"]
    rest = ok(
        await gql(
            "query($a: String) { agents(after: $a) { edges { node { id memories { totalCount } } } } }",
            {"a": after},
        )
    )
    assert [e["node"]["id"] for e in rest["agents"]["edges"]] == [a]
    assert rest["agents"]["edges"][0]["node"]["memories"]["totalCount"] == 1
    assert b != a


async def test_other_tenants_memory_is_not_found(gql: Gql) -> None:
    memory = await add(gql, "Tenant A secret plan")
    assert ok(await gql(GET, {"id": memory["id"]}, tenant="other"))["memory"] is None
    stale = await gql(UPDATE, {"id": memory["id"], "input": {"content": "hijack"}}, tenant="other")
    assert error_code(stale) == "NOT_FOUND"
    assert ok(await gql(LIST, tenant="other"))["memories"]["totalCount"] == 0
