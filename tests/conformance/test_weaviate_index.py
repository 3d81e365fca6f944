"""WeaviateSearchIndex specifics against a real Weaviate server, beyond the
shared SearchIndex conformance suite.

Weaviate comes from ``AGENTMEM_WEAVIATE_URL`` and ``AGENTMEM_WEAVIATE_GRPC_PORT``
(``eval "$(deploy/local/services up)"``). Without them these tests are skipped,
unless a requested backend set uses Weaviate, in which case they fail. The
tests use their own collection. The ``outage`` test stops Weaviate with
``deploy/local/services stop weaviate`` and always starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from graph.adapters.weaviate.index import WeaviateSearchIndex, open_weaviate_index
from graph.adapters.weaviate.mapping import memory_uuid, parse_explain_score, query_terms
from graph.adapters.weaviate.tenants import agentmem_tenant, weaviate_tenant
from graph.errors import Unavailable
from graph.model import MemoryFilter, MemoryLevel, MemoryType
from graph.ports import IndexQuery
from tests.conftest import requested_backends
from tests.support import Clock, HashingEmbedder, make_memory

URL_ENV, GRPC_ENV = "AGENTMEM_WEAVIATE_URL", "AGENTMEM_WEAVIATE_GRPC_PORT"
SETS_WITH_WEAVIATE = {"production", "weaviate"}
COLLECTION = "AgentMemWeaviateTest"
SERVICES = Path(__file__).resolve().parents[2] / "deploy" / "local" / "services"
A = "tenant-a"
START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
DIMENSIONS = 384

# -- tenant names (no server needed) ---------------------------------------------------

TRICKY_TENANTS = [
    "",
    "a",
    "A",
    "tenant-a",
    "Tenant-A",
    "t-a",
    "x-a",
    "h-a",
    "-a",
    "a_b",
    "a b",
    "a.b",
    "ü",
    "u\u0308",  # the same letter, decomposed: a different tenant
    "租户",
    "emoji 🧠",
    "a" * 62,
    "a" * 63,
    "é" * 19,  # 38 bytes: the longest encoded form
    "é" * 19 + "a",  # 39 bytes: hashed
    "x" * 1000,
    "x" * 999 + "y",
    "\x00",
    "tab\there",
]


def test_tenant_names_are_valid_distinct_and_reversible() -> None:
    valid = re.compile(r"[a-z0-9_-]{1,64}")
    names = [weaviate_tenant(tenant) for tenant in TRICKY_TENANTS]
    for tenant, name in zip(TRICKY_TENANTS, names, strict=True):
        assert valid.fullmatch(name), (tenant, name)
        assert weaviate_tenant(tenant) == name  # deterministic
        if not name.startswith("h-"):
            assert agentmem_tenant(name) == tenant
    assert len(set(names)) == len(TRICKY_TENANTS)
    assert weaviate_tenant("tenant-a") == "t-tenant-a"  # readable when it can be
    assert weaviate_tenant("a" * 62) == "t-" + "a" * 62
    assert weaviate_tenant("a" * 63).startswith("h-")  # 63 bytes: too long to encode
    assert weaviate_tenant("é" * 19).startswith("x-")
    assert weaviate_tenant("a.b").startswith("x-")
    assert weaviate_tenant("é" * 19 + "a").startswith("h-")


def test_tenant_names_are_injective_over_many_short_strings() -> None:
    rng = np.random.default_rng(7)
    alphabet = list("aAbB0-_ .é")
    tenants = {"".join(rng.choice(alphabet, size=int(rng.integers(0, 8)))) for _ in range(20_000)}
    names = {weaviate_tenant(tenant) for tenant in tenants}
    assert len(names) == len(tenants)


# -- explain score parsing (no server needed) ---------------------------------------------

HYBRID_EXPLAIN = (
    "\nHybrid (Result Set keyword,bm25) Document 61679b8b-5051-5ddb-a5bc-2822dd793332: "
    "original score 0.7238515, normalized score: 0.7 - \n"
    "Hybrid (Result Set vector,hybridVector) Document 61679b8b-5051-5ddb-a5bc-2822dd793332: "
    "original score 0.5163978, normalized score: 0.26832816"
)


@pytest.mark.parametrize(
    ("explain", "expected"),
    [
        (HYBRID_EXPLAIN, (0.7238515, 0.5163978)),
        (
            "\nHybrid (Result Set vector,hybridVector) Document 4af529d3-8ad7-54af-b496-"
            "c81201d720c0: original score 0, normalized score: 0",
            (None, 0.0),
        ),
        (
            "BM25F_fox_frequency:3, BM25F_fox_propLength:4\nHybrid (Result Set keyword,bm25) "
            "Document 4af529d3-8ad7-54af-b496-c81201d720c0: original score 1e-06, "
            "normalized score: 0.3",
            (1e-06, None),
        ),
        (
            "\nHybrid (Result Set vector,nearVector) Document abc: original score -0.25, "
            "normalized score: 0",
            (None, -0.25),
        ),
        ("", (None, None)),
        (None, (None, None)),
        ("something else entirely", (None, None)),
    ],
)
def test_explain_score_parsing(
    explain: str | None, expected: tuple[float | None, float | None]
) -> None:
    keyword, vector = parse_explain_score(explain)
    assert (keyword, vector) == expected


def test_query_terms_are_plain_distinct_words() -> None:
    assert query_terms('x" OR "y  NEAR(b c, 2) content:x *') == "x y near b c 2 content"
    assert query_terms("the AND or") == "the and or"  # nothing but stop words: kept
    assert query_terms("   ") == ""
    assert len(query_terms(" ".join(f"w{n}" for n in range(100))).split()) == 64


# -- against the server --------------------------------------------------------------------


@pytest.fixture(scope="module")
def weaviate_settings() -> tuple[str, int]:
    url, grpc_port = os.environ.get(URL_ENV), os.environ.get(GRPC_ENV)
    if url and grpc_port:
        return url, int(grpc_port)
    needing = SETS_WITH_WEAVIATE & set(requested_backends())
    if needing:
        pytest.fail(f"{URL_ENV}/{GRPC_ENV} are not set but {sorted(needing)} need Weaviate.")
    pytest.skip(f'{URL_ENV}/{GRPC_ENV} are not set (run `eval "$(deploy/local/services up)"`).')


@pytest.fixture
async def index(weaviate_settings: tuple[str, int]) -> AsyncIterator[WeaviateSearchIndex]:
    url, grpc_port = weaviate_settings
    opened = await open_weaviate_index(
        url, grpc_port, DIMENSIONS, collection=COLLECTION, timeout=3.0
    )
    await opened.drop_all_tenants()
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


embedder = HashingEmbedder(DIMENSIONS)


async def search(
    index: WeaviateSearchIndex,
    text: str,
    *,
    tenant: str = A,
    alpha: float = 0.5,
    memory_filter: MemoryFilter | None = None,
    limit: int = 10,
) -> list[str]:
    vector = (await embedder.embed([text]))[0]
    hits = await index.search(
        tenant, IndexQuery(text, vector, alpha, memory_filter or MemoryFilter(), limit)
    )
    return [hit.memory_id for hit in hits]


async def test_odd_tenant_names_are_separate_tenants_on_the_server(
    index: WeaviateSearchIndex, clock: Clock
) -> None:
    tenants = ["A", "a", "t-a", "ü", "u\u0308", "", "x" * 1000]
    memories = {t: make_memory(t, "shared words here", at=clock.tick()) for t in tenants}
    items = list(memories.values())
    await index.upsert(items, await embedder.embed([m.content for m in items]))
    for tenant, memory in memories.items():
        for alpha in (0.0, 0.5, 1.0):
            assert await search(index, "shared words", tenant=tenant, alpha=alpha) == [memory.id]
        assert await index.indexed_versions(tenant) == {memory.id: 1}


async def test_hybrid_raw_scores_are_bm25_and_cosine(
    index: WeaviateSearchIndex, clock: Clock
) -> None:
    texts = ["solar panels on the roof", "solar solar battery", "roof repair", "garden"]
    memories = [make_memory(A, text, at=clock.tick()) for text in texts]
    vectors = await embedder.embed(texts)
    await index.upsert(memories, vectors)
    text = "solar roof"
    qvec = (await embedder.embed([text]))[0]

    async def run(alpha: float) -> dict[str, tuple[float | None, float | None]]:
        hits = await index.search(A, IndexQuery(text, qvec, alpha, MemoryFilter(), 10))
        return {h.memory_id: (h.keyword_score, h.vector_score) for h in hits}

    hybrid, keyword_only, vector_only = await run(0.5), await run(0.0), await run(1.0)
    for memory_id, (keyword, vector) in hybrid.items():
        if keyword is None:
            assert memory_id not in keyword_only
        else:
            assert keyword == pytest.approx(keyword_only[memory_id][0], rel=1e-5)
        assert vector is not None
        assert vector == pytest.approx(vector_only[memory_id][1], abs=1e-5)
    cosine = vectors @ qvec
    for memory, expected in zip(memories, cosine, strict=True):
        assert vector_only[memory.id][1] == pytest.approx(float(expected), abs=1e-5)
    assert set(keyword_only) == {memories[0].id, memories[1].id, memories[2].id}


async def test_upsert_is_idempotent_and_keyed_by_memory_id(
    index: WeaviateSearchIndex, clock: Clock
) -> None:
    memory = make_memory(A, "only once", at=clock.tick(), tags=("a",))
    vector = await embedder.embed([memory.content])
    for _ in range(3):
        await index.upsert([memory], vector)
    await index.upsert([memory, memory], np.vstack([vector, vector]))
    assert await index.indexed_versions(A) == {memory.id: 1}
    changed = replace(memory, version=2, content="changed text", tags=(), valid_to=START)
    await index.upsert([changed], await embedder.embed([changed.content]))
    assert await index.indexed_versions(A) == {memory.id: 2}
    assert await search(index, "only once", alpha=0.0) == []
    tagged = MemoryFilter(tags=("a",))
    assert await search(index, "changed text", memory_filter=tagged) == []  # tags replaced
    handle = index._tenant(A)
    stored = await handle.query.fetch_object_by_id(memory_uuid(memory.id))
    assert stored is not None and stored.properties["version"] == 2
    assert stored.properties["valid_to"] == START
    assert memory_uuid(memory.id) == memory_uuid(memory.id)


async def test_upsert_rejects_vectors_that_do_not_fit(
    index: WeaviateSearchIndex, clock: Clock
) -> None:
    memory = make_memory(A, "x", at=clock.tick())
    with pytest.raises(ValueError):
        await index.upsert([memory], np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        await index.upsert([memory, memory], np.zeros((1, DIMENSIONS), dtype=np.float32))


async def test_filters_apply_inside_the_query_over_5000_documents(
    index: WeaviateSearchIndex, clock: Clock
) -> None:
    """Five "needles" that neither ranking would place in its top 100 are the
    only matches of each filter; a filter applied after the search would
    return nothing."""
    rng = np.random.default_rng(3)
    hay_agent, needle_agent = "agt_" + "1" * 32, "agt_" + "2" * 32
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"]
    hay = [
        make_memory(
            A,
            "report " + " ".join(rng.choice(words, size=4)),
            at=clock.tick(),
            agent_id=hay_agent,
            tags=("hay",),
        )
        for _ in range(4995)
    ]
    moment = clock.tick(1000)
    needles = [
        make_memory(
            A,
            "report footnote " + " ".join(["filler"] * 40),  # long: low BM25
            at=clock.tick(),
            agent_id=needle_agent,
            user_id="u-needle",
            session_id="s-needle",
            type=MemoryType.PROCEDURAL,
            level=MemoryLevel.STRATEGIC,
            tags=("needle", "rare"),
            valid_from=moment - timedelta(days=1),
            valid_to=moment + timedelta(days=1),
        )
        for _ in range(5)
    ]
    memories = hay + needles
    query = "report alpha beta"
    qvec = (await embedder.embed([query]))[0]
    vectors = rng.standard_normal((len(memories), DIMENSIONS)).astype(np.float32)
    vectors[:4995] += 4 * qvec  # hay is close to the query, needles are not
    await index.upsert(memories, vectors)
    assert len(await index.indexed_versions(A)) == 5000
    needle_ids = {m.id for m in needles}
    unfiltered = await index.search(A, IndexQuery(query, qvec, 0.5, MemoryFilter(), 100))
    assert not needle_ids & {h.memory_id for h in unfiltered}
    filters = [
        MemoryFilter(agent_id=needle_agent),
        MemoryFilter(user_id="u-needle"),
        MemoryFilter(session_id="s-needle"),
        MemoryFilter(types=(MemoryType.PROCEDURAL,)),
        MemoryFilter(levels=(MemoryLevel.STRATEGIC, MemoryLevel.CONTEXTUAL)),
        MemoryFilter(tags=("rare", "needle")),
        MemoryFilter(created_after=moment),
        MemoryFilter(as_of=moment + timedelta(hours=1), created_after=hay[-1].created_at),
    ]
    for memory_filter in filters:
        for alpha in (0.0, 0.5, 1.0):
            hits = await index.search(A, IndexQuery(query, qvec, alpha, memory_filter, 5))
            assert {h.memory_id for h in hits} == needle_ids, (memory_filter, alpha)
    past = MemoryFilter(as_of=moment + timedelta(days=2), agent_id=needle_agent)
    assert await index.search(A, IndexQuery(query, qvec, 0.5, past, 5)) == []


async def test_opening_is_idempotent_and_safe_to_race(
    weaviate_settings: tuple[str, int],
) -> None:
    url, grpc_port = weaviate_settings
    name = "AgentMemRaceTest"
    first = await open_weaviate_index(url, grpc_port, DIMENSIONS, collection=name)
    await first._client.collections.delete(name)
    try:
        opened = await asyncio.gather(
            *(open_weaviate_index(url, grpc_port, DIMENSIONS, collection=name) for _ in range(4))
        )
        for index in opened:
            await index.ping()
            await index.close()
        again = await open_weaviate_index(url, grpc_port, DIMENSIONS, collection=name)
        await again.close()
    finally:
        await first._client.collections.delete(name)
        await first.close()


async def test_opening_an_unreachable_weaviate_fails_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        await open_weaviate_index("http://127.0.0.1:1", 2, DIMENSIONS, timeout=1.0)
    assert time.monotonic() - started < 3.0
    assert "127.0.0.1" not in caught.value.message


# -- outage -------------------------------------------------------------------------------


def _services(*args: str) -> None:
    subprocess.run(["bash", str(SERVICES), *args], check=True, timeout=600, capture_output=True)


@contextlib.contextmanager
def stopped_weaviate() -> Iterator[None]:
    """Weaviate is stopped inside the block and always started again on exit."""
    if not SERVICES.exists():
        pytest.fail(f"{SERVICES} is missing: outage tests need it.")
    _services("stop", "weaviate")
    try:
        yield
    finally:
        _services("start", "weaviate")


@pytest.mark.outage
async def test_weaviate_outage_is_unavailable_quickly_and_recovers(
    weaviate_settings: tuple[str, int], clock: Clock
) -> None:
    url, grpc_port = weaviate_settings
    index = await open_weaviate_index(
        url, grpc_port, DIMENSIONS, collection=COLLECTION, timeout=2.0
    )
    try:
        await index.drop_all_tenants()
        memory = make_memory(A, "durable fact", at=clock.tick())
        vector = await embedder.embed([memory.content])
        await index.upsert([memory], vector)
        await search(index, "durable")  # warm connections
        with stopped_weaviate():
            calls = [
                lambda: search(index, "durable", alpha=0.5),
                lambda: search(index, "durable", alpha=0.0),
                lambda: search(index, "durable", alpha=1.0),
                lambda: index.upsert([memory], vector),
                lambda: index.delete(A, [memory.id]),
                lambda: index.indexed_versions(A),
                index.ping,
            ]
            for call in calls:
                started = time.monotonic()
                with pytest.raises(Unavailable) as caught:
                    await call()
                assert time.monotonic() - started < 4.0  # bounded: timeout 2 s + slack
                assert caught.value.message == "The search index is unavailable."
        deadline = time.monotonic() + 120
        while True:
            try:
                await index.ping()
                break
            except Unavailable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        assert await search(index, "durable") == [memory.id]  # the same client recovered
        await index.upsert([replace(memory, version=2)], vector)
        assert await index.indexed_versions(A) == {memory.id: 2}
    finally:
        await index.close()
