"""SearchIndex behaviour that every backend set must show (run via ``backends``)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from graph.model import Memory, MemoryFilter, MemoryLevel, MemoryType
from graph.ports import Backends, IndexHit, IndexQuery
from tests.support import BackendFactory, Clock, make_memory

A = "tenant-a"
B = "tenant-b"
START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


async def index(backends: Backends, memories: Sequence[Memory]) -> None:
    vectors = await backends.embedder.embed([m.content for m in memories])
    await backends.index.upsert(memories, vectors)


async def search(
    backends: Backends,
    text: str,
    *,
    tenant: str = A,
    alpha: float = 0.5,
    memory_filter: MemoryFilter | None = None,
    limit: int = 10,
    with_vector: bool = True,
) -> list[IndexHit]:
    vector = (await backends.embedder.embed([text]))[0] if with_vector else None
    query = IndexQuery(text, vector, alpha, memory_filter or MemoryFilter(), limit)
    return await backends.index.search(tenant, query)


def hit_ids(hits: Sequence[IndexHit]) -> list[str]:
    return [hit.memory_id for hit in hits]


def scaled(raw: dict[str, float]) -> dict[str, float]:
    low, high = min(raw.values()), max(raw.values())
    if high == low:
        return dict.fromkeys(raw, 1.0)
    return {key: (value - low) / (high - low) for key, value in raw.items()}


# -- keyword ------------------------------------------------------------------------


async def test_keyword_search_ranks_by_bm25_with_positive_scores(
    backends: Backends, clock: Clock
) -> None:
    once = make_memory(A, "the quick brown fox rests", at=clock.tick())
    thrice = make_memory(A, "fox fox fox jumps", at=clock.tick())
    other = make_memory(A, "a lazy dog sleeps", at=clock.tick())
    await index(backends, [once, thrice, other])
    hits = await search(backends, "fox", alpha=0.0)
    assert hit_ids(hits) == [thrice.id, once.id]
    assert all(hit.keyword_score is not None and hit.keyword_score > 0 for hit in hits)
    assert hits[0].keyword_score > hits[1].keyword_score  # type: ignore[operator]
    assert hits[0].score == pytest.approx(1.0)


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "NEAR(",
        "*",
        "content:x",
        "OR AND",
        "a AND",
        "NOT",
        "(",
        ")",
        "-x",
        "^x",
        "x*",
        '""',
        "'",
        "",
        "   ",
        "{content}: x",
        'x" OR "y',
        "\\",
        "%_",
        "NEAR(a b, 2)",
        "ñandú café",
    ],
)
async def test_fts_syntax_in_the_query_text_is_never_interpreted(
    backends: Backends, clock: Clock, text: str
) -> None:
    await index(backends, [make_memory(A, "content x or and near", at=clock.tick())])
    for with_vector in (False, True):
        hits = await search(backends, text, alpha=0.5, with_vector=with_vector)
        assert isinstance(hits, list)


async def test_query_words_match_as_plain_words(backends: Backends, clock: Clock) -> None:
    memory = make_memory(A, "the content of x is near", at=clock.tick())
    await index(backends, [memory, make_memory(A, "unrelated words", at=clock.tick())])
    for text in ("content:x", "NEAR(x", '"content', "x*"):
        assert hit_ids(await search(backends, text, alpha=0.0)) == [memory.id]


# -- vector and fusion ------------------------------------------------------------------


async def test_vector_search_ranks_by_cosine_similarity(backends: Backends, clock: Clock) -> None:
    texts = ["apples and pears", "apples and bananas", "cars and trucks", "pears"]
    memories = [make_memory(A, text, at=clock.tick()) for text in texts]
    await index(backends, memories)
    hits = await search(backends, "apples and pears", alpha=1.0)
    assert hits[0].memory_id == memories[0].id
    assert hits[0].vector_score == pytest.approx(1.0, abs=1e-5)
    scores = [hit.vector_score for hit in hits]
    assert all(score is not None for score in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


async def test_alpha_one_uses_only_the_vector_ranking(backends: Backends, clock: Clock) -> None:
    keyword_only = make_memory(A, "zebra", at=clock.tick())
    similar = make_memory(A, "striped horse running in africa", at=clock.tick())
    await index(backends, [keyword_only, similar])
    hits = await search(backends, "striped horse running in africa zebra", alpha=1.0)
    assert hits[0].memory_id == similar.id
    assert all(hit.vector_score is not None for hit in hits)
    expected = scaled({hit.memory_id: hit.vector_score for hit in hits})  # type: ignore[misc]
    for hit in hits:
        assert hit.score == pytest.approx(expected[hit.memory_id])


async def test_alpha_zero_uses_only_the_keyword_ranking(backends: Backends, clock: Clock) -> None:
    matching = make_memory(A, "quarterly revenue report", at=clock.tick())
    vector_twin = make_memory(A, "annual profit summary", at=clock.tick())
    await index(backends, [matching, vector_twin])
    hits = await search(backends, "revenue", alpha=0.0)
    assert hit_ids(hits) == [matching.id]
    assert hits[0].keyword_score is not None


async def test_without_a_query_vector_search_is_keyword_only(
    backends: Backends, clock: Clock
) -> None:
    matching = make_memory(A, "gravity waves detected", at=clock.tick())
    await index(backends, [matching, make_memory(A, "nothing here", at=clock.tick())])
    hits = await search(backends, "gravity", alpha=0.7, with_vector=False)
    assert hit_ids(hits) == [matching.id]
    assert hits[0].score == pytest.approx(1.0)


async def test_hybrid_scores_follow_relative_score_fusion(backends: Backends, clock: Clock) -> None:
    texts = [
        "solar panels on the roof",
        "solar energy storage with batteries",
        "roof repair after the storm",
        "batteries for electric cars",
        "gardening in spring",
        "solar solar solar",
    ]
    await index(backends, [make_memory(A, text, at=clock.tick()) for text in texts])
    alpha = 0.3
    hits = await search(backends, "solar roof batteries", alpha=alpha, limit=50)
    vector_raw = {h.memory_id: h.vector_score for h in hits if h.vector_score is not None}
    keyword_raw = {h.memory_id: h.keyword_score for h in hits if h.keyword_score is not None}
    assert len(vector_raw) == len(texts)  # every document is a vector candidate here
    assert len(keyword_raw) == 5  # "gardening in spring" shares no word
    vector_scaled, keyword_scaled = scaled(vector_raw), scaled(keyword_raw)
    for hit in hits:
        expected = alpha * vector_scaled[hit.memory_id] + (1 - alpha) * keyword_scaled.get(
            hit.memory_id, 0.0
        )
        assert hit.score == pytest.approx(expected, abs=1e-6)
    assert hits == sorted(hits, key=lambda h: (-h.score, h.memory_id))


async def test_a_single_candidate_scores_one(backends: Backends, clock: Clock) -> None:
    await index(backends, [make_memory(A, "lonely document", at=clock.tick())])
    for alpha in (0.0, 0.5, 1.0):
        [hit] = await search(backends, "lonely", alpha=alpha)
        assert hit.score == pytest.approx(1.0)


async def test_limit_caps_the_hits(backends: Backends, clock: Clock) -> None:
    await index(backends, [make_memory(A, f"note number {n}", at=clock.tick()) for n in range(8)])
    assert len(await search(backends, "note", limit=3)) == 3
    assert await search(backends, "note", limit=0) == []


# -- filters and tenants ------------------------------------------------------------


async def test_search_applies_every_filter_field(backends: Backends, clock: Clock) -> None:
    agent = "agt_" + "a" * 32
    base = make_memory(
        A,
        "shared topic words",
        at=clock.tick(),
        agent_id=agent,
        user_id="u1",
        session_id="s1",
        type=MemoryType.SEMANTIC,
        level=MemoryLevel.TACTICAL,
        tags=("x", "y"),
    )

    def variant(**changes: object) -> Memory:
        fresh = make_memory(A, "shared topic words", at=clock.tick())
        return replace(base, id=fresh.id, created_at=fresh.created_at, **changes)  # type: ignore[arg-type]

    others = {
        "agent": variant(agent_id=None),
        "user": variant(user_id="u2"),
        "session": variant(session_id="s2"),
        "type": variant(type=MemoryType.EPISODIC),
        "level": variant(level=MemoryLevel.CONTEXTUAL),
        "tags": variant(tags=("x",)),
    }
    await index(backends, [base, *others.values()])
    filters = {
        "agent": MemoryFilter(agent_id=agent),
        "user": MemoryFilter(user_id="u1"),
        "session": MemoryFilter(session_id="s1"),
        "type": MemoryFilter(types=(MemoryType.SEMANTIC, MemoryType.RESOURCE)),
        "level": MemoryFilter(levels=(MemoryLevel.TACTICAL,)),
        "tags": MemoryFilter(tags=("x", "y")),
    }
    everyone = {base.id, *(m.id for m in others.values())}
    for field, memory_filter in filters.items():
        for alpha in (0.0, 0.5, 1.0):
            hits = await search(backends, "topic", alpha=alpha, memory_filter=memory_filter)
            assert set(hit_ids(hits)) == everyone - {others[field].id}, (field, alpha)


async def test_search_filters_by_creation_time_and_as_of(backends: Backends, clock: Clock) -> None:
    old = make_memory(A, "event log entry", at=clock.tick())
    moment = clock.tick(100)
    new = make_memory(A, "event log entry", at=clock.tick())
    ended = make_memory(A, "event log entry", at=old.created_at, valid_to=moment)
    later_valid = make_memory(
        A, "event log entry", at=old.created_at, valid_from=moment + timedelta(seconds=1)
    )
    await index(backends, [old, new, ended, later_valid])
    for alpha in (0.0, 1.0):
        after = MemoryFilter(created_after=old.created_at)
        assert set(hit_ids(await search(backends, "event", alpha=alpha, memory_filter=after))) == {
            new.id
        }
        before = MemoryFilter(created_before=new.created_at)
        assert set(hit_ids(await search(backends, "event", alpha=alpha, memory_filter=before))) == {
            old.id,
            ended.id,
            later_valid.id,
        }
        as_of = MemoryFilter(as_of=moment)
        assert hit_ids(await search(backends, "event", alpha=alpha, memory_filter=as_of)) == [
            old.id
        ]


async def test_search_never_returns_another_tenants_memories(
    backends: Backends, clock: Clock
) -> None:
    mine = make_memory(A, "secret launch plan", at=clock.tick())
    theirs = make_memory(B, "secret launch plan", at=clock.tick())
    await index(backends, [mine])
    await index(backends, [theirs])
    for alpha in (0.0, 0.5, 1.0):
        assert hit_ids(await search(backends, "secret launch", alpha=alpha)) == [mine.id]
        hits = await search(backends, "secret launch", tenant=B, alpha=alpha)
        assert hit_ids(hits) == [theirs.id]
    assert await search(backends, "secret", tenant="tenant-c") == []


async def test_filtered_vector_search_returns_the_best_allowed_matches(
    backends: Backends, clock: Clock
) -> None:
    rng = np.random.default_rng(42)
    dimensions = backends.embedder.dimensions
    agents = [f"agt_{n:032x}" for n in range(10)]
    memories = [
        make_memory(A, f"item {n}", at=clock.tick(), agent_id=agents[n % 10]) for n in range(300)
    ]
    vectors = rng.standard_normal((300, dimensions)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    await backends.index.upsert(memories, vectors)
    query = vectors[7] + 0.5 * vectors[17]
    query /= np.linalg.norm(query)
    for memory_filter, allowed in (
        (MemoryFilter(agent_id=agents[7]), [n for n in range(300) if n % 10 == 7]),
        (MemoryFilter(), list(range(300))),
    ):
        request = IndexQuery("", query, 1.0, memory_filter, 5)
        hits = await backends.index.search(A, request)
        cosine = vectors[allowed] @ query
        best = [allowed[i] for i in np.argsort(-cosine)[:5]]
        assert hit_ids(hits) == [memories[n].id for n in best]
        for hit, n in zip(hits, best, strict=True):
            assert hit.vector_score == pytest.approx(float(vectors[n] @ query), abs=1e-5)


# -- writes ---------------------------------------------------------------------------


async def test_upsert_is_idempotent_and_replaces_the_document(
    backends: Backends, clock: Clock
) -> None:
    memory = make_memory(A, "original wording here", at=clock.tick())
    await index(backends, [memory])
    await index(backends, [memory])
    assert hit_ids(await search(backends, "original", alpha=0.5)) == [memory.id]
    changed = replace(memory, content="completely different text", version=2, tags=("new",))
    await index(backends, [changed])
    assert await search(backends, "original", alpha=0.0) == []
    hits = await search(backends, "completely different text", alpha=1.0)
    assert hits[0].memory_id == memory.id
    assert hits[0].vector_score == pytest.approx(1.0, abs=1e-5)
    tagged = MemoryFilter(tags=("new",))
    assert hit_ids(await search(backends, "different", memory_filter=tagged)) == [memory.id]


async def test_deleted_memories_leave_both_rankings(backends: Backends, clock: Clock) -> None:
    gone = make_memory(A, "temporary reminder", at=clock.tick())
    kept = make_memory(A, "temporary note", at=clock.tick())
    await index(backends, [gone, kept])
    await search(backends, "temporary reminder", alpha=0.5)  # warm any caches first
    await backends.index.delete(B, [gone.id])
    assert gone.id in hit_ids(await search(backends, "temporary reminder", alpha=0.5))
    await backends.index.delete(A, [gone.id, "mem_" + "0" * 32])
    for alpha in (0.0, 0.5, 1.0):
        assert hit_ids(await search(backends, "temporary reminder", alpha=alpha)) == [kept.id]
    await backends.index.delete(A, [])


async def test_documents_added_after_a_search_are_found_by_the_next(
    backends: Backends, clock: Clock
) -> None:
    await index(backends, [make_memory(A, "first entry", at=clock.tick())])
    assert len(await search(backends, "entry", alpha=1.0)) == 1
    late = make_memory(A, "second entry arrives", at=clock.tick())
    await index(backends, [late])
    hits = await search(backends, "second entry arrives", alpha=1.0)
    assert hits[0].memory_id == late.id
    assert len(hits) == 2


async def test_the_index_survives_closing_and_reopening(
    backend_factory: BackendFactory, clock: Clock
) -> None:
    first = await backend_factory()
    memory = make_memory(A, "durable knowledge", at=clock.tick(), tags=("keep",))
    await index(first, [memory])
    await first.close()
    second = await backend_factory()
    for alpha in (0.0, 0.5, 1.0):
        hits = await search(
            second, "durable knowledge", alpha=alpha, memory_filter=MemoryFilter(tags=("keep",))
        )
        assert hit_ids(hits) == [memory.id]


async def test_concurrent_upserts_deletes_and_searches_leave_a_consistent_index(
    backends: Backends, clock: Clock
) -> None:
    memories = [make_memory(A, f"concurrent item {n}", at=clock.tick()) for n in range(40)]
    vectors = await backends.embedder.embed([m.content for m in memories])
    work: list[Coroutine[Any, Any, object]] = []
    for n in range(0, 40, 4):
        work.append(backends.index.upsert(memories[n : n + 4], vectors[n : n + 4]))
        work.append(search(backends, "concurrent item", alpha=1.0, limit=100))
    await asyncio.gather(*work)
    await asyncio.gather(
        backends.index.delete(A, [m.id for m in memories[:10]]),
        search(backends, "concurrent item", alpha=0.5, limit=100),
    )
    for alpha in (0.0, 1.0):
        hits = await search(backends, "concurrent item", alpha=alpha, limit=100)
        assert set(hit_ids(hits)) == {m.id for m in memories[10:]}
