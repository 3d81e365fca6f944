"""Row-level scope inside every store and index query (run via ``backends``).

One tenant holds memories of two agents and two users, relations across
them and an entity both agents' memories mention. Each scoped read must
return exactly the rows inside the scope: the adapters compile the scope
into SQL, Cypher, the FTS5 filter and the Weaviate filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from graph.access.scope import UNSCOPED, RowScope
from graph.model import Agent, Direction, Entity, Memory, MemoryFilter, Relation
from graph.ports import Backends, GraphStore, IndexQuery
from tests.support import Clock, make_agent, make_memory, make_relation, next_version

T = "tenant-scope"
START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    a1: Agent
    a2: Agent
    m1: Memory  # agent a1, user u1
    m2: Memory  # agent a1, user u2
    m3: Memory  # agent a2, user u1
    m4: Memory  # no agent, user u1
    entity: Entity
    r12: Relation  # m1 -> m2
    r13: Relation  # m1 -> m3 (crosses agents)
    r_agent: Relation  # a2 -> m1 (another agent as an end)
    mention1: Relation  # m1 -> entity
    mention3: Relation  # m3 -> entity

    @property
    def memories(self) -> list[Memory]:
        return [self.m1, self.m2, self.m3, self.m4]

    @property
    def agent_scope(self) -> RowScope:
        return RowScope(agent_id=self.a1.id)


USER = RowScope(user_id="u1")


@pytest.fixture
async def world(backends: Backends) -> World:
    store = backends.store
    clock = Clock(START)
    a1, a2 = make_agent(T, "one", at=clock.tick()), make_agent(T, "two", at=clock.tick())
    for agent in (a1, a2):
        await store.create_agent(agent)
    m1 = make_memory(T, "scoped heron one", at=clock.tick(), agent_id=a1.id, user_id="u1")
    m2 = make_memory(T, "scoped heron two", at=clock.tick(), agent_id=a1.id, user_id="u2")
    m3 = make_memory(T, "scoped heron three", at=clock.tick(), agent_id=a2.id, user_id="u1")
    m4 = make_memory(T, "scoped heron four", at=clock.tick(), user_id="u1")
    await store.insert_memories([m1, m2, m3, m4])
    entity = await store.upsert_entity(T, "Heron", "ANIMAL", clock.tick())
    relations = [
        make_relation(T, m1.id, m2.id, at=clock.tick()),
        make_relation(T, m1.id, m3.id, at=clock.tick()),
        make_relation(T, a2.id, m1.id, "AUTHORED", at=clock.tick()),
        make_relation(T, m1.id, entity.id, "MENTIONS", at=clock.tick()),
        make_relation(T, m3.id, entity.id, "MENTIONS", at=clock.tick()),
    ]
    for relation in relations:
        await store.insert_relation(relation)
    vectors = await backends.embedder.embed([m.content for m in (m1, m2, m3, m4)])
    await backends.index.upsert([m1, m2, m3, m4], vectors)
    return World(a1, a2, m1, m2, m3, m4, entity, *relations)


def ids(items: object) -> set[str]:
    assert isinstance(items, list | dict)
    values = items.values() if isinstance(items, dict) else items
    return {item.id for item in values}


async def test_reads_by_id_return_only_rows_inside_the_scope(
    backends: Backends, world: World
) -> None:
    store = backends.store
    every = [m.id for m in world.memories]
    w = world
    assert ids(await store.get_memories(T, every)) == set(every)
    assert ids(await store.get_memories(T, every, UNSCOPED)) == set(every)
    assert ids(await store.get_memories(T, every, w.agent_scope)) == {w.m1.id, w.m2.id}
    assert ids(await store.get_memories(T, every, USER)) == {w.m1.id, w.m3.id, w.m4.id}
    both = RowScope(agent_id=w.a1.id, user_id="u1")
    assert ids(await store.get_memories(T, every, both)) == {w.m1.id}
    assert await store.get_memories(T, every, RowScope(agent_id="agt_" + "0" * 32)) == {}


async def test_history_of_a_memory_outside_the_scope_is_empty(
    backends: Backends, world: World
) -> None:
    store = backends.store
    w = world
    await store.update_memory(next_version(w.m3, START + timedelta(hours=1), content="new"))
    history = await store.memory_history(T, [w.m1.id, w.m3.id], w.agent_scope)
    assert [v.version for v in history[w.m1.id]] == [1]
    assert history[w.m3.id] == []
    unscoped = await store.memory_history(T, [w.m3.id])
    assert [v.version for v in unscoped[w.m3.id]] == [1, 2]


async def test_de_duplication_sees_only_memories_inside_the_scope(
    backends: Backends, world: World
) -> None:
    store = backends.store
    w = world
    key = (w.a1.id, w.m2.content_hash)
    assert await store.find_memories_by_hash(T, [key]) == {key: w.m2}
    assert await store.find_memories_by_hash(T, [key], w.agent_scope) == {key: w.m2}
    assert await store.find_memories_by_hash(T, [key], USER) == {}


async def test_listings_and_counts_are_narrowed_by_the_scope(
    backends: Backends, world: World
) -> None:
    store = backends.store
    w = world
    scope = w.agent_scope
    everything = MemoryFilter()
    assert ids(await store.list_memories(T, everything, 10, None, scope)) == {w.m1.id, w.m2.id}
    assert ids(await store.list_memories(T, everything, 10, None, USER)) == {
        w.m1.id,
        w.m3.id,
        w.m4.id,
    }
    # A filter naming rows outside the scope finds nothing, never those rows.
    assert await store.list_memories(T, MemoryFilter(agent_id=w.a2.id), 10, None, scope) == []
    assert await store.list_memories(T, MemoryFilter(user_id="u2"), 10, None, USER) == []
    as_of = MemoryFilter(as_of=START + timedelta(days=1))
    assert ids(await store.list_memories(T, as_of, 10, None, scope)) == {w.m1.id, w.m2.id}
    pages = await store.list_memories_for_agents(T, [w.a1.id, w.a2.id], everything, 10, None, USER)
    assert ids(pages[w.a1.id]) == {w.m1.id} and ids(pages[w.a2.id]) == {w.m3.id}
    pages = await store.list_memories_for_agents(T, [w.a1.id, w.a2.id], everything, 10, None, scope)
    assert ids(pages[w.a1.id]) == {w.m1.id, w.m2.id} and pages[w.a2.id] == []
    counts = await store.count_memories_for_agents(T, [w.a1.id, w.a2.id, None], everything, scope)
    assert counts == {w.a1.id: 2, w.a2.id: 0, None: 2}
    counts = await store.count_memories_for_agents(T, [w.a1.id, None], everything, USER)
    assert counts == {w.a1.id: 1, None: 3}


async def test_relations_with_an_end_outside_the_scope_are_left_out(
    backends: Backends, world: World
) -> None:
    store = backends.store
    w = world
    scope = w.agent_scope
    around = await store.relations_of(T, [w.m1.id], Direction.BOTH, None)
    assert ids(around[w.m1.id]) == {w.r12.id, w.r13.id, w.r_agent.id, w.mention1.id}
    around = await store.relations_of(T, [w.m1.id], Direction.BOTH, None, scope)
    assert ids(around[w.m1.id]) == {w.r12.id, w.mention1.id}
    around = await store.relations_of(T, [w.m1.id], Direction.BOTH, None, USER)
    assert ids(around[w.m1.id]) == {w.r13.id, w.r_agent.id, w.mention1.id}
    mentions = await store.relations_of(T, [w.entity.id], Direction.IN, ["MENTIONS"], scope)
    assert ids(mentions[w.entity.id]) == {w.mention1.id}
    every = [w.r12.id, w.r13.id, w.r_agent.id, w.mention1.id, w.mention3.id]
    assert ids(await store.get_relations(T, every)) == set(every)
    assert ids(await store.get_relations(T, every, scope)) == {w.r12.id, w.mention1.id}


async def test_keyword_fallback_searches_only_inside_the_scope(
    store: GraphStore, world: World
) -> None:
    w = world
    hits = await store.keyword_fallback(T, "heron", MemoryFilter(), 10, w.agent_scope)
    assert {h.memory_id for h in hits} == {w.m1.id, w.m2.id}
    hits = await store.keyword_fallback(T, "heron", MemoryFilter(), 10, USER)
    assert {h.memory_id for h in hits} == {w.m1.id, w.m3.id, w.m4.id}


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
async def test_the_search_index_searches_only_inside_the_scope(
    backends: Backends, world: World, alpha: float
) -> None:
    w = world
    vector = await backends.embedder.embed(["scoped heron"])

    async def found(scope: RowScope, memory_filter: MemoryFilter | None = None) -> set[str]:
        query = IndexQuery(
            "scoped heron", vector, alpha, memory_filter or MemoryFilter(), 10, scope
        )
        return {hit.memory_id for hit in await backends.index.search(T, query)}

    assert await found(UNSCOPED) == {m.id for m in w.memories}
    assert await found(w.agent_scope) == {w.m1.id, w.m2.id}
    assert await found(USER) == {w.m1.id, w.m3.id, w.m4.id}
    assert await found(RowScope(agent_id=w.a1.id, user_id="u1")) == {w.m1.id}
    assert await found(w.agent_scope, MemoryFilter(agent_id=w.a2.id)) == set()


@pytest.fixture
def store(backends: Backends) -> GraphStore:
    return backends.store
