"""GraphStore behaviour that every backend set must show (run via ``backends``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from graph.errors import Conflict, NotFound
from graph.model import Direction, Memory, MemoryFilter, MemoryLevel, MemoryType
from graph.ports import Backends, GraphStore
from tests.support import (
    BackendFactory,
    Clock,
    make_agent,
    make_fact,
    make_memory,
    make_relation,
    next_version,
)

A = "tenant-a"
B = "tenant-b"
START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def store(backends: Backends) -> GraphStore:
    return backends.store


def ids(memories: list[Memory]) -> list[str]:
    return [m.id for m in memories]


async def add(store: GraphStore, clock: Clock, count: int, **fields: object) -> list[Memory]:
    """Insert ``count`` memories, one millisecond apart; returns them oldest first."""
    tenant = str(fields.pop("tenant", A))
    memories = [
        make_memory(tenant, f"memory {n} {fields.get('content', '')}", at=clock.tick(), **fields)  # type: ignore[arg-type]
        for n in range(count)
    ]
    await store.insert_memories(memories)
    return memories


async def read_all(store: GraphStore, tenant: str, f: MemoryFilter, page: int) -> list[Memory]:
    seen: list[Memory] = []
    after = None
    while True:
        rows = await store.list_memories(tenant, f, page, after)
        seen += rows[:page]
        if len(rows) <= page:
            return seen
        after = (rows[page - 1].created_at, rows[page - 1].id)


# -- agents -------------------------------------------------------------------


async def test_agents_are_read_by_id_and_listed_newest_first(
    store: GraphStore, clock: Clock
) -> None:
    agents = [make_agent(A, f"agent {n}", at=clock.tick()) for n in range(3)]
    for agent in agents:
        await store.create_agent(agent)
    found = await store.get_agents(A, [agents[0].id, "agt_" + "0" * 32])
    assert found == {agents[0].id: agents[0]}
    assert await store.list_agents(A, 10, None) == agents[::-1]
    first_page = await store.list_agents(A, 2, None)
    assert first_page == [agents[2], agents[1], agents[0]]  # first + 1 rows
    after = (agents[1].created_at, agents[1].id)
    assert await store.list_agents(A, 2, after) == [agents[0]]


async def test_agents_of_one_tenant_are_invisible_to_another(store: GraphStore) -> None:
    agent = make_agent(A)
    await store.create_agent(agent)
    assert await store.get_agents(B, [agent.id]) == {}
    assert await store.list_agents(B, 10, None) == []


async def test_creating_an_agent_with_an_existing_id_conflicts(store: GraphStore) -> None:
    agent = make_agent(A)
    await store.create_agent(agent)
    with pytest.raises(Conflict):
        await store.create_agent(replace(agent, name="other"))
    assert (await store.get_agents(A, [agent.id]))[agent.id].name == agent.name


# -- inserting and reading memories ----------------------------------------------


async def test_inserted_memory_round_trips_every_field(store: GraphStore) -> None:
    at = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    memory = make_memory(
        A,
        "Ada wrote the first program",
        at=at,
        agent_id="agt_" + "1" * 32,
        user_id="user-1",
        session_id="session-1",
        type=MemoryType.SEMANTIC,
        level=MemoryLevel.STRATEGIC,
        tags=("history", "computing"),
        metadata={"source": "book", "pages": [1, 2], "nested": {"ok": True}, "none": None},
        valid_from=at - timedelta(days=365),
        valid_to=at + timedelta(days=1),
        importance=0.75,
    )
    await store.insert_memories([memory])
    stored = (await store.get_memories(A, [memory.id]))[memory.id]
    assert stored == memory
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_get_memories_skips_unknown_ids_and_other_tenants(
    store: GraphStore, clock: Clock
) -> None:
    mine = await add(store, clock, 2)
    theirs = await add(store, clock, 1, tenant=B)
    found = await store.get_memories(A, [*ids(mine), theirs[0].id, "mem_" + "0" * 32])
    assert set(found) == set(ids(mine))
    assert await store.get_memories(B, ids(mine)) == {}
    assert await store.get_memories(A, []) == {}


async def test_insert_with_a_duplicate_id_in_the_batch_writes_nothing(
    store: GraphStore, clock: Clock
) -> None:
    first = make_memory(A, "one", at=clock.tick())
    second = make_memory(A, "two", at=clock.tick())
    duplicate = replace(make_memory(A, "three", at=clock.tick()), id=first.id)
    with pytest.raises(Conflict):
        await store.insert_memories([first, second, duplicate])
    assert await store.get_memories(A, [first.id, second.id]) == {}
    assert await store.list_memories(A, MemoryFilter(), 10, None) == []
    assert await store.pending_index_work(10) == []
    history = await store.memory_history(A, [first.id, second.id])
    assert all(not versions for versions in history.values())


async def test_insert_of_an_already_stored_id_conflicts_and_keeps_the_original(
    store: GraphStore, clock: Clock
) -> None:
    [original] = await add(store, clock, 1)
    with pytest.raises(Conflict):
        await store.insert_memories([replace(original, content="replaced")])
    assert (await store.get_memories(A, [original.id]))[original.id].content == original.content


async def test_find_by_hash_matches_agent_and_hash_of_live_memories_only(
    store: GraphStore, clock: Clock
) -> None:
    agent = "agt_" + "2" * 32
    with_agent = make_memory(A, "same text", at=clock.tick(), agent_id=agent)
    without_agent = make_memory(A, "same text", at=clock.tick())
    gone = make_memory(A, "deleted text", at=clock.tick(), agent_id=agent)
    foreign = make_memory(B, "same text", at=clock.tick(), agent_id=agent)
    await store.insert_memories([with_agent, without_agent, gone])
    await store.insert_memories([foreign])
    await store.delete_memory(A, gone.id, clock.tick())
    keys = [
        (agent, with_agent.content_hash),
        (None, without_agent.content_hash),
        (agent, gone.content_hash),
        ("agt_" + "3" * 32, with_agent.content_hash),
    ]
    found = await store.find_memories_by_hash(A, keys)
    assert found == {keys[0]: with_agent, keys[1]: without_agent}
    assert await store.find_memories_by_hash(B, keys[1:2]) == {}


# -- listing, paging and filters --------------------------------------------------


async def test_listing_is_newest_first_with_one_extra_row(store: GraphStore, clock: Clock) -> None:
    memories = await add(store, clock, 5)
    rows = await store.list_memories(A, MemoryFilter(), 3, None)
    assert ids(rows) == ids(memories[::-1][:4])


async def test_keyset_paging_has_no_duplicates_or_gaps_while_newer_rows_arrive(
    store: GraphStore, clock: Clock
) -> None:
    original = await add(store, clock, 23)
    seen: list[Memory] = []
    after = None
    while True:
        rows = await store.list_memories(A, MemoryFilter(), 5, after)
        seen += rows[:5]
        await add(store, clock, 2)  # newer rows land between page fetches
        if len(rows) <= 5:
            break
        after = (rows[4].created_at, rows[4].id)
    assert ids(seen) == ids(original[::-1])


async def test_rows_with_equal_created_at_page_by_id_descending(store: GraphStore) -> None:
    at = START
    memories = [make_memory(A, f"tie {n}", at=at) for n in range(7)]
    await store.insert_memories(memories)
    expected = sorted(ids(memories), reverse=True)
    assert ids(await read_all(store, A, MemoryFilter(), 3)) == expected


async def test_listing_filters_by_agent_user_session_type_and_level(
    store: GraphStore, clock: Clock
) -> None:
    agent = "agt_" + "4" * 32
    target = make_memory(
        A,
        "target",
        at=clock.tick(),
        agent_id=agent,
        user_id="u1",
        session_id="s1",
        type=MemoryType.PROCEDURAL,
        level=MemoryLevel.TACTICAL,
    )
    others = [
        replace(target, id=make_memory(A, "x").id, agent_id=None),
        replace(target, id=make_memory(A, "x").id, user_id="u2"),
        replace(target, id=make_memory(A, "x").id, session_id="s2"),
        replace(target, id=make_memory(A, "x").id, type=MemoryType.EPISODIC),
        replace(target, id=make_memory(A, "x").id, level=MemoryLevel.CONTEXTUAL),
    ]
    await store.insert_memories([target, *others])
    full = MemoryFilter(
        agent_id=agent,
        user_id="u1",
        session_id="s1",
        types=(MemoryType.PROCEDURAL, MemoryType.RESOURCE),
        levels=(MemoryLevel.TACTICAL,),
    )
    assert ids(await store.list_memories(A, full, 10, None)) == [target.id]
    assert len(await store.list_memories(A, MemoryFilter(agent_id=agent), 10, None)) == 5
    by_type = MemoryFilter(types=(MemoryType.EPISODIC,))
    assert ids(await store.list_memories(A, by_type, 10, None)) == [others[3].id]
    by_level = MemoryFilter(levels=(MemoryLevel.CONTEXTUAL,))
    assert ids(await store.list_memories(A, by_level, 10, None)) == [others[4].id]


async def test_tags_filter_requires_all_given_tags(store: GraphStore, clock: Clock) -> None:
    both = make_memory(A, "both", at=clock.tick(), tags=("red", "blue", "green"))
    red = make_memory(A, "red", at=clock.tick(), tags=("red",))
    none = make_memory(A, "none", at=clock.tick())
    await store.insert_memories([both, red, none])
    f = MemoryFilter(tags=("red", "blue"))
    assert ids(await store.list_memories(A, f, 10, None)) == [both.id]
    f = MemoryFilter(tags=("red",))
    assert ids(await store.list_memories(A, f, 10, None)) == [red.id, both.id]
    f = MemoryFilter(tags=("red", "red"))
    assert ids(await store.list_memories(A, f, 10, None)) == [red.id, both.id]
    assert await store.list_memories(A, MemoryFilter(tags=("purple",)), 10, None) == []


async def test_created_after_and_before_are_exclusive_bounds(
    store: GraphStore, clock: Clock
) -> None:
    memories = await add(store, clock, 5)
    f = MemoryFilter(created_after=memories[1].created_at, created_before=memories[4].created_at)
    assert ids(await store.list_memories(A, f, 10, None)) == [memories[3].id, memories[2].id]


async def test_listing_never_shows_another_tenants_memories(
    store: GraphStore, clock: Clock
) -> None:
    await add(store, clock, 3, tenant=B, tags=("t",))
    for f in (MemoryFilter(), MemoryFilter(tags=("t",)), MemoryFilter(as_of=clock.tick())):
        assert await store.list_memories(A, f, 10, None) == []
    counts = await store.count_memories_for_agents(A, [None], MemoryFilter())
    assert counts == {None: 0}


# -- versions, as_of, update and delete --------------------------------------------


async def test_update_stores_the_next_version_and_expires_the_previous_one(
    store: GraphStore, clock: Clock
) -> None:
    [memory] = await add(store, clock, 1)
    at = clock.tick(1000)
    updated = next_version(memory, at, content="changed", tags=("new",))
    await store.update_memory(updated)
    assert (await store.get_memories(A, [memory.id]))[memory.id] == updated
    history = (await store.memory_history(A, [memory.id]))[memory.id]
    assert [(v.version, v.content) for v in history] == [(1, memory.content), (2, "changed")]
    assert history[0].expired_at == at
    assert history[1].recorded_at == at
    assert history[1].expired_at is None
    assert ids(await store.list_memories(A, MemoryFilter(tags=("new",)), 10, None)) == [memory.id]


async def test_stale_update_conflicts_and_leaves_the_memory_unchanged(
    store: GraphStore, clock: Clock
) -> None:
    [memory] = await add(store, clock, 1)
    second = next_version(memory, clock.tick(), content="second")
    await store.update_memory(second)
    pending = len(await store.pending_index_work(100))
    stale = next_version(memory, clock.tick(), content="stale")  # also version 2
    with pytest.raises(Conflict):
        await store.update_memory(stale)
    skipping = replace(next_version(second, clock.tick()), version=4)
    with pytest.raises(Conflict):
        await store.update_memory(skipping)
    assert (await store.get_memories(A, [memory.id]))[memory.id] == second
    assert len((await store.memory_history(A, [memory.id]))[memory.id]) == 2
    assert len(await store.pending_index_work(100)) == pending


async def test_concurrent_updates_of_one_version_let_exactly_one_win(
    store: GraphStore, clock: Clock
) -> None:
    [memory] = await add(store, clock, 1)
    attempts = [next_version(memory, clock.tick(), content=f"attempt {n}") for n in range(5)]
    results = await asyncio.gather(
        *(store.update_memory(a) for a in attempts), return_exceptions=True
    )
    winners = [a for a, r in zip(attempts, results, strict=True) if r is None]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if r is not None)
    assert (await store.get_memories(A, [memory.id]))[memory.id] == winners[0]


async def test_update_of_deleted_unknown_or_foreign_memory_is_not_found(
    store: GraphStore, clock: Clock
) -> None:
    [memory, deleted] = await add(store, clock, 2)
    await store.delete_memory(A, deleted.id, clock.tick())
    with pytest.raises(NotFound):
        await store.update_memory(next_version(deleted, clock.tick()))
    with pytest.raises(NotFound):
        await store.update_memory(next_version(replace(memory, id="mem_" + "9" * 32), clock.tick()))
    with pytest.raises(NotFound):
        await store.update_memory(next_version(replace(memory, tenant=B), clock.tick()))
    assert (await store.get_memories(A, [memory.id]))[memory.id] == memory


async def test_delete_hides_the_memory_but_keeps_its_history(
    store: GraphStore, clock: Clock
) -> None:
    [memory, kept] = await add(store, clock, 2)
    at = clock.tick()
    deleted = await store.delete_memory(A, memory.id, at)
    assert deleted is not None
    assert deleted.id == memory.id
    assert deleted.deleted_at == at
    assert await store.get_memories(A, [memory.id]) == {}
    assert ids(await store.list_memories(A, MemoryFilter(), 10, None)) == [kept.id]
    history = (await store.memory_history(A, [memory.id]))[memory.id]
    assert [v.version for v in history] == [1]
    assert history[0].expired_at == at
    assert await store.delete_memory(A, memory.id, clock.tick()) is None


async def test_delete_of_another_tenants_memory_does_nothing(
    store: GraphStore, clock: Clock
) -> None:
    [memory] = await add(store, clock, 1)
    assert await store.delete_memory(B, memory.id, clock.tick()) is None
    assert memory.id in await store.get_memories(A, [memory.id])
    assert (await store.memory_history(B, [memory.id])).get(memory.id, []) == []


async def test_as_of_reads_the_version_held_at_that_instant(
    store: GraphStore, clock: Clock
) -> None:
    [memory] = await add(store, clock, 1, tags=("old",))
    before_update = clock.tick(10)
    updated = next_version(
        memory, clock.tick(10), content="new content", tags=("new",), level=MemoryLevel.STRATEGIC
    )
    await store.update_memory(updated)
    after_update = clock.tick(10)

    [old] = await store.list_memories(A, MemoryFilter(as_of=before_update), 10, None)
    assert (old.version, old.content, old.tags, old.level) == (
        1,
        memory.content,
        ("old",),
        memory.level,
    )
    [new] = await store.list_memories(A, MemoryFilter(as_of=after_update), 10, None)
    assert (new.version, new.content, new.tags) == (2, "new content", ("new",))
    old_tags = MemoryFilter(as_of=before_update, tags=("old",))
    assert ids(await store.list_memories(A, old_tags, 10, None)) == [memory.id]
    assert await store.list_memories(A, replace(old_tags, as_of=after_update), 10, None) == []
    old_level = MemoryFilter(as_of=after_update, levels=(memory.level,))
    assert await store.list_memories(A, old_level, 10, None) == []


async def test_as_of_skips_memories_created_later_or_not_valid_then(
    store: GraphStore, clock: Clock
) -> None:
    early = make_memory(A, "early", at=clock.tick())
    moment = clock.tick(100)
    later = make_memory(A, "later", at=clock.tick())
    not_yet_valid = make_memory(A, "future", at=early.created_at, valid_from=moment + timedelta(1))
    no_longer_valid = make_memory(A, "past", at=early.created_at, valid_to=moment)
    valid = make_memory(
        A, "valid", at=early.created_at, valid_from=moment, valid_to=moment + timedelta(1)
    )
    await store.insert_memories([early, later, not_yet_valid, no_longer_valid, valid])
    found = await store.list_memories(A, MemoryFilter(as_of=moment), 10, None)
    assert set(ids(found)) == {early.id, valid.id}


async def test_without_as_of_memories_past_their_validity_are_still_listed(
    store: GraphStore, clock: Clock
) -> None:
    expired = make_memory(A, "expired", at=clock.tick(), valid_to=START - timedelta(days=1))
    await store.insert_memories([expired])
    assert ids(await store.list_memories(A, MemoryFilter(), 10, None)) == [expired.id]


async def test_as_of_before_a_delete_still_sees_the_deleted_memory(
    store: GraphStore, clock: Clock
) -> None:
    [memory] = await add(store, clock, 1)
    before = clock.tick()
    await store.delete_memory(A, memory.id, clock.tick())
    after = clock.tick()
    assert ids(await store.list_memories(A, MemoryFilter(as_of=before), 10, None)) == [memory.id]
    assert await store.list_memories(A, MemoryFilter(as_of=after), 10, None) == []


async def test_as_of_listing_pages_with_keyset(store: GraphStore, clock: Clock) -> None:
    memories = await add(store, clock, 11)
    f = MemoryFilter(as_of=clock.tick())
    assert ids(await read_all(store, A, f, 4)) == ids(memories[::-1])


async def test_memory_history_is_oldest_first_per_memory_and_tenant_scoped(
    store: GraphStore, clock: Clock
) -> None:
    [one, two] = await add(store, clock, 2)
    current = one
    for n in range(3):
        current = next_version(current, clock.tick(), content=f"v{n + 2}")
        await store.update_memory(current)
    history = await store.memory_history(A, [one.id, two.id])
    assert [v.version for v in history[one.id]] == [1, 2, 3, 4]
    assert [v.version for v in history[two.id]] == [1]
    assert all(v.expired_at is not None for v in history[one.id][:-1])
    assert all(not versions for versions in (await store.memory_history(B, [one.id])).values())


# -- batched per-agent reads ---------------------------------------------------


async def test_per_agent_listing_pages_each_agent_in_one_call(
    store: GraphStore, clock: Clock
) -> None:
    first, second, idle = ("agt_" + c * 32 for c in "abc")
    mine = await add(store, clock, 4, agent_id=first)
    theirs = await add(store, clock, 2, agent_id=second)
    await add(store, clock, 3, agent_id=first, tenant=B)
    ignored_agent = MemoryFilter(agent_id=second)
    pages = await store.list_memories_for_agents(A, [first, second, idle], ignored_agent, 2, None)
    assert ids(pages[first]) == ids(mine[::-1][:3])
    assert ids(pages[second]) == ids(theirs[::-1])
    assert pages.get(idle, []) == []
    after = (mine[2].created_at, mine[2].id)
    pages = await store.list_memories_for_agents(A, [first], MemoryFilter(), 2, after)
    assert ids(pages[first]) == [mine[1].id, mine[0].id]


async def test_per_agent_listing_applies_filters_and_as_of(store: GraphStore, clock: Clock) -> None:
    agent = "agt_" + "d" * 32
    tagged = make_memory(A, "tagged", at=clock.tick(), agent_id=agent, tags=("x",))
    plain = make_memory(A, "plain", at=clock.tick(), agent_id=agent)
    await store.insert_memories([tagged, plain])
    moment = clock.tick()
    await store.update_memory(next_version(tagged, clock.tick(), content="edited"))
    pages = await store.list_memories_for_agents(A, [agent], MemoryFilter(tags=("x",)), 5, None)
    assert ids(pages[agent]) == [tagged.id]
    pages = await store.list_memories_for_agents(A, [agent], MemoryFilter(as_of=moment), 5, None)
    assert [(m.id, m.content) for m in pages[agent]] == [
        (plain.id, plain.content),
        (tagged.id, tagged.content),
    ]


async def test_per_agent_counts_with_the_none_key_counting_without_agent(
    store: GraphStore, clock: Clock
) -> None:
    first, second, idle = ("agt_" + c * 32 for c in "efg")
    await add(store, clock, 3, agent_id=first)
    await add(store, clock, 2, agent_id=second, tags=("t",))
    await add(store, clock, 1)
    [gone] = await add(store, clock, 1, agent_id=first)
    await store.delete_memory(A, gone.id, clock.tick())
    await add(store, clock, 4, agent_id=first, tenant=B)
    counts = await store.count_memories_for_agents(A, [first, second, idle, None], MemoryFilter())
    assert counts == {first: 3, second: 2, idle: 0, None: 6}
    tagged = await store.count_memories_for_agents(
        A, [first, second, None], MemoryFilter(tags=("t",))
    )
    assert tagged == {first: 0, second: 2, None: 2}
    only_first = await store.count_memories_for_agents(A, [None], MemoryFilter(agent_id=first))
    assert only_first == {None: 3}


# -- relations ---------------------------------------------------------------------


async def test_relations_follow_the_requested_direction_newest_first(
    store: GraphStore, clock: Clock
) -> None:
    [m1, m2, m3] = await add(store, clock, 3)
    r12 = make_relation(A, m1.id, m2.id, "FOLLOWS", at=clock.tick())
    r31 = make_relation(A, m3.id, m1.id, "CAUSES", at=clock.tick())
    for relation in (r12, r31):
        await store.insert_relation(relation)
    out = await store.relations_of(A, [m1.id, m2.id], Direction.OUT, None)
    assert out[m1.id] == [r12]
    assert out.get(m2.id, []) == []
    incoming = await store.relations_of(A, [m1.id, m2.id], Direction.IN, None)
    assert incoming[m1.id] == [r31]
    assert incoming[m2.id] == [r12]
    both = await store.relations_of(A, [m1.id], Direction.BOTH, None)
    assert both[m1.id] == [r31, r12]
    typed = await store.relations_of(A, [m1.id], Direction.BOTH, ["CAUSES", "OTHER"])
    assert typed[m1.id] == [r31]
    assert await store.get_relations(A, [r12.id, r31.id]) == {r12.id: r12, r31.id: r31}


async def test_a_self_loop_is_listed_once(store: GraphStore, clock: Clock) -> None:
    [memory] = await add(store, clock, 1)
    loop = make_relation(A, memory.id, memory.id, "REFERS_TO", at=clock.tick())
    await store.insert_relation(loop)
    for direction in Direction:
        assert (await store.relations_of(A, [memory.id], direction, None))[memory.id] == [loop]


async def test_relations_to_deleted_memories_are_left_out(store: GraphStore, clock: Clock) -> None:
    [kept, gone] = await add(store, clock, 2)
    entity = await store.upsert_entity(A, "Ada Lovelace", "PERSON", clock.tick())
    to_gone = make_relation(A, kept.id, gone.id, "SUPPORTS", at=clock.tick())
    mention = make_relation(A, kept.id, entity.id, "MENTIONS", at=clock.tick())
    await store.insert_relation(to_gone)
    await store.insert_relation(mention)
    await store.delete_memory(A, gone.id, clock.tick())
    both = await store.relations_of(A, [kept.id], Direction.BOTH, None)
    assert both[kept.id] == [mention]
    incoming = await store.relations_of(A, [entity.id], Direction.IN, None)
    assert incoming[entity.id] == [mention]


async def test_a_deleted_relation_is_gone_from_every_read(store: GraphStore, clock: Clock) -> None:
    [m1, m2] = await add(store, clock, 2)
    relation = make_relation(A, m1.id, m2.id, at=clock.tick())
    await store.insert_relation(relation)
    assert await store.delete_relation(B, relation.id) is False
    assert await store.delete_relation(A, relation.id) is True
    assert await store.delete_relation(A, relation.id) is False
    assert await store.get_relations(A, [relation.id]) == {}
    found = await store.relations_of(A, [m1.id, m2.id], Direction.BOTH, None)
    assert all(not relations for relations in found.values())


async def test_relations_are_tenant_scoped(store: GraphStore, clock: Clock) -> None:
    [m1, m2] = await add(store, clock, 2)
    relation = make_relation(A, m1.id, m2.id, at=clock.tick())
    await store.insert_relation(relation)
    assert await store.get_relations(B, [relation.id]) == {}
    found = await store.relations_of(B, [m1.id, m2.id], Direction.BOTH, None)
    assert all(not relations for relations in found.values())
    with pytest.raises(Conflict):
        await store.insert_relation(relation)


# -- entities and facts -----------------------------------------------------------


async def test_entity_names_are_normalised_per_tenant_and_kind(
    store: GraphStore, clock: Clock
) -> None:
    ada = await store.upsert_entity(A, "Ada Lovelace", "PERSON", clock.tick())
    again = await store.upsert_entity(A, "  Ada   LOVELACE ", "PERSON", clock.tick())
    assert again == ada
    as_concept = await store.upsert_entity(A, "ada lovelace", "CONCEPT", clock.tick())
    assert as_concept.id != ada.id
    elsewhere = await store.upsert_entity(B, "Ada Lovelace", "PERSON", clock.tick())
    assert elsewhere.id != ada.id
    found = await store.find_entities_by_name(A, "ADA\tlovelace")
    assert {e.id for e in found} == {ada.id, as_concept.id}
    assert await store.get_entities(A, [ada.id, elsewhere.id]) == {ada.id: ada}
    assert [e.id for e in await store.find_entities_by_name(B, "ada lovelace")] == [elsewhere.id]


async def test_an_exclusive_fact_closes_the_open_one_with_the_same_predicate(
    store: GraphStore, clock: Clock
) -> None:
    ada = await store.upsert_entity(A, "Ada", "PERSON", clock.tick())
    london = await store.upsert_entity(A, "London", "PLACE", clock.tick())
    paris = await store.upsert_entity(A, "Paris", "PLACE", clock.tick())
    t1, t2 = clock.tick(1000), clock.tick(1000)
    first = make_fact(A, ada.id, "LIVES_IN", london.id, recorded_at=t1, valid_from=t1)
    second = make_fact(A, ada.id, "LIVES_IN", paris.id, recorded_at=t2, valid_from=t2)
    side = make_fact(A, ada.id, "LIKES", london.id, recorded_at=t1, valid_from=t1)
    await store.insert_fact(first, exclusive=True)
    await store.insert_fact(side, exclusive=False)
    await store.insert_fact(second, exclusive=True)
    facts = await store.get_facts(A, [first.id, second.id, side.id])
    assert facts[first.id].valid_to == t2
    assert facts[second.id].valid_to is None
    assert facts[side.id].valid_to is None
    before = await store.facts_for_entities(A, [ada.id, paris.id], t1 + timedelta(milliseconds=1))
    assert {f.id for f in before[ada.id]} == {first.id, side.id}
    assert before.get(paris.id, []) == []
    now = await store.facts_for_entities(A, [ada.id, london.id, paris.id], clock.tick())
    assert {f.id for f in now[ada.id]} == {second.id, side.id}
    assert [f.id for f in now[london.id]] == [side.id]
    assert [f.id for f in now[paris.id]] == [second.id]


async def test_non_exclusive_facts_stay_open_side_by_side(store: GraphStore, clock: Clock) -> None:
    ada = await store.upsert_entity(A, "Ada", "PERSON", clock.tick())
    math = await store.upsert_entity(A, "Mathematics", "CONCEPT", clock.tick())
    poetry = await store.upsert_entity(A, "Poetry", "CONCEPT", clock.tick())
    f1 = make_fact(A, ada.id, "STUDIED", math.id, recorded_at=clock.tick())
    f2 = make_fact(A, ada.id, "STUDIED", poetry.id, recorded_at=clock.tick())
    await store.insert_fact(f1, exclusive=False)
    await store.insert_fact(f2, exclusive=False)
    found = await store.facts_for_entities(A, [ada.id], clock.tick())
    assert {f.id for f in found[ada.id]} == {f1.id, f2.id}


async def test_facts_respect_their_validity_window_and_tenant(
    store: GraphStore, clock: Clock
) -> None:
    ada = await store.upsert_entity(A, "Ada", "PERSON", clock.tick())
    role = await store.upsert_entity(A, "Analyst", "CONCEPT", clock.tick())
    start, end = clock.tick(1000), clock.tick(1000)
    fact = make_fact(
        A, ada.id, "WORKS_AS", role.id, recorded_at=start, valid_from=start, valid_to=end
    )
    await store.insert_fact(fact, exclusive=False)
    at = store.facts_for_entities
    assert (await at(A, [ada.id], start - timedelta(1))).get(ada.id, []) == []
    assert [f.id for f in (await at(A, [ada.id], start))[ada.id]] == [fact.id]
    assert (await at(A, [ada.id], end)).get(ada.id, []) == []
    assert all(not facts for facts in (await at(B, [ada.id, role.id], start)).values())
    assert await store.get_facts(B, [fact.id]) == {}


# -- outbox, transactions and durability --------------------------------------------


async def test_every_memory_write_appends_to_the_index_outbox(
    store: GraphStore, clock: Clock
) -> None:
    [one, two] = await add(store, clock, 2)
    await store.update_memory(next_version(one, clock.tick(), content="edited"))
    await store.delete_memory(A, two.id, clock.tick())
    entries = await store.pending_index_work(10)
    assert [(e.tenant, e.memory_id, e.operation) for e in entries] == [
        (A, one.id, "upsert"),
        (A, two.id, "upsert"),
        (A, one.id, "upsert"),
        (A, two.id, "delete"),
    ]
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert await store.pending_index_work(2) == entries[:2]
    await store.ack_index_work([entries[0].seq, entries[2].seq])
    assert await store.pending_index_work(10) == [entries[1], entries[3]]
    await store.ack_index_work([])
    assert len(await store.pending_index_work(10)) == 2


async def test_data_survives_closing_and_reopening(
    backend_factory: BackendFactory, clock: Clock
) -> None:
    first = await backend_factory()
    agent = make_agent(A, at=clock.tick())
    await first.store.create_agent(agent)
    [memory] = await add(first.store, clock, 1, agent_id=agent.id)
    updated = next_version(memory, clock.tick(), content="second version")
    await first.store.update_memory(updated)
    entity = await first.store.upsert_entity(A, "Ada", "PERSON", clock.tick())
    relation = make_relation(A, memory.id, entity.id, "MENTIONS", at=clock.tick())
    await first.store.insert_relation(relation)
    await first.close()

    second = await backend_factory()
    store = second.store
    assert (await store.get_agents(A, [agent.id]))[agent.id] == agent
    assert (await store.get_memories(A, [memory.id]))[memory.id] == updated
    assert len((await store.memory_history(A, [memory.id]))[memory.id]) == 2
    assert (await store.relations_of(A, [memory.id], Direction.OUT, None))[memory.id] == [relation]
    assert (await store.upsert_entity(A, "ADA", "PERSON", clock.tick())).id == entity.id
    assert len(await store.pending_index_work(10)) == 2
