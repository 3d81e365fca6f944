"""The ApiKeyStore contract, run against every backend set through ``backends``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graph.access.apikeys import ApiKey, hash_secret
from graph.errors import NotFound
from graph.ports import Backends
from tests.support import BackendFactory

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def key(key_id: str, tenant: str = "t1", at: datetime = T0, **fields: object) -> ApiKey:
    values: dict[str, object] = {
        "id": key_id,
        "tenant": tenant,
        "name": f"key {key_id}",
        "roles": frozenset({"reader"}),
        "secret_hash": hash_secret(f"secret-{key_id}"),
        "created_at": at,
        **fields,
    }
    return ApiKey(**values)  # type: ignore[arg-type]


async def test_a_stored_key_reads_back_field_for_field(backends: Backends) -> None:
    stored = key(
        "a1",
        roles=frozenset({"writer", "reader"}),
        scopes=frozenset({"memories"}),
        agent_id="agt_1",
        user_id="user-7",
        expires_at=T0 + timedelta(days=3),
    )
    await backends.apikeys.insert_api_key(stored)
    assert await backends.apikeys.get_api_key("a1") == stored
    assert await backends.apikeys.get_api_key("missing") is None


async def test_listing_is_per_tenant_newest_first_and_counts_revoked_keys(
    backends: Backends,
) -> None:
    store = backends.apikeys
    for number in range(3):
        await store.insert_api_key(key(f"k{number}", at=T0 + timedelta(minutes=number)))
    await store.insert_api_key(key("other", tenant="t2"))
    await store.revoke_api_key("t1", "k0", T0 + timedelta(hours=1))
    assert [k.id for k in await store.list_api_keys("t1")] == ["k2", "k1", "k0"]
    assert [k.id for k in await store.list_api_keys("t2")] == ["other"]
    assert await store.count_api_keys("t1") == 3
    assert await store.count_api_keys("nobody") == 0


async def test_revoking_keeps_the_first_time_and_respects_the_tenant(backends: Backends) -> None:
    store = backends.apikeys
    await store.insert_api_key(key("r1"))
    first = T0 + timedelta(hours=1)
    assert await store.revoke_api_key("t2", "r1", first) is None
    assert (await store.get_api_key("r1")).revoked_at is None  # type: ignore[union-attr]
    revoked = await store.revoke_api_key("t1", "r1", first)
    assert revoked is not None and revoked.revoked_at == first
    again = await store.revoke_api_key("t1", "r1", first + timedelta(hours=1))
    assert again is not None and again.revoked_at == first
    assert await store.revoke_api_key("t1", "unknown", first) is None


async def test_rotation_stores_the_new_key_and_revokes_the_old_in_one_step(
    backends: Backends,
) -> None:
    store = backends.apikeys
    await store.insert_api_key(key("old"))
    at = T0 + timedelta(days=1)
    await store.insert_api_key(key("new", at=at), replaces="old", at=at)
    old = await store.get_api_key("old")
    assert old is not None and old.revoked_at == at
    assert await store.get_api_key("new") is not None


async def test_rotating_a_revoked_or_foreign_key_stores_nothing(backends: Backends) -> None:
    store = backends.apikeys
    await store.insert_api_key(key("gone"))
    await store.revoke_api_key("t1", "gone", T0)
    await store.insert_api_key(key("theirs", tenant="t2"))
    with pytest.raises(NotFound):
        await store.insert_api_key(key("n1"), replaces="gone", at=T0)
    with pytest.raises(NotFound):
        await store.insert_api_key(key("n2"), replaces="theirs", at=T0)
    assert await store.get_api_key("n1") is None and await store.get_api_key("n2") is None
    theirs = await store.get_api_key("theirs")
    assert theirs is not None and theirs.revoked_at is None


async def test_keys_survive_reopening_the_store(backend_factory: BackendFactory) -> None:
    first = await backend_factory()
    await first.apikeys.insert_api_key(key("durable"))
    await first.close()
    second = await backend_factory()
    assert await second.apikeys.get_api_key("durable") == key("durable")
