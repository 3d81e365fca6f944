"""Golden tests: the Cypher the Neo4j store generates, pinned as text.

No database needed. Each test builds the (query, params) pair for a
representative request and compares it, whitespace-normalised, with the
expected text written out here, so any change to a query shows up in review
as a change to this file. The projections (what a read returns per node) are
pinned once below and reused in the statements that embed them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.adapters.neo4j import cypher
from graph.model import Direction, MemoryFilter, MemoryLevel, MemoryType

T = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def micros(expr: str) -> str:
    return f"{expr}.epochSeconds * 1000000 + {expr}.microsecond"


CURRENT_MEMORY = (
    "m {.id, .tenant, .agent_id, .user_id, .session_id, .type, .level, .content, .importance,"
    " .tags, .metadata, .sensitivity, .content_hash, .version,"
    f" created_at: {micros('m.created_at')}, updated_at: {micros('m.updated_at')},"
    f" valid_from: {micros('m.valid_from')}, valid_to: {micros('m.valid_to')},"
    f" recorded_at: {micros('m.recorded_at')}, expired_at: {micros('m.expired_at')},"
    f" deleted_at: {micros('m.deleted_at')}}}"
)
VERSIONED_MEMORY = (
    "m {.id, .tenant, .agent_id, .user_id, .session_id, .type, .sensitivity,"
    f" created_at: {micros('m.created_at')}, level: v.level, content: v.content,"
    " importance: v.importance, tags: v.tags, metadata: v.metadata,"
    " content_hash: v.content_hash, version: v.version,"
    f" updated_at: {micros('v.recorded_at')}, valid_from: {micros('v.valid_from')},"
    f" valid_to: {micros('v.valid_to')}, recorded_at: {micros('v.recorded_at')},"
    f" expired_at: {micros('v.expired_at')}, deleted_at: null}}"
)
RELATION = (
    "r {.id, .tenant, .type, .weight, .properties, valid_from: "
    f"{micros('r.valid_from')}, valid_to: {micros('r.valid_to')},"
    f" created_at: {micros('r.created_at')},"
    " source_id: startNode(r).id, target_id: endNode(r).id}"
)
FACT = (
    "f {.id, .tenant, .subject_id, .predicate, .object_id, .source_memory_id,"
    f" valid_from: {micros('f.valid_from')}, valid_to: {micros('f.valid_to')},"
    f" recorded_at: {micros('f.recorded_at')}}}"
)


def norm(text: str) -> str:
    return " ".join(text.split())


def assert_statement(
    statement: cypher.Statement | None, query: str, params: dict[str, object]
) -> None:
    assert statement is not None
    assert norm(statement[0]) == norm(query)
    assert statement[1] == params


def test_projections_are_pinned() -> None:
    assert cypher.CURRENT_MEMORY == CURRENT_MEMORY
    assert cypher.VERSIONED_MEMORY == VERSIONED_MEMORY
    assert cypher.RELATION == RELATION
    assert cypher.FACT == FACT


def test_listing_with_every_filter_field_and_a_cursor() -> None:
    f = MemoryFilter(
        agent_id="agt_1",
        user_id="u1",
        session_id="s1",
        types=(MemoryType.SEMANTIC, MemoryType.EPISODIC, MemoryType.SEMANTIC),
        levels=(MemoryLevel.TACTICAL,),
        tags=("red", "blue", "red"),
        created_after=T,
        created_before=T,
    )
    assert_statement(
        cypher.list_memories("t", f, 20, (T, "mem_x")),
        f"""
        MATCH (m:Memory)
        WHERE m.tenant = $tenant AND m.deleted_at IS NULL AND m.agent_id = $agent_id
          AND m.user_id = $user_id AND m.session_id = $session_id AND m.type IN $types
          AND m.created_at > $created_after AND m.created_at < $created_before
          AND m.created_at <= $after_created
          AND (m.created_at < $after_created OR m.id < $after_id)
          AND m.level IN $levels AND all(tag IN $tags WHERE tag IN m.tags)
        WITH m ORDER BY m.tenant DESC, m.agent_id DESC, m.created_at DESC, m.id DESC
        LIMIT $limit
        RETURN collect({CURRENT_MEMORY}) AS rows
        """,
        {
            "tenant": "t",
            "agent_id": "agt_1",
            "user_id": "u1",
            "session_id": "s1",
            "types": ["SEMANTIC", "EPISODIC"],
            "created_after": T,
            "created_before": T,
            "after_created": T,
            "after_id": "mem_x",
            "levels": ["TACTICAL"],
            "tags": ["red", "blue"],
            "limit": 21,
        },
    )


def test_listing_without_filters_reads_the_tenant_index_in_order() -> None:
    assert_statement(
        cypher.list_memories("t", MemoryFilter(), 0, None),
        f"""
        MATCH (m:Memory)
        WHERE m.tenant = $tenant AND m.deleted_at IS NULL AND m.created_at IS NOT NULL
        WITH m ORDER BY m.tenant DESC, m.created_at DESC, m.id DESC LIMIT $limit
        RETURN collect({CURRENT_MEMORY}) AS rows
        """,
        {"tenant": "t", "limit": 1},
    )


def test_listing_by_user_orders_by_the_user_index() -> None:
    statement = cypher.list_memories("t", MemoryFilter(user_id="u"), 5, None)
    assert "ORDER BY m.tenant DESC, m.user_id DESC, m.created_at DESC, m.id DESC" in norm(
        statement[0]
    )
    statement = cypher.list_memories("t", MemoryFilter(session_id="s"), 5, None)
    assert "ORDER BY m.tenant DESC, m.session_id DESC, m.created_at DESC" in norm(statement[0])


def test_as_of_listing_reads_the_version_held_then() -> None:
    f = MemoryFilter(as_of=T, tags=("red",), levels=(MemoryLevel.TACTICAL,))
    assert_statement(
        cypher.list_memories("t", f, 20, (T, "mem_x")),
        f"""
        MATCH (m:Memory)
        WHERE m.tenant = $tenant AND m.created_at <= $as_of
          AND m.created_at <= $after_created
          AND (m.created_at < $after_created OR m.id < $after_id)
        MATCH (m)-[:HAS_VERSION]->(v:MemoryVersion)
        WHERE v.tenant = $tenant AND v.recorded_at <= $as_of
          AND (v.expired_at IS NULL OR v.expired_at > $as_of)
          AND (v.valid_from IS NULL OR v.valid_from <= $as_of)
          AND (v.valid_to IS NULL OR v.valid_to > $as_of)
          AND v.level IN $levels AND all(tag IN $tags WHERE tag IN v.tags)
        WITH m, v ORDER BY m.tenant DESC, m.created_at DESC, m.id DESC LIMIT $limit
        RETURN collect({VERSIONED_MEMORY}) AS rows
        """,
        {
            "tenant": "t",
            "as_of": T,
            "after_created": T,
            "after_id": "mem_x",
            "levels": ["TACTICAL"],
            "tags": ["red"],
            "limit": 21,
        },
    )


def test_per_agent_page_is_one_statement_with_a_limited_subquery_per_agent() -> None:
    f = MemoryFilter(agent_id="agt_ignored", session_id="s1")
    assert_statement(
        cypher.list_memories_for_agents("t", ["agt_1", "agt_2", "agt_1"], f, 20, None),
        f"""
        UNWIND $agent_ids AS agent
        CALL (agent) {{
          MATCH (m:Memory)
          WHERE m.tenant = $tenant AND m.deleted_at IS NULL AND m.agent_id = agent
            AND m.session_id = $session_id AND m.created_at IS NOT NULL
          WITH m ORDER BY m.tenant DESC, m.agent_id DESC, m.created_at DESC, m.id DESC
          LIMIT $limit
          RETURN collect({CURRENT_MEMORY}) AS memories
        }}
        RETURN collect({{agent: agent, memories: memories}}) AS rows
        """,
        {"tenant": "t", "session_id": "s1", "agent_ids": ["agt_1", "agt_2"], "limit": 21},
    )


def test_counts_per_agent_and_without_agent_are_one_statement() -> None:
    assert_statement(
        cypher.count_memories_for_agents("t", ["agt_1", None], MemoryFilter()),
        """
        CALL () {
          UNWIND $agent_ids AS agent
          CALL (agent) {
            MATCH (m:Memory)
            WHERE m.tenant = $tenant AND m.deleted_at IS NULL AND m.agent_id = agent
              AND m.created_at IS NOT NULL
            RETURN count(DISTINCT m) AS n
          }
          RETURN agent, n
          UNION ALL
          MATCH (m:Memory)
          WHERE m.tenant = $tenant AND m.deleted_at IS NULL AND m.created_at IS NOT NULL
          WITH count(DISTINCT m) AS n RETURN null AS agent, n
        }
        RETURN collect({agent: agent, n: n}) AS rows
        """,
        {"tenant": "t", "agent_ids": ["agt_1"]},
    )
    assert cypher.count_memories_for_agents("t", [], MemoryFilter()) is None


@pytest.mark.parametrize(
    ("direction", "pattern"),
    [
        (Direction.OUT, "(n)-[r:RELATES]->(o)"),
        (Direction.IN, "(n)<-[r:RELATES]-(o)"),
        (Direction.BOTH, "(n)-[r:RELATES]-(o)"),
    ],
)
def test_relations_of_each_direction_with_types(direction: Direction, pattern: str) -> None:
    assert_statement(
        cypher.relations_of("t", ["mem_1", "ent_2", "mem_1"], direction, ["FOLLOWS", "MENTIONS"]),
        f"""
        UNWIND $ids AS node_id
        MATCH (n:Node {{id: node_id}}) WHERE n.tenant = $tenant
        MATCH {pattern}
        WHERE r.tenant = $tenant AND r.deleted_at IS NULL AND o.deleted_at IS NULL
          AND r.type IN $types
        WITH DISTINCT node_id, r ORDER BY r.created_at DESC, r.id DESC
        RETURN collect({{node_id: node_id, relation: {RELATION}}}) AS rows
        """,
        {"tenant": "t", "ids": ["mem_1", "ent_2"], "types": ["FOLLOWS", "MENTIONS"]},
    )


def test_relations_of_without_types_has_no_type_constraint() -> None:
    for types in (None, []):
        query, params = cypher.relations_of("t", ["mem_1"], Direction.BOTH, types)
        assert "r.type" not in query
        assert params == {"tenant": "t", "ids": ["mem_1"]}


def test_facts_for_entities() -> None:
    assert_statement(
        cypher.facts_for_entities("t", ["ent_1", "ent_2"], T),
        f"""
        UNWIND $ids AS entity_id
        CALL (entity_id) {{
          MATCH (f:Fact) WHERE f.tenant = $tenant AND f.subject_id = entity_id RETURN f
          UNION
          MATCH (f:Fact) WHERE f.tenant = $tenant AND f.object_id = entity_id RETURN f
        }}
        WITH entity_id, f
        WHERE (f.valid_from IS NULL OR f.valid_from <= $as_of)
          AND (f.valid_to IS NULL OR f.valid_to > $as_of)
        WITH entity_id, f ORDER BY entity_id, f.recorded_at, f.id
        RETURN collect({{entity_id: entity_id, fact: {FACT}}}) AS rows
        """,
        {"tenant": "t", "ids": ["ent_1", "ent_2"], "as_of": T},
    )


def test_keyword_fallback_quotes_every_word() -> None:
    assert_statement(
        cypher.keyword_fallback(
            "t", 'Heron AND "dawn" title:x* heron~2 \\ (', MemoryFilter(user_id="u1"), 10
        ),
        """
        CALL db.index.fulltext.queryNodes('memory_content', $search) YIELD node AS m, score
        WHERE m.tenant = $tenant AND m.deleted_at IS NULL AND m.user_id = $user_id
          AND m.created_at IS NOT NULL
        WITH m, score ORDER BY score DESC, m.created_at DESC, m.id DESC LIMIT $limit
        RETURN collect({id: m.id, score: score}) AS rows
        """,
        {
            "tenant": "t",
            "user_id": "u1",
            "search": '"heron" OR "and" OR "dawn" OR "title" OR "x" OR "2"',
            "limit": 10,
        },
    )
    assert cypher.keyword_fallback("t", "*** ~ ((", MemoryFilter(), 10) is None
    assert cypher.keyword_fallback("t", "heron", MemoryFilter(), 0) is None


def test_fulltext_query_is_capped_and_quoted() -> None:
    words = " ".join(f"w{n}" for n in range(100))
    query = cypher.fulltext_query(words)
    assert query is not None
    assert query.count(" OR ") == cypher.MAX_FULLTEXT_TERMS - 1
    assert query.startswith('"w0" OR "w1"')
