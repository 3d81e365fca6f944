"""Shape limits (depth, aliases, root fields, tokens): the pure checks, and
the refusals as an HTTP client sees them."""

from __future__ import annotations

from graphql import parse

from schema.limits import QueryLimits, check_document, count_aliases
from tests.hardening.conftest import Serve, first_error, post

LIMITS = QueryLimits(max_depth=12, max_aliases=30, max_root_fields=20, max_tokens=10_000)


def nested(levels: int) -> str:
    """A valid query whose fields nest ``levels`` deep (4 levels per cycle + ``id``)."""
    cycles, extra = divmod(levels - 1, 4)
    opening = "memories { edges { node { agent { " * cycles
    tail = [
        "memories { totalCount }",
        "memories { edges { cursor } }",
        "memories { edges { node { id } } }",
    ]
    inner = "id" if extra == 0 else tail[extra - 1]
    return "{ " + opening + inner + " }" * (cycles * 4) + " }"


def limits_of(query: str, limits: QueryLimits = LIMITS) -> list[str]:
    return [str(e.extensions["limit"]) for e in check_document(parse(query), limits)]


def test_nesting_is_measured_in_field_levels() -> None:
    assert limits_of(nested(12)) == []
    assert limits_of(nested(13)) == ["depth"]
    error = check_document(parse(nested(20)), LIMITS)[0]
    assert error.extensions == {"code": "BAD_USER_INPUT", "limit": "depth", "max": 12, "actual": 13}


def test_fragments_count_where_they_are_spread_and_cycles_end() -> None:
    deep = "fragment F on Memory { agent { memories { edges { node { agent { id } } } } } }"
    assert limits_of("{ memories { edges { node { ...F } } } } " + deep) == []
    assert limits_of(
        "{ memories { edges { node { agent { memories { edges { node { ...F } } } } } } } } " + deep
    ) == ["depth"]
    cyclic = "fragment A on Memory { agent { memories { edges { node { ...A } } } } }"
    assert limits_of("{ memories { edges { node { ...A } } } } " + cyclic) == []


def test_introspection_does_not_count_towards_depth() -> None:
    deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }"
    assert limits_of(deep) == []


def test_aliases_are_counted_across_the_document() -> None:
    thirty = " ".join(f"a{i}: __typename" for i in range(30))
    assert limits_of("{ " + thirty + " }") == []
    aliased = "{ " + " ".join(f"a{i}: memories {{ x: totalCount }}" for i in range(16)) + " }"
    assert count_aliases(parse(aliased)) == 32
    assert limits_of(aliased) == ["aliases"]


def test_root_fields_are_counted_per_operation_with_fragments_expanded() -> None:
    limits = QueryLimits(max_root_fields=3, max_aliases=100)
    assert (
        limits_of(
            "{ a: agents { pageInfo { hasNextPage } } b: agents { pageInfo { hasNextPage } } ...R } fragment R on Query { c: memories { totalCount } }",
            limits,
        )
        == []
    )
    assert limits_of(
        "{ a: agents { pageInfo { hasNextPage } } b: agents { pageInfo { hasNextPage } } ...R ...S } fragment R on Query { c: memories { totalCount } } fragment S on Query { d: memories { totalCount } }",
        limits,
    ) == ["root_fields"]


async def test_a_query_nested_20_deep_is_refused_over_http(serve: Serve) -> None:
    client = await serve()
    response = await post(client, nested(20))
    assert response.status_code == 400
    error = first_error(response)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "depth",
        "max": 12,
        "actual": 13,
    }
    assert "deeper than 12" in error["message"]
    ok = await post(client, nested(12))
    assert ok.status_code == 200, ok.text
    assert "errors" not in ok.json()


async def test_a_query_with_1000_aliases_is_refused_over_http(serve: Serve) -> None:
    client = await serve()
    query = "{ " + " ".join(f"m{i}: memories {{ totalCount }}" for i in range(1000)) + " }"
    response = await post(client, query)
    assert response.status_code == 400
    error = first_error(response)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "aliases",
        "max": 30,
        "actual": 1000,
    }
    legacy = await post(client, query, accept="application/json")
    assert legacy.status_code == 200
    assert first_error(legacy)["extensions"]["limit"] == "aliases"


async def test_too_many_tokens_stop_the_parser(serve: Serve) -> None:
    client = await serve(max_query_tokens=500)
    response = await post(client, "{ " + "__typename " * 600 + "}")
    assert response.status_code == 400
    assert first_error(response)["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "tokens",
        "max": 500,
        "actual": 501,
    }


async def test_limits_follow_the_settings(serve: Serve) -> None:
    client = await serve(max_query_depth=3, max_query_aliases=1, max_root_fields=1)
    assert first_error(await post(client, nested(4)))["extensions"]["limit"] == "depth"
    assert (
        first_error(await post(client, "{ a: __typename b: __typename }"))["extensions"]["limit"]
        == "aliases"
    )
    two_roots = await post(
        client, "{ memories { totalCount } agents { pageInfo { hasNextPage } } }"
    )
    assert first_error(two_roots)["extensions"]["limit"] == "root_fields"


async def test_large_documents_are_checked_alike_without_being_cached(serve: Serve) -> None:
    client = await serve()
    padding = "#" + "x" * 20_000 + "\n"
    refused = await post(client, padding + nested(20))
    assert first_error(refused)["extensions"]["limit"] == "depth"
    served = await post(client, padding + nested(12))
    assert served.status_code == 200 and "errors" not in served.json()
    invalid = await post(client, padding + "{ memories { nope } }")
    assert first_error(invalid)["extensions"] == {"code": "BAD_USER_INPUT"}
