"""The right to be forgotten (``forget``), on every backend set: after it,
nothing of the subject is found by any query, search (keyword and vector),
history, by direct store inspection or by the search index's own query."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from graph.access.principal import Principal
from graph.memory_graph import MemoryGraph
from graph.model import Direction, MemoryFilter
from graph.ports import IndexQuery
from graph.services.forget import FORGET_ACTION
from tests.api.conftest import Gql, error_code, ok
from tests.support import make_memory

FORGET_USER = """mutation($u: String!) { forget(userId: $u) {
  memories versions relations facts entities indexDocuments indexPending } }"""
FORGET_ENTITY = """mutation($e: ID!) { forget(entityId: $e) {
  memories versions relations facts entities indexDocuments indexPending } }"""
ADD = "mutation($i: AddMemoryInput!) { addMemory(input: $i) { id } }"
FACT = """mutation($s: String!, $p: String!, $o: String!, $m: ID) {
  addFact(subject: $s, predicate: $p, object: $o, sourceMemoryId: $m) {
    id subject { id } object { id } } }"""


@dataclass
class Alice:
    agent: str
    memories: list[str]  # live, updated (two versions), deleted
    bob: str  # another user's memory related to Alice's first
    liked: dict[str, Any]  # fact taken from Alice's first memory
    knows: dict[str, Any]  # fact without a source memory


async def add(gql: Gql, content: str, **fields: Any) -> str:
    return str(ok(await gql(ADD, {"i": {"content": content, **fields}}))["addMemory"]["id"])


async def seed(gql: Gql) -> Alice:
    agent = ok(await gql('mutation { createAgent(name: "assistant") { id } }'))["createAgent"]["id"]
    first = await add(gql, "alice adores orchids", agentId=agent, userId="alice")
    second = await add(gql, "alice phone number is private", agentId=agent, userId="alice")
    third = await add(gql, "alice lives near the orchid garden", userId="alice")
    ok(
        await gql(
            'mutation($m: ID!) { updateMemory(id: $m, input: {content: "alice moved her orchids"})'
            " { version } }",
            {"m": second},
        )
    )
    ok(await gql("mutation($m: ID!) { deleteMemory(id: $m) }", {"m": third}))
    bob = await add(gql, "bob grows tulips", agentId=agent, userId="bob")
    ok(
        await gql(
            'mutation($s: ID!, $t: ID!) { relate(sourceId: $s, targetId: $t, type: "KNOWS") { id } }',
            {"s": first, "t": bob},
        )
    )
    liked = ok(await gql(FACT, {"s": "Alice", "p": "LIKES", "o": "Orchids", "m": first}))["addFact"]
    knows = ok(await gql(FACT, {"s": "Alice", "p": "KNOWS", "o": "Bob"}))["addFact"]
    return Alice(agent, [first, second, third], bob, liked, knows)


async def searched(graph: MemoryGraph, gql: Gql, text: str) -> set[str]:
    """Memory ids found by GraphQL search in every mode and by the index's own
    keyword and vector queries."""
    found: set[str] = set()
    for mode in ("KEYWORD", "VECTOR", "HYBRID"):
        body = ok(
            await gql(
                "query($q: String!, $m: SearchMode!) { search(query: $q, mode: $m, limit: 50)"
                " { memory { id } } }",
                {"q": text, "m": mode},
            )
        )
        found |= {hit["memory"]["id"] for hit in body["search"]}
    vector = await graph.backends.embedder.embed([text])
    for alpha in (0.0, 1.0):
        query = IndexQuery(text, vector, alpha, MemoryFilter(), 50)
        found |= {hit.memory_id for hit in await graph.backends.index.search("default", query)}
    return found


async def test_forgetting_a_user_erases_every_trace(gql: Gql, memory_graph: MemoryGraph) -> None:
    alice = await seed(gql)
    assert set(alice.memories[:2]) <= await searched(memory_graph, gql, "alice orchids")
    report = ok(await gql(FORGET_USER, {"u": "alice"}))["forget"]
    assert report == {
        "memories": 3,
        "versions": 4,  # 1 + 2 + 1
        "relations": 3,  # the KNOWS link to Bob's memory and two MENTIONS
        "facts": 1,  # the fact taken from Alice's memory
        "entities": 0,
        "indexDocuments": 2,  # the deleted memory had already left the index
        "indexPending": False,
    }
    # GraphQL: by id, node, listing, filter, history, search.
    for memory_id in alice.memories:
        body = ok(
            await gql(
                "query($m: ID!) { memory(id: $m) { id } node(id: $m) { id } }", {"m": memory_id}
            )
        )
        assert body == {"memory": None, "node": None}
    listed = ok(
        await gql(
            '{ memories(filter: {userId: "alice"}) { totalCount } all: memories { edges { node { id } } } }'
        )
    )
    assert listed["memories"]["totalCount"] == 0
    assert [e["node"]["id"] for e in listed["all"]["edges"]] == [alice.bob]
    assert await searched(memory_graph, gql, "alice orchids") & set(alice.memories) == set()
    assert await searched(memory_graph, gql, "bob tulips") == {alice.bob}
    around = ok(
        await gql(
            "query($b: ID!, $e: ID!, $f: ID!, $k: ID!) {"
            " memory(id: $b) { relations { id } history { version } }"
            " entity(id: $e) { memories { id } facts { id } }"
            " fact: node(id: $f) { id } knows: node(id: $k) { id } }",
            {
                "b": alice.bob,
                "e": alice.liked["subject"]["id"],
                "f": alice.liked["id"],
                "k": alice.knows["id"],
            },
        )
    )
    assert around["memory"] == {"relations": [], "history": [{"version": 1}]}
    assert around["entity"] == {"memories": [], "facts": [{"id": alice.knows["id"]}]}
    assert around["fact"] is None and around["knows"] == {"id": alice.knows["id"]}
    # Direct store and index inspection.
    store, index = memory_graph.backends.store, memory_graph.backends.index
    assert await store.get_memories("default", alice.memories) == {}
    assert await store.memory_history("default", alice.memories) == {m: [] for m in alice.memories}
    assert await store.get_facts("default", [alice.liked["id"]]) == {}
    relations = await store.relations_of("default", alice.memories, Direction.BOTH, None)
    assert relations == {m: [] for m in alice.memories}
    assert not set(alice.memories) & set(await store.live_memory_versions("default"))
    assert not set(alice.memories) & set(await index.indexed_versions("default"))
    assert not [e for e in await store.pending_index_work(1000) if e.memory_id in alice.memories]
    hits = await store.keyword_fallback("default", "alice orchids", MemoryFilter(), 50)
    assert not {h.memory_id for h in hits} & set(alice.memories)


async def test_the_outbox_never_puts_an_erased_memory_back(
    gql: Gql, memory_graph: MemoryGraph
) -> None:
    store = memory_graph.backends.store
    pending = make_memory("default", "carol secret pending", user_id="carol")
    await store.insert_memories([pending])  # its upsert waits in the outbox
    report = ok(await gql(FORGET_USER, {"u": "carol"}))["forget"]
    assert report["memories"] == 1 and report["indexPending"] is False
    await memory_graph.indexer.drain()
    assert pending.id not in await memory_graph.backends.index.indexed_versions("default")
    assert pending.id not in await searched(memory_graph, gql, "carol secret pending")


async def test_forgetting_an_entity_erases_it_its_facts_and_links(
    gql: Gql, memory_graph: MemoryGraph
) -> None:
    memory = await add(gql, "dana works at acme")
    works = ok(await gql(FACT, {"s": "Dana", "p": "WORKS_AT", "o": "Acme", "m": memory}))["addFact"]
    knows = ok(await gql(FACT, {"s": "Erin", "p": "KNOWS", "o": "Dana"}))["addFact"]
    dana = works["subject"]["id"]
    assert knows["object"]["id"] == dana
    report = ok(await gql(FORGET_ENTITY, {"e": dana}))["forget"]
    assert report == {
        "memories": 0,
        "versions": 0,
        "relations": 1,  # the memory's MENTIONS link to Dana
        "facts": 2,
        "entities": 1,
        "indexDocuments": 0,
        "indexPending": False,
    }
    after = ok(
        await gql(
            "query($d: ID!, $w: ID!, $k: ID!, $m: ID!) { entity(id: $d) { id } node(id: $d) { id }"
            " w: node(id: $w) { id } k: node(id: $k) { id }"
            " memory(id: $m) { content entities { name } } }",
            {"d": dana, "w": works["id"], "k": knows["id"], "m": memory},
        )
    )
    assert after == {
        "entity": None,
        "node": None,
        "w": None,
        "k": None,
        "memory": {"content": "dana works at acme", "entities": [{"name": "Acme"}]},
    }
    store = memory_graph.backends.store
    assert await store.get_entities("default", [dana]) == {}
    assert await store.find_entities_by_name("default", "Dana") == []
    assert await store.relations_of("default", [dana], Direction.BOTH, None) == {dana: []}
    assert error_code(await gql(FORGET_ENTITY, {"e": dana})) == "NOT_FOUND"


async def test_forget_is_audited_without_personal_data(gql: Gql, memory_graph: MemoryGraph) -> None:
    await add(gql, "frank keeps bees", userId="frank@example.com")
    ok(await gql(FORGET_USER, {"u": "frank@example.com"}))
    records = await memory_graph.audit.read("default")
    forgot = [r for r in records if r.event.action == FORGET_ACTION]
    assert len(forgot) == 1
    event = forgot[0].event
    assert len(event.target_ids) == 1 and event.detail["subject"] == "user"
    text = json.dumps([list(event.target_ids), event.detail])
    assert "frank" not in text and "bees" not in text


@pytest.mark.parametrize(
    "variables",
    [{}, {"userId": "x", "entityId": "ent_x"}, {"userId": ""}, {"userId": "a\u0000b"}],
)
async def test_forget_needs_exactly_one_valid_subject(gql: Gql, variables: dict[str, str]) -> None:
    body = await gql(
        "mutation($userId: String, $entityId: ID) { forget(userId: $userId, entityId: $entityId)"
        " { memories } }",
        variables,
    )
    assert error_code(body) == "BAD_USER_INPUT"


async def test_forget_needs_the_forget_permission(gql: Gql) -> None:
    await add(gql, "gina sings", userId="gina")
    for role in ("reader", "writer", "auditor"):
        caller = Principal("apikey:k", "default", frozenset({role}))
        assert error_code(await gql(FORGET_USER, {"u": "gina"}, principal=caller)) == "FORBIDDEN"
    assert ok(await gql('{ memories(filter: {userId: "gina"}) { totalCount } }')) == {
        "memories": {"totalCount": 1}
    }


async def test_scoped_credentials_forget_only_inside_their_scope(gql: Gql) -> None:
    agents = [
        ok(await gql("mutation($n: String!) { createAgent(name: $n) { id } }", {"n": n}))[
            "createAgent"
        ]["id"]
        for n in ("one", "two")
    ]
    for agent in agents:
        await add(gql, f"hana note for {agent}", agentId=agent, userId="hana")
    bound = Principal("apikey:a", "default", frozenset({"admin"}), agent_id=agents[0])
    report = ok(await gql(FORGET_USER, {"u": "hana"}, principal=bound))["forget"]
    assert report["memories"] == 1
    left = ok(
        await gql('{ memories(filter: {userId: "hana"}) { edges { node { agent { id } } } } }')
    )
    assert [e["node"]["agent"]["id"] for e in left["memories"]["edges"]] == [agents[1]]
    user_bound = Principal("apikey:u", "default", frozenset({"admin"}), user_id="ivan")
    assert error_code(await gql(FORGET_USER, {"u": "hana"}, principal=user_bound)) == "FORBIDDEN"
    entity = ok(await gql(FACT, {"s": "Ivan", "p": "IS", "o": "Here"}))["addFact"]["subject"]["id"]
    for principal in (bound, user_bound):
        refused = await gql(FORGET_ENTITY, {"e": entity}, principal=principal)
        assert error_code(refused) == "FORBIDDEN"
