"""API key administration: the ``apiKeys`` query and the ``createApiKey``,
``revokeApiKey`` and ``rotateApiKey`` mutations, for holders of
``apikey:admin`` in their own tenant. A key's token appears only in the
answer of the mutation that created it; hashes never leave the server."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from graph.access import apikeys
from graph.access.policy import APIKEY_ADMIN
from graph.errors import BadInput
from schema.types import Ctx


@strawberry.type(description="An API key, without its secret.")
class ApiKey:
    id: strawberry.ID
    name: str
    roles: list[str]
    scopes: list[str]
    agent_id: strawberry.ID | None
    user_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def wrap(cls, key: apikeys.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(key.id),
            name=key.name,
            roles=sorted(key.roles),
            scopes=sorted(key.scopes),
            agent_id=None if key.agent_id is None else strawberry.ID(key.agent_id),
            user_id=key.user_id,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
        )


@strawberry.type(description="A new key and its token, shown this once.")
class IssuedApiKey:
    key: ApiKey
    token: str = strawberry.field(
        description="The key to send as `Authorization: Bearer <token>`; store it now."
    )

    @classmethod
    def wrap(cls, issued: apikeys.IssuedKey) -> IssuedApiKey:
        return cls(key=ApiKey.wrap(issued.key), token=issued.token)


@strawberry.input
class CreateApiKeyInput:
    name: str
    roles: list[str]
    scopes: list[str] | None = None
    agent_id: strawberry.ID | None = None
    user_id: str | None = None
    expires_in_seconds: int | None = None


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(description="The API keys of the caller's tenant, newest first.")
    async def api_keys(self, info: Ctx) -> list[ApiKey]:
        ctx = info.context
        ctx.policy.require(ctx.principal, APIKEY_ADMIN)
        return [ApiKey.wrap(key) for key in await ctx.graph.apikeys.list(ctx.principal)]


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="Create an API key in the caller's tenant.")
    async def create_api_key(self, info: Ctx, input: CreateApiKeyInput) -> IssuedApiKey:
        ctx = info.context
        ctx.policy.require(ctx.principal, APIKEY_ADMIN)
        unknown = sorted(set(input.roles) - set(ctx.policy.roles))
        if unknown:
            raise BadInput(f"Unknown roles: {', '.join(unknown)}.", field="roles")
        seconds = input.expires_in_seconds
        issued = await ctx.graph.apikeys.create(
            ctx.principal,
            input.name,
            input.roles,
            scopes=input.scopes or (),
            agent_id=None if input.agent_id is None else str(input.agent_id),
            user_id=input.user_id,
            expires_in=None if seconds is None else timedelta(seconds=seconds),
        )
        await ctx.graph.audit.record(ctx.principal, "apikey.create", [issued.key.id])
        return IssuedApiKey.wrap(issued)

    @strawberry.mutation(description="Revoke a key now; requests and live subscriptions stop.")
    async def revoke_api_key(self, info: Ctx, id: strawberry.ID) -> ApiKey:
        ctx = info.context
        ctx.policy.require(ctx.principal, APIKEY_ADMIN)
        key = await ctx.graph.apikeys.revoke(ctx.principal, str(id))
        await ctx.graph.audit.record(ctx.principal, "apikey.revoke", [key.id])
        return ApiKey.wrap(key)

    @strawberry.mutation(description="Replace a key with a new one like it; the old is revoked.")
    async def rotate_api_key(self, info: Ctx, id: strawberry.ID) -> IssuedApiKey:
        ctx = info.context
        ctx.policy.require(ctx.principal, APIKEY_ADMIN)
        issued = await ctx.graph.apikeys.rotate(ctx.principal, str(id))
        await ctx.graph.audit.record(ctx.principal, "apikey.rotate", [str(id), issued.key.id])
        return IssuedApiKey.wrap(issued)
