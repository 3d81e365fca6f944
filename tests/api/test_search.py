"""Search modes, alpha, filters and expansion through GraphQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from graph.errors import Unavailable
from graph.memory_graph import MemoryGraph
from graph.ports import Backends
from graph.services.memories import NewMemory
from graph.services.search import SearchRequest
from tests.api.conftest import Gql, error_code, ok
from tests.api.test_graph import relate
from tests.api.test_memories import add, create_agent

SEARCH = """
query($q: String!, $mode: SearchMode, $alpha: Float, $f: MemoryFilter, $limit: Int, $expand: Int) {
  search(query: $q, mode: $mode, alpha: $alpha, filter: $f, limit: $limit, expand: $expand) {
    score keywordScore vectorScore memory { id content }
  }
}"""

CORPUS = [
    "The quarterly budget review is on Friday",
    "Alice prefers green tea in the afternoon",
    "Deploy the billing service with a canary release",
    "The budget for the offsite was approved",
]


async def seed(gql: Gql) -> None:
    for text in CORPUS:
        await add(gql, text)


@pytest.mark.parametrize("mode", ["HYBRID", "KEYWORD", "VECTOR"])
async def test_each_mode_ranks_the_matching_memory_first(gql: Gql, mode: str) -> None:
    await seed(gql)
    hits = ok(await gql(SEARCH, {"q": "canary release billing", "mode": mode}))["search"]
    assert hits[0]["memory"]["content"] == CORPUS[2]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


async def test_keyword_mode_reports_only_keyword_scores(gql: Gql) -> None:
    await seed(gql)
    hits = ok(await gql(SEARCH, {"q": "budget", "mode": "KEYWORD"}))["search"]
    assert {h["memory"]["content"] for h in hits} == {CORPUS[0], CORPUS[3]}
    assert all(h["keywordScore"] > 0 and h["vectorScore"] is None for h in hits)


async def test_hybrid_reports_both_component_scores(gql: Gql) -> None:
    await seed(gql)
    hits = ok(await gql(SEARCH, {"q": "budget review", "alpha": 0.5}))["search"]
    top = hits[0]
    assert top["memory"]["content"] == CORPUS[0]
    assert top["keywordScore"] is not None and top["vectorScore"] is not None


async def test_filter_applies_inside_search(gql: Gql) -> None:
    agent = await create_agent(gql)
    await add(gql, "budget meeting notes", agentId=agent, tags=["finance"])
    await add(gql, "budget meeting notes for marketing", tags=["marketing"])
    hits = ok(await gql(SEARCH, {"q": "budget", "f": {"agentId": agent}}))["search"]
    assert [h["memory"]["content"] for h in hits] == ["budget meeting notes"]
    tagged = ok(await gql(SEARCH, {"q": "budget", "f": {"tags": ["marketing"]}}))["search"]
    assert [h["memory"]["content"] for h in tagged] == ["budget meeting notes for marketing"]


async def test_expand_adds_related_memories_below_their_hit(gql: Gql) -> None:
    hit = await add(gql, "Incident: the payments API timed out")
    cause = await add(gql, "A database index was dropped during the migration")
    await relate(gql, hit["id"], cause["id"], "CAUSES")
    plain = ok(await gql(SEARCH, {"q": "payments API timed out", "mode": "KEYWORD"}))["search"]
    assert [h["memory"]["id"] for h in plain] == [hit["id"]]
    expanded = ok(
        await gql(SEARCH, {"q": "payments API timed out", "mode": "KEYWORD", "expand": 1})
    )["search"]
    assert [h["memory"]["id"] for h in expanded] == [hit["id"], cause["id"]]
    assert expanded[1]["score"] < expanded[0]["score"]
    assert expanded[1]["keywordScore"] is None


async def test_deleted_memories_are_not_found_by_search(gql: Gql) -> None:
    memory = await add(gql, "ephemeral zebra fact")
    ok(await gql("mutation($id: ID!) { deleteMemory(id: $id) }", {"id": memory["id"]}))
    assert ok(await gql(SEARCH, {"q": "zebra", "mode": "KEYWORD"}))["search"] == []


async def test_updated_content_is_what_search_finds(gql: Gql) -> None:
    memory = await add(gql, "meeting in Lisbon")
    ok(
        await gql(
            'mutation($id: ID!) { updateMemory(id: $id, input: {content: "meeting in Porto"}) { id } }',
            {"id": memory["id"]},
        )
    )
    assert ok(await gql(SEARCH, {"q": "Lisbon", "mode": "KEYWORD"}))["search"] == []
    assert len(ok(await gql(SEARCH, {"q": "Porto", "mode": "KEYWORD"}))["search"]) == 1


@pytest.mark.parametrize(
    "variables",
    [
        {"q": ""},
        {"q": "x", "alpha": 1.5},
        {"q": "x", "limit": 0},
        {"q": "x", "limit": 101},
        {"q": "x", "expand": 4},
        {"q": "x" * 2001},
    ],
)
async def test_bad_search_arguments_are_bad_user_input(
    gql: Gql, variables: dict[str, object]
) -> None:
    assert error_code(await gql(SEARCH, variables)) == "BAD_USER_INPUT"


class UnreachableIndex:
    """A search index whose backend is down: every call raises Unavailable."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise Unavailable("search index unreachable")

        return fail


async def test_search_answers_from_the_graph_and_says_so_while_the_index_is_down(
    backends: Backends,
) -> None:
    healthy = MemoryGraph(backends)
    await healthy.memories.add("default", [NewMemory("the heron fishes at dawn")])
    broken = MemoryGraph(replace(backends, index=UnreachableIndex()))  # type: ignore[arg-type]
    results = await broken.search.search("default", SearchRequest("heron dawn"))
    assert results.degraded
    assert [h.memory.content for h in results.hits] == ["the heron fishes at dawn"]
    assert (await healthy.search.search("default", SearchRequest("heron"))).degraded is False
