"""CSRF rules, CORS and the body size limit on /graphql, over HTTP in process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from graphql_api.hardening import validate_settings
from graphql_api.settings import Settings, SettingsError
from tests.hardening.conftest import Serve, first_error

QUERY = json.dumps({"query": "{ memories { totalCount } }"}).encode()
ADD = json.dumps({"query": 'mutation { addMemory(input: {content: "x"}) { id } }'}).encode()


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "",
    ],
)
async def test_post_bodies_other_than_json_are_refused_with_415(
    serve: Serve, content_type: str
) -> None:
    client = await serve()
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/graphql", content=ADD, headers=headers)
    assert response.status_code == 415
    assert response.headers["accept-post"] == "application/json"
    assert first_error(response)["extensions"]["code"] == "BAD_USER_INPUT"
    count = await client.post(
        "/graphql", content=QUERY, headers={"content-type": "application/json"}
    )
    assert (
        count.json()["data"]["memories"]["totalCount"] == 0
    )  # the refused mutation changed nothing


async def test_json_with_a_charset_is_accepted(serve: Serve) -> None:
    client = await serve()
    response = await client.post(
        "/graphql", content=QUERY, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 200, response.text


async def test_mutations_over_get_stay_refused(serve: Serve) -> None:
    client = await serve()
    response = await client.get(
        "/graphql", params={"query": 'mutation { addMemory(input: {content: "x"}) { id } }'}
    )
    assert response.status_code == 405


async def test_a_declared_oversized_body_is_refused_before_reading(serve: Serve) -> None:
    client = await serve(max_body_bytes=1000)
    body = json.dumps({"query": "{ memories { totalCount } }", "pad": "x" * 2000}).encode()
    response = await client.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "accept": "application/graphql-response+json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert first_error(response)["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "body_bytes",
        "max": 1000,
    }


async def test_a_streamed_body_is_cut_off_once_it_passes_the_limit(serve: Serve) -> None:
    client = await serve(max_body_bytes=1000)
    pulled: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ memories { totalCount } }", "pad": "'
        for i in range(100):
            pulled.append(i)
            yield b"x" * 100
        yield b'"}'

    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert len(pulled) < 20, "the server read the body past the limit"


async def test_a_body_within_the_limit_is_served(serve: Serve) -> None:
    client = await serve(max_body_bytes=1000)
    response = await client.post(
        "/graphql", content=QUERY, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200


async def test_cors_answers_preflights_only_for_configured_origins(serve: Serve) -> None:
    client = await serve(cors_origins="https://app.example", cors_allow_credentials=True)
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization",
    }
    allowed = await client.options(
        "/graphql", headers={"origin": "https://app.example", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    other = await client.options(
        "/graphql", headers={"origin": "https://evil.example", **preflight}
    )
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    simple = await client.post(
        "/graphql",
        content=QUERY,
        headers={"content-type": "application/json", "origin": "https://app.example"},
    )
    assert simple.headers["access-control-allow-origin"] == "https://app.example"


async def test_without_cors_origins_no_cors_headers_are_sent(serve: Serve) -> None:
    client = await serve()
    response = await client.post(
        "/graphql",
        content=QUERY,
        headers={"content-type": "application/json", "origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_unusable_hardening_settings_are_refused() -> None:
    for bad in (
        Settings(profile="prod"),
        Settings(cors_origins="*", cors_allow_credentials=True),
        Settings(cost_budgets="admin"),
        Settings(cost_budgets="admin=0"),
        Settings(max_query_depth=0),
    ):
        with pytest.raises(SettingsError):
            validate_settings(bad)
