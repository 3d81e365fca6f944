"""API keys in the embedded SQLite file (table ``api_keys``, migration 4)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from graph.access.apikeys import ApiKey
from graph.adapters.sqlite.codec import to_db_time, to_db_time_opt
from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.store_rows import READ
from graph.errors import NotFound

_COLUMNS = (
    "id, tenant, name, roles, scopes, agent_id, user_id, secret_hash,"
    " created_at, expires_at, revoked_at"
)


class SqliteApiKeyStore:
    """:class:`graph.ports.ApiKeyStore` on the shared :class:`SqliteDatabase`."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._open = True
        db.retain()

    async def insert_api_key(
        self, key: ApiKey, replaces: str | None = None, at: datetime | None = None
    ) -> None:
        def work(conn: sqlite3.Connection) -> None:
            if replaces is not None:
                revoked = conn.execute(
                    "UPDATE api_keys SET revoked_at = ?"
                    " WHERE tenant = ? AND id = ? AND revoked_at IS NULL",
                    (to_db_time(at or datetime.now(UTC)), key.tenant, replaces),
                ).rowcount
                if revoked != 1:
                    raise NotFound(f"No live API key with id {replaces!r}.", id=replaces)
            conn.execute(
                f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.tenant,
                    key.name,
                    json.dumps(sorted(key.roles)),
                    json.dumps(sorted(key.scopes)),
                    key.agent_id,
                    key.user_id,
                    key.secret_hash,
                    to_db_time(key.created_at),
                    to_db_time_opt(key.expires_at),
                    to_db_time_opt(key.revoked_at),
                ),
            )

        await self._db.write(work)

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        def work(conn: sqlite3.Connection) -> ApiKey | None:
            row = conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
            found = row.fetchone()
            return None if found is None else READ.api_key(found)

        return await self._db.read(work)

    async def list_api_keys(self, tenant: str) -> list[ApiKey]:
        def work(conn: sqlite3.Connection) -> list[ApiKey]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE tenant = ?"
                " ORDER BY created_at DESC, id DESC",
                (tenant,),
            )
            return [READ.api_key(row) for row in rows]

        return await self._db.read(work)

    async def revoke_api_key(self, tenant: str, key_id: str, at: datetime) -> ApiKey | None:
        def work(conn: sqlite3.Connection) -> ApiKey | None:
            conn.execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?)"
                " WHERE tenant = ? AND id = ?",
                (to_db_time(at), tenant, key_id),
            )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE tenant = ? AND id = ?", (tenant, key_id)
            ).fetchone()
            return None if row is None else READ.api_key(row)

        return await self._db.write(work)

    async def count_api_keys(self, tenant: str) -> int:
        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT count(*) FROM api_keys WHERE tenant = ?", (tenant,))
            return int(row.fetchone()[0])

        return await self._db.read(work)

    async def close(self) -> None:
        if self._open:
            self._open = False
            await self._db.release()
