"""Relations, traversal, entities and time-aware facts through GraphQL."""

from __future__ import annotations

import itertools

from tests.api.conftest import Gql, error_code, ok
from tests.api.test_memories import add

RELATE = """
mutation($s: ID!, $t: ID!, $type: String!, $w: Float, $p: JSON) {
  relate(sourceId: $s, targetId: $t, type: $type, weight: $w, properties: $p) {
    id type weight properties source { id } target { id }
  }
}"""


async def relate(gql: Gql, source: object, target: object, kind: str = "FOLLOWS") -> str:
    data = ok(await gql(RELATE, {"s": source, "t": target, "type": kind}))
    return str(data["relate"]["id"])


async def chain(gql: Gql, n: int) -> list[str]:
    ids = [str((await add(gql, f"step {i}"))["id"]) for i in range(n)]
    for a, b in itertools.pairwise(ids):
        await relate(gql, a, b)
    return ids


async def test_relation_links_two_memories_both_ways(gql: Gql) -> None:
    a, b = await chain(gql, 2)
    query = """query($id: ID!) { memory(id: $id) {
        out: relations(direction: OUT) { type target { id } }
        inn: relations(direction: IN) { type source { id } } } }"""
    first = ok(await gql(query, {"id": a}))["memory"]
    second = ok(await gql(query, {"id": b}))["memory"]
    assert first["out"] == [{"type": "FOLLOWS", "target": {"id": b}}] and first["inn"] == []
    assert second["inn"] == [{"type": "FOLLOWS", "source": {"id": a}}]


async def test_relation_types_are_normalised_and_filtered(gql: Gql) -> None:
    a, b = await chain(gql, 2)
    await relate(gql, a, b, "derived from")
    query = 'query($id: ID!) { memory(id: $id) { relations(types: ["DERIVED_FROM"]) { type } } }'
    assert ok(await gql(query, {"id": a}))["memory"]["relations"] == [{"type": "DERIVED_FROM"}]


async def test_related_walks_to_the_requested_depth_with_the_path(gql: Gql) -> None:
    ids = await chain(gql, 4)
    query = """query($id: ID!, $d: Int) { memory(id: $id) {
        related(depth: $d) { distance memory { id } via { type } } } }"""
    one = ok(await gql(query, {"id": ids[0], "d": 1}))["memory"]["related"]
    assert [(r["memory"]["id"], r["distance"]) for r in one] == [(ids[1], 1)]
    three = ok(await gql(query, {"id": ids[0], "d": 3}))["memory"]["related"]
    assert [(r["memory"]["id"], r["distance"]) for r in three] == [
        (ids[1], 1),
        (ids[2], 2),
        (ids[3], 3),
    ]
    assert len(three[2]["via"]) == 3


async def test_unrelate_removes_the_edge(gql: Gql) -> None:
    a, b = await chain(gql, 2)
    rel = await relate(gql, a, b, "SUPPORTS")
    assert ok(await gql("mutation($id: ID!) { unrelate(id: $id) }", {"id": rel}))["unrelate"]
    query = 'query($id: ID!) { memory(id: $id) { relations(types: ["SUPPORTS"]) { id } } }'
    assert ok(await gql(query, {"id": a}))["memory"]["relations"] == []
    again = await gql("mutation($id: ID!) { unrelate(id: $id) }", {"id": rel})
    assert error_code(again) == "NOT_FOUND"


async def test_deleted_memory_drops_out_of_traversal(gql: Gql) -> None:
    ids = await chain(gql, 3)
    ok(await gql("mutation($id: ID!) { deleteMemory(id: $id) }", {"id": ids[1]}))
    query = "query($id: ID!) { memory(id: $id) { related(depth: 3) { memory { id } } } }"
    assert ok(await gql(query, {"id": ids[0]}))["memory"]["related"] == []


async def test_subgraph_returns_nodes_and_relations_within_depth(gql: Gql) -> None:
    ids = await chain(gql, 4)
    query = """query($ids: [ID!]!, $d: Int) { subgraph(ids: $ids, depth: $d) {
        nodes { id __typename } relations { source { id } target { id } } } }"""
    sub = ok(await gql(query, {"ids": [ids[0]], "d": 2}))["subgraph"]
    assert [n["id"] for n in sub["nodes"]] == ids[:3]
    assert {(r["source"]["id"], r["target"]["id"]) for r in sub["relations"]} == {
        (ids[0], ids[1]),
        (ids[1], ids[2]),
    }
    missing = await gql(query, {"ids": ["mem_" + "0" * 32]})
    assert error_code(missing) == "NOT_FOUND"


FACT = """
mutation($s: String!, $p: String!, $o: String!, $x: Boolean, $src: ID, $from: DateTime) {
  addFact(subject: $s, predicate: $p, object: $o, exclusive: $x, sourceMemoryId: $src,
          validFrom: $from) {
    id predicate validFrom validTo subject { id name kind } object { id name } source { id }
  }
}"""


async def test_exclusive_fact_closes_the_previous_one_and_as_of_sees_both_eras(gql: Gql) -> None:
    first = ok(
        await gql(FACT, {"s": "Ada", "p": "works at", "o": "Acme", "from": "2024-01-01T00:00:00Z"})
    )["addFact"]
    assert first["predicate"] == "WORKS_AT"
    ok(
        await gql(
            FACT,
            {
                "s": "ada",
                "p": "WORKS_AT",
                "o": "Initech",
                "x": True,
                "from": "2025-06-01T00:00:00Z",
            },
        )
    )
    ada = first["subject"]["id"]
    query = """query($id: ID!, $at: DateTime) { entity(id: $id) {
        name facts(asOf: $at) { object { name } validTo } } }"""
    now = ok(await gql(query, {"id": ada}))["entity"]
    assert [f["object"]["name"] for f in now["facts"]] == ["Initech"]
    then = ok(await gql(query, {"id": ada, "at": "2024-06-01T00:00:00Z"}))["entity"]
    assert [f["object"]["name"] for f in then["facts"]] == ["Acme"]
    assert then["facts"][0]["validTo"].startswith("2025-06-01")


async def test_fact_from_a_memory_links_its_entities(gql: Gql) -> None:
    memory = await add(gql, "Ada joined Acme as CTO")
    fact = ok(await gql(FACT, {"s": "Ada", "p": "ROLE_AT", "o": "Acme", "src": memory["id"]}))
    assert fact["addFact"]["source"] == {"id": memory["id"]}
    entities = ok(
        await gql("query($id: ID!) { memory(id: $id) { entities { name } } }", {"id": memory["id"]})
    )
    assert sorted(e["name"] for e in entities["memory"]["entities"]) == ["Acme", "Ada"]
    ada = fact["addFact"]["subject"]["id"]
    back = ok(await gql("query($id: ID!) { entity(id: $id) { memories { id } } }", {"id": ada}))
    assert back["entity"]["memories"] == [{"id": memory["id"]}]


async def test_node_resolves_every_kind_of_global_id(gql: Gql) -> None:
    memory = await add(gql, "node test")
    agent = ok(await gql('mutation { createAgent(name: "n") { id } }'))["createAgent"]["id"]
    fact = ok(await gql(FACT, {"s": "X", "p": "IS", "o": "Y"}))["addFact"]
    relation = await relate(gql, memory["id"], agent, "OWNED_BY")
    query = "query($id: ID!) { node(id: $id) { __typename id } }"
    for node_id, typename in [
        (memory["id"], "Memory"),
        (agent, "Agent"),
        (fact["id"], "Fact"),
        (fact["subject"]["id"], "Entity"),
        (relation, "Relation"),
    ]:
        assert ok(await gql(query, {"id": node_id}))["node"] == {
            "__typename": typename,
            "id": node_id,
        }
    assert ok(await gql(query, {"id": "not-an-id"}))["node"] is None
