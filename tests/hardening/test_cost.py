"""Static query cost: the pure function, role budgets, and the refusal and
report as an HTTP client sees them; introspection in the production profile."""

from __future__ import annotations

from typing import Any

from graphql import parse

from resolvers.context import RequestContext
from schema.build import build_schema
from schema.cost import CostModel, operation_cost
from schema.errors import coded
from schema.guard import DEFAULT_BUDGETS, GuardConfig, for_roles
from tests.hardening.conftest import Serve, first_error, post

SCHEMA = build_schema()._schema


def cost(query: str, variables: dict[str, Any] | None = None, **model: int) -> int:
    return operation_cost(SCHEMA, parse(query), None, variables, CostModel(**model))


def test_scalars_cost_nothing_and_objects_cost_one() -> None:
    assert cost("{ __typename }") == 0
    assert cost("{ memories { totalCount } }") == 1
    assert cost('{ memory(id: "x") { id agent { id } } }') == 2


def test_sizes_multiply_down_the_tree() -> None:
    # memories(first: 5): 1 + 5 x (edges 1 + node (1 + agent 1)) = 16
    assert cost("{ memories(first: 5) { edges { node { id agent { name } } } } }") == 16
    # the schema default first: 20
    assert cost("{ memories { edges { node { id agent { name } } } } }") == 61
    # nested connections multiply: 1 + 10 x (1 + (1 + (1 + 10 x (1 + 1))))
    nested = (
        "{ agents(first: 10) { edges { node { memories(first: 10) { edges { node { id } } } } } } }"
    )
    assert cost(nested) == 1 + 10 * (1 + 1 + (1 + 10 * 2))


def test_sizes_come_from_variables_and_their_defaults() -> None:
    query = "query($n: Int = 3) { memories(first: $n) { edges { node { id } } } }"
    assert cost(query) == 1 + 3 * 2
    assert cost(query, {"n": 50}) == 1 + 50 * 2
    assert cost("query($n: Int) { memories(first: $n) { edges { node { id } } } }") == 1 + 20 * 2


def test_unsized_lists_count_as_the_default_list_size_unless_bounded_by_the_parent() -> None:
    query = '{ memory(id: "x") { entities { name } history { version } } }'
    assert cost(query) == 1 + 1 + 1
    with_facts = '{ memory(id: "x") { entities { facts { predicate } } } }'
    assert cost(with_facts, default_list_size=10) == 1 + (1 + 10 * 1)
    assert cost(with_facts, default_list_size=4) == 1 + (1 + 4 * 1)


def test_hops_add_to_a_fields_own_cost() -> None:
    assert cost('{ memory(id: "x") { related(depth: 3, limit: 2) { memory { id } } } }') == 1 + (
        1 + 3 + 2 * 1
    )
    assert cost('{ search(query: "q", limit: 5, expand: 2) { memory { id } } }') == 1 + 2 + 5 * 1
    assert cost('{ subgraph(ids: ["a"], depth: 2, limit: 10) { nodes { id } } }') == 1 + 2 + 10 * 1


def test_fragments_count_in_full_and_operations_are_chosen_by_name() -> None:
    document = parse(
        "query A { memories(first: 2) { edges { node { ...M } } } } "
        "query B { agents { pageInfo { hasNextPage } } } "
        "fragment M on Memory { agent { id } entities { name } }"
    )
    assert operation_cost(SCHEMA, document, "A") == 1 + 2 * (1 + (1 + 1 + 1))
    assert operation_cost(SCHEMA, document, "B") == 1 + 20 * 1  # first defaults to 20
    assert operation_cost(SCHEMA, document, None) == 0


def test_the_most_generous_role_wins_and_unknown_roles_get_the_least() -> None:
    assert for_roles(DEFAULT_BUDGETS, frozenset({"reader", "writer"})) == 10_000
    assert for_roles(DEFAULT_BUDGETS, frozenset({"admin"})) == 50_000
    assert for_roles(DEFAULT_BUDGETS, frozenset({"stranger"})) == 5_000


EXPENSIVE = (
    "{ agents(first: 100) { edges { node { memories(first: 100) { edges { node { id } } } } } } }"
)


async def test_over_budget_is_refused_before_execution_with_cost_and_budget(serve: Serve) -> None:
    client = await serve(cost_budgets="admin=1000")
    response = await post(client, EXPENSIVE)
    assert response.status_code == 400
    error = first_error(response)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "cost",
        "cost": 1 + 100 * (2 + 1 + 100 * 2),
        "budget": 1000,
    }
    assert "data" not in response.json()


async def test_the_cost_is_reported_when_asked(serve: Serve) -> None:
    client = await serve()
    asked = await post(
        client, "{ memories(first: 5) { edges { node { id } } } }", extensions={"cost": True}
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["extensions"]["cost"] == {"requested": 11, "budget": 50_000}
    silent = await post(client, "{ memories(first: 5) { edges { node { id } } } }")
    assert "extensions" not in silent.json()


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_development_profile_allows_introspection_and_graphiql(serve: Serve) -> None:
    client = await serve()
    assert (await post(client, INTROSPECTION)).json()["data"]["__schema"]["queryType"][
        "name"
    ] == "Query"
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_production_profile_refuses_introspection_and_serves_no_graphiql(
    serve: Serve,
) -> None:
    client = await serve(profile="production")
    response = await post(client, INTROSPECTION)
    assert response.status_code == 400
    error = first_error(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "introspection has been disabled" in error["message"]
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code != 200
    assert "graphiql" not in page.text.lower()
    assert (await post(client, "{ memories { totalCount } }")).status_code == 200


async def test_subscriptions_are_held_to_the_budget_too(memory_graph: Any) -> None:
    schema = build_schema(GuardConfig(budgets={"admin": 2}))
    context = RequestContext.create(memory_graph, "default")
    stream = await schema.subscribe(
        "subscription { memoryEvents { memory { agent { id } entities { name } } } }",
        context_value=context,
    )
    first = await anext(stream)  # type: ignore[arg-type]
    assert first.errors
    assert coded(first.errors[0]).extensions == {
        "code": "BAD_USER_INPUT",
        "limit": "cost",
        "cost": 4,
        "budget": 2,
    }
