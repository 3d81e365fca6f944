"""Row-level scope through GraphQL: a principal bound to one agent (or user)
reads, searches, traverses, subscribes to and changes only that agent's (or
user's) memories; everything else answers like a non-existent id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from graph.access.principal import Principal
from graph.memory_graph import MemoryGraph
from resolvers.context import RequestContext
from schema.errors import coded
from tests.api.conftest import SCHEMA, Gql, error_code, ok

ADMIN = frozenset({"admin"})


@dataclass
class Seeded:
    own_agent: str
    other_agent: str
    own: str  # memory of own_agent, user u1
    other: str  # memory of other_agent, user u2
    link: str  # relation own -> other
    entity: str  # mentioned by both memories


def agent_principal(agent_id: str) -> Principal:
    return Principal(subject="apikey:scoped", tenant="default", roles=ADMIN, agent_id=agent_id)


USER_PRINCIPAL = Principal(subject="apikey:user", tenant="default", roles=ADMIN, user_id="u1")


async def seed(gql: Gql) -> Seeded:
    agents = []
    for name in ("own", "other"):
        data = ok(await gql("mutation($n: String!) { createAgent(name: $n) { id } }", {"n": name}))
        agents.append(data["createAgent"]["id"])
    memories = []
    for agent, user, text in ((agents[0], "u1", "alpha heron"), (agents[1], "u2", "beta heron")):
        data = ok(
            await gql(
                "mutation($i: AddMemoryInput!) { addMemory(input: $i) { id } }",
                {"i": {"agentId": agent, "userId": user, "content": text}},
            )
        )
        memories.append(data["addMemory"]["id"])
    link = ok(
        await gql(
            'mutation($s: ID!, $t: ID!) { relate(sourceId: $s, targetId: $t, type: "CAUSES") { id } }',
            {"s": memories[0], "t": memories[1]},
        )
    )["relate"]["id"]
    entity = ""
    for memory in memories:
        fact = ok(
            await gql(
                'mutation($m: ID!) { addFact(subject: "Heron", predicate: "EATS", object: "Fish",'
                " sourceMemoryId: $m) { subject { id } } }",
                {"m": memory},
            )
        )
        entity = fact["addFact"]["subject"]["id"]
    return Seeded(agents[0], agents[1], memories[0], memories[1], link, entity)


@pytest.fixture
async def seeded(gql: Gql) -> Seeded:
    return await seed(gql)


def ids_in(items: list[dict[str, Any]], key: str = "id") -> set[str]:
    return {item[key] for item in items}


async def test_another_agents_memory_and_agent_do_not_exist(gql: Gql, seeded: Seeded) -> None:
    me = agent_principal(seeded.own_agent)
    s = seeded
    query = """query($o: ID!, $a: ID!) {
      memory(id: $o) { id } node(id: $o) { id } agent(id: $a) { id } other: node(id: $a) { id }
    }"""
    assert ok(await gql(query, {"o": s.other, "a": s.other_agent}, principal=me)) == {
        "memory": None,
        "node": None,
        "agent": None,
        "other": None,
    }
    listed = ok(
        await gql(
            "{ agents { edges { node { id memories { totalCount edges { node { id } } } } } }"
            "  memories { totalCount edges { node { id } } } }",
            principal=me,
        )
    )
    assert [e["node"]["id"] for e in listed["agents"]["edges"]] == [s.own_agent]
    assert listed["agents"]["edges"][0]["node"]["memories"]["totalCount"] == 1
    assert listed["memories"]["totalCount"] == 1
    assert [e["node"]["id"] for e in listed["memories"]["edges"]] == [s.own]
    filtered = ok(
        await gql(
            "query($a: ID!) { memories(filter: {agentId: $a}) { totalCount edges { node { id } } } }",
            {"a": s.other_agent},
            principal=me,
        )
    )
    assert filtered == {"memories": {"totalCount": 0, "edges": []}}


async def test_traversals_stop_at_the_scope(gql: Gql, seeded: Seeded) -> None:
    me = agent_principal(seeded.own_agent)
    s = seeded
    query = """query($m: ID!) { memory(id: $m) {
      history { version }
      related(depth: 3) { memory { id } }
      relations { id source { id } target { id } }
      entities { id memories { id } }
    } }"""
    admin_view = ok(await gql(query, {"m": s.own}))["memory"]
    assert ids_in([r["memory"] for r in admin_view["related"]]) == {s.other}
    mine = ok(await gql(query, {"m": s.own}, principal=me))["memory"]
    assert mine["history"] == [{"version": 1}]
    assert mine["related"] == []
    assert all(s.link != r["id"] for r in mine["relations"])
    assert s.entity in ids_in(mine["entities"])  # Heron and Fish, both mentioned by both
    for entity in mine["entities"]:
        assert ids_in(entity["memories"]) == {s.own}
    entity = ok(
        await gql(
            "query($e: ID!) { entity(id: $e) { memories { id } } }", {"e": s.entity}, principal=me
        )
    )
    assert ids_in(entity["entity"]["memories"]) == {s.own}
    graph = ok(
        await gql(
            "query($m: ID!) { subgraph(ids: [$m], depth: 3) { nodes { id } relations { id } } }",
            {"m": s.own},
            principal=me,
        )
    )["subgraph"]
    assert s.other not in ids_in(graph["nodes"]) and s.other_agent not in ids_in(graph["nodes"])
    assert s.link not in ids_in(graph["relations"])
    refused = await gql(
        "query($m: ID!) { subgraph(ids: [$m]) { nodes { id } } }", {"m": s.other}, principal=me
    )
    assert error_code(refused) == "NOT_FOUND"
    link = ok(await gql("query($r: ID!) { node(id: $r) { id } }", {"r": s.link}, principal=me))
    assert link == {"node": None}


@pytest.mark.parametrize("mode", ["KEYWORD", "VECTOR", "HYBRID"])
async def test_search_finds_only_memories_inside_the_scope(
    gql: Gql, seeded: Seeded, mode: str
) -> None:
    query = """query($m: SearchMode!) {
      search(query: "heron", mode: $m, expand: 2) { memory { id } } }"""
    everyone = ok(await gql(query, {"m": mode}))["search"]
    assert ids_in([h["memory"] for h in everyone]) == {seeded.own, seeded.other}
    for principal, expected in (
        (agent_principal(seeded.own_agent), {seeded.own}),
        (agent_principal(seeded.other_agent), {seeded.other}),
        (USER_PRINCIPAL, {seeded.own}),
    ):
        hits = ok(await gql(query, {"m": mode}, principal=principal))["search"]
        assert ids_in([h["memory"] for h in hits]) == expected


async def test_writes_to_another_agents_memories_answer_not_found(gql: Gql, seeded: Seeded) -> None:
    me = agent_principal(seeded.own_agent)
    s = seeded
    attempts = [
        (
            'mutation($o: ID!) { updateMemory(id: $o, input: {content: "x"}) { id } }',
            {"o": s.other},
        ),
        ("mutation($o: ID!) { deleteMemory(id: $o) }", {"o": s.other}),
        (
            'mutation($m: ID!, $o: ID!) { relate(sourceId: $m, targetId: $o, type: "X") { id } }',
            {"m": s.own, "o": s.other},
        ),
        ("mutation($o: ID!) { unrelate(id: $o) }", {"o": s.link}),
        (
            'mutation($o: ID!) { addFact(subject: "a", predicate: "B", object: "c",'
            " sourceMemoryId: $o) { id } }",
            {"o": s.other},
        ),
        (
            'mutation($o: ID!) { addMemory(input: {agentId: $o, content: "x"}) { id } }',
            {"o": s.other_agent},
        ),
    ]
    for query, variables in attempts:
        assert error_code(await gql(query, variables, principal=me)) == "NOT_FOUND", query
    after = ok(
        await gql(
            "query($o: ID!, $r: ID!) { memory(id: $o) { version content } node(id: $r) { id } }",
            {"o": s.other, "r": s.link},
        )
    )
    assert after == {"memory": {"version": 1, "content": "beta heron"}, "node": {"id": s.link}}


async def test_new_memories_belong_to_the_scope(gql: Gql, seeded: Seeded) -> None:
    me = agent_principal(seeded.own_agent)
    added = ok(
        await gql(
            'mutation { addMemory(input: {content: "beta heron", userId: "u9"}) '
            "{ id userId agent { id } } }",
            principal=me,
        )
    )["addMemory"]
    # Same content as the other agent's memory, yet a new memory of the own agent.
    assert added["id"] != seeded.other and added["agent"] == {"id": seeded.own_agent}
    assert error_code(await gql('mutation { createAgent(name: "x") { id } }', principal=me)) == (
        "FORBIDDEN"
    )
    own = ok(
        await gql(
            'mutation { addMemory(input: {content: "mine"}) { userId } }', principal=USER_PRINCIPAL
        )
    )
    assert own["addMemory"]["userId"] == "u1"
    other_user = await gql(
        'mutation { addMemory(input: {content: "theirs", userId: "u2"}) { id } }',
        principal=USER_PRINCIPAL,
    )
    assert error_code(other_user) == "FORBIDDEN"


async def subscribe(graph: MemoryGraph, principal: Principal, query: str) -> AsyncIterator[Any]:
    context = RequestContext.create(graph, principal)
    stream = await SCHEMA.subscribe(query, context_value=context)
    assert not hasattr(stream, "errors") or stream.errors is None  # a stream, not a failure
    return stream  # type: ignore[return-value]


async def test_subscriptions_deliver_only_memories_inside_the_scope(
    gql: Gql, memory_graph: MemoryGraph, seeded: Seeded
) -> None:
    me = agent_principal(seeded.own_agent)
    stream = await subscribe(
        memory_graph, me, "subscription { memoryEvents { memory { id content } } }"
    )
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.2)  # let the subscription attach to the bus
    for agent, text in ((seeded.other_agent, "not for you"), (seeded.own_agent, "for you")):
        await gql(
            "mutation($i: AddMemoryInput!) { addMemory(input: $i) { id } }",
            {"i": {"agentId": agent, "content": text}},
        )
    result = await asyncio.wait_for(first, 10)
    assert result.errors is None
    assert result.data["memoryEvents"]["memory"]["content"] == "for you"
    await stream.aclose()  # type: ignore[attr-defined]
    refused = await SCHEMA.subscribe(
        "subscription($a: ID!) { memoryEvents(agentId: $a) { kind } }",
        variable_values={"a": seeded.other_agent},
        context_value=RequestContext.create(memory_graph, me),
    )
    if not hasattr(refused, "errors"):
        refused = await anext(refused)  # type: ignore[arg-type]
    assert refused.errors
    assert coded(refused.errors[0]).formatted["extensions"]["code"] == "NOT_FOUND"
