"""Creating, listing, revoking, rotating and checking API keys.

Who may manage keys is the transport's decision (the ``apikey:admin``
permission); this service keeps the rules every caller shares: a key belongs
to one tenant, its token is returned once, and a key created by a scoped
principal is at most as scoped as its creator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from graph.access.apikeys import (
    ApiKey,
    IssuedKey,
    hash_secret,
    new_secret,
    parse_token,
    secret_matches,
)
from graph.access.principal import Principal
from graph.errors import BadInput, NotFound, Unauthenticated
from graph.ports import ApiKeyStore

MAX_NAME_CHARS = 100
_ROLE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_INVALID_KEY = "The API key is not valid, expired or revoked."


def _now() -> datetime:
    return datetime.now(UTC)


class ApiKeyService:
    def __init__(self, store: ApiKeyStore) -> None:
        self._store = store

    async def create(
        self,
        creator: Principal,
        name: str,
        roles: Iterable[str],
        *,
        scopes: Iterable[str] = (),
        agent_id: str | None = None,
        user_id: str | None = None,
        expires_in: timedelta | None = None,
    ) -> IssuedKey:
        """A new key in the creator's tenant; its token is in the result only."""
        now = _now()
        key_id, secret, token = new_secret()
        key = ApiKey(
            id=key_id,
            tenant=creator.tenant,
            name=_name(name),
            roles=_roles(roles),
            secret_hash=hash_secret(secret),
            created_at=now,
            scopes=frozenset(scopes),
            agent_id=_narrowed("agentId", creator.agent_id, agent_id),
            user_id=_narrowed("userId", creator.user_id, user_id),
            expires_at=None if expires_in is None else now + _positive(expires_in),
        )
        await self._store.insert_api_key(key)
        return IssuedKey(key, token)

    async def list(self, caller: Principal) -> list[ApiKey]:
        """The keys ``caller`` may manage: its tenant's, within its own scope."""
        keys = await self._store.list_api_keys(caller.tenant)
        return [key for key in keys if _manageable(caller, key)]

    async def revoke(self, caller: Principal, key_id: str) -> ApiKey:
        """Revoke a key ``caller`` may manage (again is harmless); ``NOT_FOUND``
        otherwise, alike for keys of other tenants or scopes and unknown ids."""
        key = await self._store.get_api_key(key_id)
        revoked = None
        if key is not None and _manageable(caller, key):
            revoked = await self._store.revoke_api_key(caller.tenant, key_id, _now())
        if revoked is None:
            raise NotFound(f"No API key with id {key_id!r}.", id=key_id)
        return revoked

    async def rotate(self, caller: Principal, key_id: str) -> IssuedKey:
        """A new key with the same name, roles, scope and lifetime; the old one
        is revoked in the same transaction."""
        old = await self._store.get_api_key(key_id)
        if old is None or not _manageable(caller, old) or old.revoked_at is not None:
            raise NotFound(f"No live API key with id {key_id!r}.", id=key_id)
        now = _now()
        new_id, secret, token = new_secret()
        lifetime = None if old.expires_at is None else old.expires_at - old.created_at
        key = replace(
            old,
            id=new_id,
            secret_hash=hash_secret(secret),
            created_at=now,
            expires_at=None if lifetime is None else now + lifetime,
        )
        await self._store.insert_api_key(key, replaces=old.id, at=now)
        return IssuedKey(key, token)

    async def verify(self, token: str) -> Principal:
        """The principal of a presented key; ``UNAUTHENTICATED`` if it is
        malformed, unknown, wrong, expired or revoked (one message for all)."""
        parsed = parse_token(token)
        if parsed is None:
            raise Unauthenticated(_INVALID_KEY)
        key_id, secret = parsed
        key = await self._store.get_api_key(key_id)
        if key is None or not secret_matches(secret, key.secret_hash) or not key.usable_at(_now()):
            raise Unauthenticated(_INVALID_KEY)
        return key.principal()

    async def still_valid(self, principal: Principal) -> bool:
        """Whether the key behind ``principal`` is still neither revoked nor expired."""
        if principal.credential_id is None:
            return True
        key = await self._store.get_api_key(principal.credential_id)
        return key is not None and key.usable_at(_now())

    async def bootstrap(self, tenant: str) -> IssuedKey | None:
        """An admin key for ``tenant`` if it never had a key, else ``None``."""
        if await self._store.count_api_keys(tenant) > 0:
            return None
        return await self.create(Principal.system(tenant), "bootstrap admin", ["admin"])


def _manageable(caller: Principal, key: ApiKey) -> bool:
    """Same tenant, and inside the caller's agent and user scope."""
    return (
        key.tenant == caller.tenant
        and caller.agent_id in (None, key.agent_id)
        and caller.user_id in (None, key.user_id)
    )


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise BadInput(f"A key name needs 1 to {MAX_NAME_CHARS} characters.", field="name")
    return name


def _roles(roles: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(roles)
    if not chosen:
        raise BadInput("A key needs at least one role.", field="roles")
    bad = sorted(role for role in chosen if not _ROLE.match(role))
    if bad:
        raise BadInput(f"Invalid role names: {', '.join(map(repr, bad))}.", field="roles")
    return chosen


def _narrowed(field: str, creator: str | None, requested: str | None) -> str | None:
    """A scoped creator can only make keys inside its own scope."""
    if creator is None:
        return requested
    if requested not in (None, creator):
        raise BadInput(f"A key can be no wider than its creator's {field} scope.", field=field)
    return creator


def _positive(delta: timedelta) -> timedelta:
    if delta <= timedelta(0):
        raise BadInput("A key's lifetime must be positive.", field="expiresIn")
    return delta
