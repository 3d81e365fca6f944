"""Hostile input through every value that can reach a graph-store query.

Each hostile string (Cypher fragments, backticks, ``$param`` look-alikes,
Lucene syntax, unicode, very long text) goes through every id, tenant, name,
kind, predicate, relation type, tag, user/session id, metadata key and
fulltext query the store takes. It must come back as data, or be rejected
with ``BadInput`` by the services that validate identifiers, and nothing else
in the graph may change.

The data tests run against every backend set through ``backends`` (under
``AGENTMEM_TEST_BACKENDS=neo4j`` that is the real Neo4j; there the raw graph
is also inspected: only the store's own labels, relationship types and
property names may exist). The text tests check the Cypher the Neo4j store
generates: no input text ever appears inside a query string.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from neo4j import AsyncGraphDatabase

from graph.adapters.neo4j import cypher
from graph.errors import BadInput, NotFound
from graph.limits import Limits
from graph.model import Direction, Fact, Memory, MemoryFilter
from graph.ports import Backends, GraphStore
from graph.services.facts import FactService
from graph.services.relations import RelationService
from tests.support import make_agent, make_fact, make_memory, make_relation

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
MARK = "pwn"
"""In every hostile string; never part of a generated query."""

HOSTILE = [
    f"x'}}) DETACH DELETE n // {MARK}",
    f'x"}}) DETACH DELETE n // {MARK}',
    f"`) MATCH (n) DETACH DELETE n // `{MARK}",
    f"$tenant {MARK}",
    f"{{tenant}} {MARK} $ids",
    f"{MARK}') RETURN 1 UNION MATCH (n) DETACH DELETE n RETURN 1 //",
    f"\\u0027 OR 1=1 /* {MARK} */",
    f'{MARK}:* OR content:x~2 AND "open (a TO z] ^3 \\ /re/',
    f"名前 {MARK} 🤖 ünïcödé \u202e",
    MARK + "z" * 4000,
]
"""Hostile strings short enough for indexed properties (ids, tenants, names)."""

LONG = f"{MARK} " + "long " * 20_000
"""For values that are never index keys (content, metadata, tags, text)."""

STORE_LABELS = {"Node", "Agent", "Memory", "MemoryVersion", "Entity", "Fact", "OutboxEntry"}
STORE_LABELS |= {"Counter", "SchemaMigration"}
STORE_TYPES = {"HAS_VERSION", "RELATES"}


@pytest.fixture
def store(backends: Backends) -> GraphStore:
    return backends.store


async def nothing(tenant: str) -> None:
    """The services' after-write hook, unused here."""


def hostile_ids() -> Iterator[tuple[str, str]]:
    """(label, string) pairs; the label keeps failures readable."""
    for number, text in enumerate(HOSTILE):
        yield f"hostile-{number}", text


def contains(value: Any, text: str) -> bool:
    """Whether ``text`` appears in a (nested) parameter value."""
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(contains(k, text) or contains(v, text) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains(v, text) for v in value)
    return False


async def canary(store: GraphStore) -> tuple[Memory, Memory, str]:
    """A small graph in tenant ``canary`` that no hostile call may touch."""
    agent = make_agent("canary", at=START)
    await store.create_agent(agent)
    one = make_memory("canary", "canary one", at=START, agent_id=agent.id, tags=("c",))
    two = make_memory("canary", "canary two", at=START + timedelta(milliseconds=1))
    await store.insert_memories([one, two])
    relation = make_relation("canary", one.id, two.id, "FOLLOWS", at=START)
    await store.insert_relation(relation)
    return one, two, relation.id


async def assert_canary_intact(store: GraphStore, one: Memory, two: Memory, rid: str) -> None:
    found = await store.get_memories("canary", [one.id, two.id])
    assert found == {one.id: one, two.id: two}
    rels = await store.relations_of("canary", [one.id], Direction.OUT, None)
    assert [r.id for r in rels[one.id]] == [rid]
    assert [m.id for m in await store.list_memories("canary", MemoryFilter(), 10, None)] == [
        two.id,
        one.id,
    ]


async def raw_graph(backend_name: str) -> dict[str, Any] | None:
    """Labels, relationship types and property names in the real Neo4j
    graph (``None`` for other backend sets)."""
    if backend_name != "neo4j":
        return None
    uri, user, password = (
        os.environ[n]
        for n in ("AGENTMEM_NEO4J_URI", "AGENTMEM_NEO4J_USER", "AGENTMEM_NEO4J_PASSWORD")
    )
    driver = AsyncGraphDatabase.driver(uri, auth=(user, password))
    mine = "n:Node OR n:MemoryVersion OR n:OutboxEntry OR n:Counter OR n:SchemaMigration"
    queries = {
        "nodes": f"MATCH (n) WHERE {mine} RETURN count(n)",
        "labels": f"MATCH (n) WHERE {mine} UNWIND labels(n) AS x RETURN collect(DISTINCT x)",
        "node_keys": f"MATCH (n) WHERE {mine} UNWIND keys(n) AS x RETURN collect(DISTINCT x)",
        "relationships": f"MATCH (n)-[r]->() WHERE {mine} RETURN count(r)",
        "types": f"MATCH (n)-[r]-() WHERE {mine} RETURN collect(DISTINCT type(r))",
        "relationship_keys": f"MATCH (n)-[r]->() WHERE {mine}"
        " UNWIND keys(r) AS x RETURN collect(DISTINCT x)",
    }
    graph: dict[str, Any] = {}
    try:
        for name, query in queries.items():
            records, _, _ = await driver.execute_query(query)
            value = records[0][0]
            graph[name] = set(value) if isinstance(value, list) else value
    finally:
        await driver.close()
    return graph


def assert_schema_only(graph: dict[str, Any] | None) -> None:
    """No label, type or property name came from input."""
    if graph is None:
        return
    assert graph["labels"] <= STORE_LABELS
    assert graph["types"] <= STORE_TYPES
    for key in graph["node_keys"] | graph["relationship_keys"]:
        assert key.isidentifier() and MARK not in key, key


# -- values stored and read back as data --------------------------------------------


async def test_hostile_tenants_ids_and_filter_values_are_data(
    store: GraphStore, backend_name: str
) -> None:
    one, two, rid = await canary(store)
    before = await raw_graph(backend_name)
    for n, (_, text) in enumerate(hostile_ids()):
        at = START + timedelta(seconds=n)
        agent = replace(make_agent(text, name=text, at=at), metadata={text: text})
        await store.create_agent(agent)
        assert await store.get_agents(text, [agent.id]) == {agent.id: agent}
        assert await store.list_agents(text, 5, None) == [agent]
        memory = make_memory(
            text,
            f"{text} {LONG}",
            at=at,
            agent_id=text,
            user_id=text,
            session_id=text,
            tags=(text, LONG[:100]),
            metadata={text: [text, {text: None}], LONG[:200]: LONG},
        )
        await store.insert_memories([memory])
        assert await store.get_memories(text, [memory.id]) == {memory.id: memory}
        full = MemoryFilter(agent_id=text, user_id=text, session_id=text, tags=(text,))
        assert await store.list_memories(text, full, 5, None) == [memory]
        assert await store.list_memories(text, replace(full, as_of=at), 5, None) == [memory]
        assert (await store.list_memories_for_agents(text, [text], full, 5, None))[text] == [memory]
        counts = await store.count_memories_for_agents(text, [text, None], full)
        assert counts == {text: 1, None: 1}
        hashed = await store.find_memories_by_hash(text, [(text, memory.content_hash)])
        assert hashed == {(text, memory.content_hash): memory}
        assert await store.live_memory_versions(text) == {memory.id: 1}
        # Hostile values as lookups find nothing and break nothing.
        assert await store.get_memories(text, [text]) == {}
        assert await store.get_agents(text, [text]) == {}
        assert await store.get_relations(text, [text]) == {}
        assert await store.get_entities(text, [text]) == {}
        assert await store.get_facts(text, [text]) == {}
        assert (await store.memory_history(text, [text]))[text] == []
        assert (await store.relations_of(text, [text], Direction.BOTH, [text]))[text] == []
        assert (await store.facts_for_entities(text, [text], at))[text] == []
        assert await store.list_memories(text, MemoryFilter(agent_id=memory.id), 5, None) == []
        assert await store.list_memories(text, full, 5, (at + timedelta(1), text)) == [memory]
        assert await store.delete_memory(text, text, at) is None
        assert await store.delete_relation(text, text) is False
        with pytest.raises(NotFound):
            await store.update_memory(replace(memory, id=text, version=2))
        # ...and the value in another tenant's name reads nothing of this one.
        assert await store.get_memories("canary", [memory.id]) == {}
    assert set(await store.tenants()) == {"canary", *HOSTILE}
    await assert_canary_intact(store, one, two, rid)
    after = await raw_graph(backend_name)
    if before is not None and after is not None:
        # Per hostile string: agent, memory and its version (+ outbox entries).
        assert after["nodes"] == before["nodes"] + 4 * len(HOSTILE)
        assert after["relationships"] == before["relationships"] + len(HOSTILE)
    assert_schema_only(after)


async def test_hostile_names_kinds_predicates_and_relation_types_are_data(
    store: GraphStore, backend_name: str
) -> None:
    one, two, rid = await canary(store)
    tenant = "t-hostile"
    at = START
    base = make_memory(tenant, "anchor", at=at)
    await store.insert_memories([base])
    for _, text in hostile_ids():
        entity = await store.upsert_entity(tenant, text, text, at)
        assert entity.kind == text
        assert entity.name == " ".join(text.split())
        assert await store.upsert_entity(tenant, text.upper(), text, at) == entity
        assert entity in await store.find_entities_by_name(tenant, text)
        other = await store.upsert_entity(tenant, f"other {text}", "CONCEPT", at)
        mention = replace(make_relation(tenant, base.id, entity.id, text, at=at), properties={})
        fact = make_fact(tenant, entity.id, text, other.id, recorded_at=at, valid_from=at)
        fact = replace(fact, source_memory_id=text)
        await store.insert_fact(fact, exclusive=True, mentions=[mention])
        assert await store.get_facts(tenant, [fact.id]) == {fact.id: fact}
        assert (await store.facts_for_entities(tenant, [entity.id], at))[entity.id] == [fact]
        relation = replace(
            make_relation(tenant, entity.id, other.id, text, at=at),
            properties={text: text, "nested": {text: [text]}},
        )
        await store.insert_relation(relation)
        assert await store.get_relations(tenant, [relation.id]) == {relation.id: relation}
        typed = await store.relations_of(tenant, [entity.id], Direction.BOTH, [text])
        assert {r.id for r in typed[entity.id]} == {mention.id, relation.id}
        assert await store.delete_relation(tenant, relation.id) is True
        assert await store.get_relations(tenant, [relation.id]) == {}
    assert len(await store.find_entities_by_name(tenant, HOSTILE[0])) == 1
    await assert_canary_intact(store, one, two, rid)
    assert_schema_only(await raw_graph(backend_name))


@pytest.mark.parametrize("text", [*HOSTILE, LONG, "AND OR NOT", '"', "\\", "*", "()"])
async def test_hostile_fulltext_text_is_words_never_syntax(
    store: GraphStore, backend_name: str, text: str
) -> None:
    one, two, rid = await canary(store)
    tenant = "t-search"
    plain = make_memory(tenant, "the heron fishes at dawn", at=START)
    tricky = make_memory(tenant, f"words {text[:5000]}", at=START + timedelta(milliseconds=1))
    await store.insert_memories([plain, tricky])
    hits = await store.keyword_fallback(tenant, text, MemoryFilter(), 10)
    assert {hit.memory_id for hit in hits} <= {plain.id, tricky.id}
    assert all(hit.keyword_score is not None and hit.keyword_score > 0 for hit in hits)
    if MARK in text:
        assert hits[0].memory_id == tricky.id
    elsewhere = await store.keyword_fallback("canary", text, MemoryFilter(), 10)
    assert {hit.memory_id for hit in elsewhere} <= {one.id, two.id}
    await assert_canary_intact(store, one, two, rid)
    assert_schema_only(await raw_graph(backend_name))


# -- identifiers are validated before they reach any store --------------------------


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_identifiers_are_bad_input_at_the_services(
    store: GraphStore, backend_name: str, text: str
) -> None:
    one, two, rid = await canary(store)
    before = await raw_graph(backend_name)
    relations = RelationService(store, Limits(), nothing)
    with pytest.raises(BadInput):
        await relations.relate("canary", one.id, two.id, text, 1.0, None)
    with pytest.raises(BadInput):
        await relations.relations_of("canary", [one.id], Direction.BOTH, [text])
    with pytest.raises(BadInput):
        await relations.related("canary", [one.id], 1, [text], 5)
    facts = FactService(store, Limits(), nothing)
    with pytest.raises(BadInput):
        await facts.add_fact("canary", "Ada", text, "London")
    with pytest.raises(BadInput):
        await facts.add_fact("canary", "Ada", "LIVES_IN", "London", subject_kind=text)
    await assert_canary_intact(store, one, two, rid)
    assert await raw_graph(backend_name) == before


# -- the generated Cypher never carries input text ----------------------------------


def _statements(text: str) -> list[tuple[str, cypher.Statement | None]]:
    at = START
    memory = make_memory(
        text,
        text,
        at=at,
        agent_id=text,
        user_id=text,
        session_id=text,
        tags=(text,),
        metadata={text: text},
    )
    memory = replace(memory, id=text)
    relation = replace(make_relation(text, text, text, text, at=at), id=text)
    fact = Fact(text, text, text, text, text, at, None, text, at)
    every = MemoryFilter(
        agent_id=text, user_id=text, session_id=text, tags=(text,), created_after=at
    )
    agent = replace(make_agent(text, name=text, at=at), id=text, metadata={text: text})
    return [
        ("list", cypher.list_memories(text, every, 5, (at, text))),
        ("list as_of", cypher.list_memories(text, replace(every, as_of=at), 5, (at, text))),
        ("per agent", cypher.list_memories_for_agents(text, [text], every, 5, (at, text))),
        ("counts", cypher.count_memories_for_agents(text, [text, None], every)),
        ("fulltext", cypher.keyword_fallback(text, text, every, 5)),
        ("get", cypher.get_memories(text, [text])),
        ("hash", cypher.find_memories_by_hash(text, [(text, text)])),
        ("history", cypher.memory_history(text, [text])),
        ("versions", cypher.live_memory_versions(text)),
        ("insert", cypher.insert_memories([memory], at)),
        ("lock", cypher.lock_memory(text, text)),
        ("update", cypher.update_memory(replace(memory, version=2), at)),
        ("delete", cypher.delete_memory(text, text, at, at)),
        ("agent", cypher.create_agent(agent)),
        ("agents", cypher.get_agents(text, [text])),
        ("agent page", cypher.list_agents(text, 5, (at, text))),
        ("relate", cypher.insert_relations([relation])),
        ("relations", cypher.get_relations(text, [text])),
        *(
            (f"relations_of {d.value}", cypher.relations_of(text, [text], d, [text]))
            for d in Direction
        ),
        ("lock relation", cypher.lock_relation(text, text)),
        ("unrelate", cypher.delete_relation(text, text, at)),
        ("entity", cypher.upsert_entity(text, text, text, text, text, at)),
        ("entity names", cypher.find_entities_by_name(text, text)),
        ("entities", cypher.get_entities(text, [text])),
        ("close facts", cypher.close_facts(fact)),
        ("fact", cypher.insert_fact(fact)),
        ("facts", cypher.get_facts(text, [text])),
        ("entity facts", cypher.facts_for_entities(text, [text], at)),
    ]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_input_text_appears_in_any_generated_query(text: str) -> None:
    for name, statement in _statements(text):
        assert statement is not None, name
        query, params = statement
        assert MARK not in query, name
        assert text not in query, name
        assert contains(params, MARK), name
