"""API keys in Neo4j: one ``(:ApiKey)`` node per key (migration 4).

The key store shares the graph store's driver; closing it leaves the driver
to the graph store, which owns it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from neo4j import AsyncManagedTransaction

from graph.access.apikeys import ApiKey
from graph.adapters.neo4j.cypher_base import Statement, db_time, db_time_opt, project
from graph.adapters.neo4j.records import READ
from graph.adapters.neo4j.runner import Neo4jRunner, run_records
from graph.errors import NotFound

_KEY: Final = project(
    "k",
    "id tenant name roles scopes agent_id user_id secret_hash",
    "created_at expires_at revoked_at",
)

_INSERT: Final = (
    "CREATE (k:ApiKey {id: $id, tenant: $tenant, name: $name, roles: $roles, scopes: $scopes,"
    " agent_id: $agent_id, user_id: $user_id, secret_hash: $secret_hash,"
    " created_at: $created_at, expires_at: $expires_at, revoked_at: $revoked_at})"
)


class Neo4jApiKeyStore(Neo4jRunner):
    """:class:`graph.ports.ApiKeyStore` on Neo4j."""

    @classmethod
    def sharing(cls, runner: Neo4jRunner) -> Neo4jApiKeyStore:
        """A key store on the driver of ``runner`` (the graph store)."""
        return cls(runner._driver, runner._settings)

    async def insert_api_key(
        self, key: ApiKey, replaces: str | None = None, at: datetime | None = None
    ) -> None:
        async def work(tx: AsyncManagedTransaction) -> None:
            if replaces is not None:
                rows = await run_records(
                    tx,
                    (
                        "MATCH (k:ApiKey {id: $id, tenant: $tenant}) WHERE k.revoked_at IS NULL"
                        " SET k.revoked_at = $at RETURN k.id AS id",
                        {"id": replaces, "tenant": key.tenant, "at": db_time(at or _now())},
                    ),
                )
                if not rows:
                    raise NotFound(f"No live API key with id {replaces!r}.", id=replaces)
            await run_records(tx, (_INSERT, _params(key)))

        await self._transact(True, work, f"An API key with id {key.id!r} already exists.")

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        rows = await self._read(
            (f"MATCH (k:ApiKey {{id: $id}}) RETURN collect({_KEY}) AS rows", {"id": key_id})
        )
        return READ.api_key(rows[0]) if rows else None

    async def list_api_keys(self, tenant: str) -> list[ApiKey]:
        rows = await self._read(
            (
                "MATCH (k:ApiKey {tenant: $tenant}) WITH k ORDER BY k.created_at DESC, k.id DESC"
                f" RETURN collect({_KEY}) AS rows",
                {"tenant": tenant},
            )
        )
        return [READ.api_key(row) for row in rows]

    async def revoke_api_key(self, tenant: str, key_id: str, at: datetime) -> ApiKey | None:
        statement: Statement = (
            "MATCH (k:ApiKey {id: $id, tenant: $tenant})"
            " SET k.revoked_at = coalesce(k.revoked_at, $at)"
            f" RETURN {_KEY} AS key",
            {"id": key_id, "tenant": tenant, "at": db_time(at)},
        )
        records = await self._write(statement)
        return READ.api_key(records[0]["key"]) if records else None

    async def count_api_keys(self, tenant: str) -> int:
        rows = await self._read(
            ("MATCH (k:ApiKey {tenant: $tenant}) RETURN [count(k)] AS rows", {"tenant": tenant})
        )
        return int(rows[0])

    async def close(self) -> None:
        """Nothing to do: the graph store closes the shared driver."""


def _now() -> datetime:
    return datetime.now(UTC)


def _params(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "tenant": key.tenant,
        "name": key.name,
        "roles": sorted(key.roles),
        "scopes": sorted(key.scopes),
        "agent_id": key.agent_id,
        "user_id": key.user_id,
        "secret_hash": key.secret_hash,
        "created_at": db_time(key.created_at),
        "expires_at": db_time_opt(key.expires_at),
        "revoked_at": db_time_opt(key.revoked_at),
    }
