"""API key lifecycle through the domain service, on every backend set."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from graph.access.apikeys import hash_secret, parse_token
from graph.access.principal import Principal
from graph.errors import BadInput, NotFound, Unauthenticated
from graph.ports import Backends
from graph.services.apikeys import ApiKeyService

ADMIN = Principal.system("acme")


@pytest.fixture
def service(backends: Backends) -> ApiKeyService:
    return ApiKeyService(backends.apikeys)


async def test_a_created_key_authenticates_as_its_tenant_roles_and_scope(
    service: ApiKeyService, backends: Backends
) -> None:
    issued = await service.create(
        ADMIN, "ci bot", ["writer"], agent_id="agt_x", user_id="u1", scopes=["s"]
    )
    principal = await service.verify(issued.token)
    assert principal.tenant == "acme" and principal.roles == {"writer"}
    assert (principal.agent_id, principal.user_id) == ("agt_x", "u1")
    assert principal.subject == f"apikey:{issued.key.id}"
    assert principal.credential_id == issued.key.id and principal.kind == "apikey"
    parsed = parse_token(issued.token)
    assert parsed is not None
    stored = await backends.apikeys.get_api_key(issued.key.id)
    assert stored is not None and stored.secret_hash == hash_secret(parsed[1])
    assert parsed[1] not in repr(stored)


@pytest.mark.parametrize(
    "token",
    ["", "amk_", "Bearer x", "amk_0123456789abcdef_short", "eyJhbGciOi.x.y"],
)
async def test_malformed_tokens_are_unauthenticated(service: ApiKeyService, token: str) -> None:
    with pytest.raises(Unauthenticated):
        await service.verify(token)


async def test_a_wrong_secret_for_a_real_id_is_unauthenticated(service: ApiKeyService) -> None:
    issued = await service.create(ADMIN, "k", ["reader"])
    forged = issued.token[:-4] + ("AAAA" if not issued.token.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated):
        await service.verify(forged)


async def test_revoked_keys_stop_working_and_stay_listed(service: ApiKeyService) -> None:
    issued = await service.create(ADMIN, "k", ["reader"])
    principal = await service.verify(issued.token)
    revoked = await service.revoke(ADMIN, issued.key.id)
    assert revoked.revoked_at is not None
    assert not await service.still_valid(principal)
    with pytest.raises(Unauthenticated):
        await service.verify(issued.token)
    assert [k.id for k in await service.list(ADMIN)] == [issued.key.id]


async def test_another_tenant_cannot_revoke_or_rotate_a_key(service: ApiKeyService) -> None:
    issued = await service.create(ADMIN, "k", ["reader"])
    other = Principal.system("other")
    with pytest.raises(NotFound):
        await service.revoke(other, issued.key.id)
    with pytest.raises(NotFound):
        await service.rotate(other, issued.key.id)
    assert await service.verify(issued.token)


async def test_rotation_issues_a_like_key_and_retires_the_old(service: ApiKeyService) -> None:
    old = await service.create(ADMIN, "svc", ["writer"], expires_in=timedelta(days=30))
    new = await service.rotate(ADMIN, old.key.id)
    assert new.token != old.token and new.key.id != old.key.id
    assert (new.key.name, new.key.roles, new.key.tenant) == ("svc", {"writer"}, "acme")
    assert new.key.expires_at is not None
    assert new.key.expires_at - new.key.created_at == timedelta(days=30)
    assert (await service.verify(new.token)).credential_id == new.key.id
    with pytest.raises(Unauthenticated):
        await service.verify(old.token)
    with pytest.raises(NotFound):
        await service.rotate(ADMIN, old.key.id)


async def test_an_expired_key_is_unauthenticated(
    service: ApiKeyService, backends: Backends
) -> None:
    issued = await service.create(ADMIN, "short", ["reader"], expires_in=timedelta(hours=1))
    past = issued.key.created_at - timedelta(hours=2)
    expired = replace(issued.key, id="0" * 16, created_at=past, expires_at=past)
    await backends.apikeys.insert_api_key(expired)
    token = f"amk_{'0' * 16}_{issued.token.split('_', 2)[2]}"
    with pytest.raises(Unauthenticated):
        await service.verify(token)
    assert not await service.still_valid(expired.principal())
    assert await service.still_valid(await service.verify(issued.token))


async def test_a_scoped_creator_cannot_mint_a_wider_key(service: ApiKeyService) -> None:
    scoped = Principal("apikey:x", "acme", frozenset({"admin"}), agent_id="agt_a")
    inherited = await service.create(scoped, "child", ["reader"])
    assert inherited.key.agent_id == "agt_a"
    with pytest.raises(BadInput):
        await service.create(scoped, "escape", ["reader"], agent_id="agt_b")


async def test_a_scoped_admin_manages_only_keys_inside_its_scope(service: ApiKeyService) -> None:
    wide = await service.create(ADMIN, "tenant-wide", ["admin"])
    other_agent = await service.create(ADMIN, "b's", ["reader"], agent_id="agt_b")
    own = await service.create(ADMIN, "a's", ["reader"], agent_id="agt_a")
    scoped = Principal("apikey:x", "acme", frozenset({"admin"}), agent_id="agt_a")
    assert [k.id for k in await service.list(scoped)] == [own.key.id]
    for key in (wide, other_agent):
        with pytest.raises(NotFound):
            await service.revoke(scoped, key.key.id)
        with pytest.raises(NotFound):
            await service.rotate(scoped, key.key.id)
        assert await service.verify(key.token)
    assert (await service.revoke(scoped, own.key.id)).revoked_at is not None


@pytest.mark.parametrize(
    ("name", "roles", "expires_in"),
    [
        ("", ["reader"], None),
        ("x" * 101, ["reader"], None),
        ("ok", [], None),
        ("ok", ["Not A Role!"], None),
        ("ok", ["reader"], timedelta(seconds=-1)),
    ],
)
async def test_bad_key_requests_are_refused_and_store_nothing(
    service: ApiKeyService, name: str, roles: list[str], expires_in: timedelta | None
) -> None:
    with pytest.raises(BadInput):
        await service.create(ADMIN, name, roles, expires_in=expires_in)
    assert await service.list(ADMIN) == []


async def test_bootstrap_creates_one_admin_key_per_tenant_only_once(
    service: ApiKeyService,
) -> None:
    first = await service.bootstrap("fresh")
    assert first is not None and first.key.roles == {"admin"}
    assert (await service.verify(first.token)).tenant == "fresh"
    await service.revoke(Principal.system("fresh"), first.key.id)
    assert await service.bootstrap("fresh") is None
