"""The server's authenticator on every backend set: where credentials are
read from, what a refusal looks like, and that refusals are audited without
the secret."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from starlette.requests import HTTPConnection

from graph.access.principal import Principal
from graph.errors import Unauthenticated
from graph.memory_graph import MemoryGraph
from graph.ports import Backends
from graphql_api.credentials import CredentialAuthenticator
from graphql_api.jwt_auth import JwtConfig, JwtVerifier

SECRET = "a-shared-secret-of-enough-length-for-hs256"


def connection(kind: str = "http", **headers: str) -> HTTPConnection:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return HTTPConnection({"type": kind, "headers": raw, "path": "/graphql"})


@pytest.fixture
def graph(backends: Backends) -> MemoryGraph:
    return MemoryGraph(backends)


@pytest.fixture
def authenticator(graph: MemoryGraph) -> CredentialAuthenticator:
    return CredentialAuthenticator(graph, "home", jwt=JwtVerifier(JwtConfig(secret=SECRET)))


async def reader_token(graph: MemoryGraph) -> str:
    return (await graph.apikeys.create(Principal.system("acme"), "r", ["reader"])).token


async def test_api_keys_are_read_from_bearer_and_x_api_key_headers(
    graph: MemoryGraph, authenticator: CredentialAuthenticator
) -> None:
    token = await reader_token(graph)
    for request in (
        connection(authorization=f"Bearer {token}"),
        connection(authorization=f"bearer   {token} "),
        connection(x_api_key=token),
    ):
        principal = await authenticator.authenticate(request)
        assert principal.tenant == "acme" and principal.roles == {"reader"}


async def test_websockets_authenticate_from_the_connection_init_payload(
    graph: MemoryGraph, authenticator: CredentialAuthenticator
) -> None:
    token = await reader_token(graph)
    socket = connection("websocket")
    for payload in ({"authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {token}"}):
        assert (await authenticator.authenticate(socket, payload)).tenant == "acme"
    assert (await authenticator.authenticate(socket, {"apiKey": token})).tenant == "acme"


async def test_jwts_are_told_apart_from_api_keys(authenticator: CredentialAuthenticator) -> None:
    claims = {"sub": "svc", "tenant": "acme", "roles": "writer", "exp": int(time.time()) + 60}
    token = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET))
    principal = await authenticator.authenticate(connection(authorization=f"Bearer {token}"))
    assert (principal.kind, principal.roles) == ("jwt", {"writer"})


async def test_refusals_are_unauthenticated_and_audited_without_the_secret(
    graph: MemoryGraph, authenticator: CredentialAuthenticator
) -> None:
    token = await reader_token(graph)
    wrong = token[:-6] + "xxxxxx"
    attempts = [
        connection(),
        connection(authorization=f"Bearer {wrong}"),
        connection(authorization="Bearer not-a-jwt"),
        connection(authorization=f"Basic {token}"),
    ]
    for request in attempts:
        with pytest.raises(Unauthenticated):
            await authenticator.authenticate(request)
    records = await graph.audit.read("home")
    assert [r.event.action for r in records] == ["auth.failed"] * len(attempts)
    assert {r.event.detail["credential"] for r in records} == {"none", "apikey", "jwt"}
    assert all(r.event.actor == "anonymous" for r in records)
    flat = repr(records)
    assert token.split("_")[2][:20] not in flat and wrong[-20:] not in flat


async def test_without_a_jwt_setting_bearer_jwts_are_refused(graph: MemoryGraph) -> None:
    plain = CredentialAuthenticator(graph, "home")
    claims = {"sub": "svc", "tenant": "acme", "exp": int(time.time()) + 60}
    token = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET))
    with pytest.raises(Unauthenticated):
        await plain.authenticate(connection(authorization=f"Bearer {token}"))


async def test_insecure_dev_lets_anonymous_callers_in_as_admin(graph: MemoryGraph) -> None:
    anonymous = Principal("anonymous", "home", frozenset({"admin"}), kind="anonymous")
    dev = CredentialAuthenticator(graph, "home", anonymous=anonymous)
    assert await dev.authenticate(connection()) == anonymous
    with pytest.raises(Unauthenticated):  # presented credentials are still checked
        await dev.authenticate(connection(authorization="Bearer amk_bad"))


async def test_revocation_and_expiry_end_validity(
    graph: MemoryGraph, authenticator: CredentialAuthenticator
) -> None:
    token = await reader_token(graph)
    principal = await authenticator.authenticate(connection(authorization=f"Bearer {token}"))
    assert await authenticator.still_valid(principal)
    assert principal.credential_id is not None
    await graph.apikeys.revoke(Principal.system("acme"), principal.credential_id)
    assert not await authenticator.still_valid(principal)
    claims = {"sub": "svc", "tenant": "acme", "exp": int(time.time()) + 1}
    short = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET))
    from_jwt = await authenticator.authenticate(connection(authorization=f"Bearer {short}"))
    assert await authenticator.still_valid(from_jwt)
    assert from_jwt.expires_at is not None
    expired = replace(from_jwt, expires_at=from_jwt.expires_at.replace(year=2000))
    assert not await authenticator.still_valid(expired)
