"""Automatic Persisted Queries (Apollo protocol) and the allow-list mode."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from graphql_api.hardening import validate_settings
from graphql_api.persisted import sha256_hex
from graphql_api.settings import Settings, SettingsError
from resolvers.context import RequestContext
from schema.build import build_schema
from schema.guard import GuardConfig
from tests.conftest import server_settings
from tests.hardening.conftest import Serve, first_error, post
from tests.hardening.test_rate_limit import LIMITERS

COUNT = "{ memories { totalCount } }"
ADD = 'mutation { addMemory(input: {content: "allowed"}) { id } }'


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_an_unknown_hash_asks_for_the_query_then_runs_by_hash(serve: Serve) -> None:
    client = await serve()
    digest = sha256_hex(COUNT)
    missing = await client.post("/graphql", json={"extensions": persisted(digest)})
    assert missing.status_code == 200
    assert first_error(missing) == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    registered = await post(client, COUNT, extensions=persisted(digest))
    assert registered.json() == {"data": {"memories": {"totalCount": 0}}}
    by_hash = await client.post("/graphql", json={"extensions": persisted(digest)})
    assert by_hash.json() == {"data": {"memories": {"totalCount": 0}}}
    over_get = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(digest))},
        headers={"accept": "application/json"},
    )
    assert over_get.json() == {"data": {"memories": {"totalCount": 0}}}


async def test_a_hash_that_does_not_match_the_query_is_refused(serve: Serve) -> None:
    client = await serve()
    response = await post(client, COUNT, extensions=persisted(sha256_hex("{ other }")))
    assert response.status_code == 400
    assert first_error(response)["extensions"]["code"] == "BAD_USER_INPUT"
    still_missing = await client.post(
        "/graphql", json={"extensions": persisted(sha256_hex("{ other }"))}
    )
    assert first_error(still_missing)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_malformed_persisted_query_extensions_are_bad_input(serve: Serve) -> None:
    client = await serve()
    for bad in ({"version": 2, "sha256Hash": "0" * 64}, {"version": 1, "sha256Hash": "short"}, "x"):
        response = await client.post("/graphql", json={"extensions": {"persistedQuery": bad}})
        assert response.status_code == 400
        assert first_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_with_apq_off_a_hash_alone_is_not_supported(serve: Serve) -> None:
    client = await serve(persisted_queries=False)
    response = await client.post("/graphql", json={"extensions": persisted(sha256_hex(COUNT))})
    assert response.status_code == 400
    error = first_error(response)
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


@pytest.mark.parametrize("shared", LIMITERS)
async def test_registered_queries_are_shared_through_the_cache(serve: Serve, shared: str) -> None:
    """With Redis every server process knows a query one of them registered."""
    if shared == "in-process":
        first = await serve()
        second = first
    else:
        redis_url = server_settings()[2]
        first, second = await serve(redis_url=redis_url), await serve(redis_url=redis_url)
    query = "{ memories { totalCount } } # " + uuid.uuid4().hex
    digest = sha256_hex(query)
    await post(first, query, extensions=persisted(digest))
    by_hash = await second.post("/graphql", json={"extensions": persisted(digest)})
    assert by_hash.json() == {"data": {"memories": {"totalCount": 0}}}


def write_manifest(path: Path, *documents: str) -> Path:
    operations = [
        {"id": sha256_hex(d), "body": d, "name": None, "type": "query"} for d in documents
    ]
    path.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    return path


async def test_allow_list_mode_runs_only_listed_documents(serve: Serve, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "allow.json", COUNT, ADD)
    client = await serve(persisted_queries_only=True, persisted_queries_file=str(manifest))
    assert (await post(client, COUNT)).json() == {"data": {"memories": {"totalCount": 0}}}
    by_hash = await client.post("/graphql", json={"extensions": persisted(sha256_hex(ADD))})
    assert "id" in by_hash.json()["data"]["addMemory"]
    unlisted = await post(client, 'mutation { addMemory(input: {content: "not listed"}) { id } }')
    assert unlisted.status_code == 400
    assert first_error(unlisted)["extensions"] == {"code": "BAD_USER_INPUT", "limit": "allow_list"}
    new = "{ agents { pageInfo { hasNextPage } } }"
    registering = await post(client, new, extensions=persisted(sha256_hex(new)))
    assert first_error(registering)["extensions"]["limit"] == "allow_list"
    unknown = await client.post("/graphql", json={"extensions": persisted(sha256_hex(new))})
    assert first_error(unknown)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert (await post(client, COUNT)).json() == {"data": {"memories": {"totalCount": 1}}}


async def test_the_allow_list_holds_for_every_transport(memory_graph: Any) -> None:
    schema = build_schema(GuardConfig(allowed_documents=frozenset({sha256_hex(COUNT)})))
    context = RequestContext.create(memory_graph, "default")
    assert (await schema.execute(COUNT, context_value=context)).errors is None
    refused = await schema.execute("{ agents { pageInfo { hasNextPage } } }", context_value=context)
    assert refused.errors and refused.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "limit": "allow_list",
    }
    subscription = await schema.subscribe(
        "subscription { memoryEvents { kind } }", context_value=context
    )
    first = await anext(subscription)  # type: ignore[arg-type]
    assert first.errors and first.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "limit": "allow_list",
    }


def test_allow_list_settings_are_checked_at_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="needs persisted_queries_file"):
        validate_settings(Settings(persisted_queries_only=True))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"0" * 64: COUNT}))
    with pytest.raises(SettingsError, match="does not match"):
        validate_settings(Settings(persisted_queries_only=True, persisted_queries_file=str(wrong)))
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([COUNT]))
    validate_settings(Settings(persisted_queries_only=True, persisted_queries_file=str(listed)))
