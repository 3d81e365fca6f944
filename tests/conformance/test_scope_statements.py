"""Row scope in statement text: values only ever travel as parameters, and an
unrestricted scope leaves every statement exactly as it was."""

from __future__ import annotations

from typing import Any

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.neo4j import cypher, cypher_forget
from graph.adapters.sqlite import store_scope
from graph.adapters.sqlite.search import search_filter
from graph.model import Direction, MemoryFilter

HOSTILE = RowScope(agent_id="a' OR 1=1 //", user_id='u") RETURN 1 --')


def _no_input_in(text: str) -> None:
    assert HOSTILE.agent_id is not None and HOSTILE.user_id is not None
    assert HOSTILE.agent_id not in text and HOSTILE.user_id not in text


def test_cypher_carries_scope_values_as_parameters_only() -> None:
    every = MemoryFilter()
    statements = [
        cypher.get_memories("t", ["m"], HOSTILE),
        cypher.find_memories_by_hash("t", [("a", "h")], HOSTILE),
        cypher.memory_history("t", ["m"], HOSTILE),
        cypher.list_memories("t", every, 5, None, HOSTILE),
        cypher.list_memories_for_agents("t", ["a"], every, 5, None, HOSTILE),
        cypher.keyword_fallback("t", "heron", every, 5, HOSTILE),
        cypher.get_relations("t", ["r"], HOSTILE),
        cypher.relations_of("t", ["n"], Direction.BOTH, None, HOSTILE),
        cypher_forget.user_memory_ids("t", "u", HOSTILE),
    ]
    counted = cypher.count_memories_for_agents("t", ["a", None], every, HOSTILE)
    assert counted is not None
    for query, params in [*statements, counted]:
        _no_input_in(query)
        assert params["scope_agent"] == HOSTILE.agent_id
        assert params["scope_user"] == HOSTILE.user_id


def test_an_unrestricted_scope_changes_no_statement() -> None:
    every = MemoryFilter(agent_id="a", user_id="u")
    pairs = [
        (cypher.get_memories("t", ["m"]), cypher.get_memories("t", ["m"], UNSCOPED)),
        (
            cypher.list_memories("t", every, 5, None),
            cypher.list_memories("t", every, 5, None, UNSCOPED),
        ),
        (
            cypher.relations_of("t", ["n"], Direction.IN, ["X"]),
            cypher.relations_of("t", ["n"], Direction.IN, ["X"], UNSCOPED),
        ),
    ]
    for before, after in pairs:
        assert before == after
    params: dict[str, Any] = {}
    assert store_scope.relation_ends("r", UNSCOPED, params) == "" and params == {}
    assert store_scope.row_where("m", UNSCOPED, params) == "" and params == {}
    assert search_filter("t", every) == search_filter("t", every, UNSCOPED)


def test_sql_carries_scope_values_as_parameters_only() -> None:
    params: dict[str, Any] = {}
    texts = [
        store_scope.row_where("m", HOSTILE, params),
        store_scope.relation_ends("r", HOSTILE, params),
        search_filter("t", MemoryFilter(), HOSTILE)[0],
    ]
    for text in texts:
        _no_input_in(text)
        assert ":scope_agent" in text and ":scope_user" in text
    assert params == {"scope_agent": HOSTILE.agent_id, "scope_user": HOSTILE.user_id}
