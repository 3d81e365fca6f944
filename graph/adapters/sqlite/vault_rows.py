"""Raw vault rows of the embedded store, for key rotation
(:class:`graph.vault.rotation.VaultRows`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from graph.adapters.sqlite.database import SqliteDatabase
from graph.vault.rotation import VaultRewrite, VaultRow

_ROWS = """
SELECT tenant, memory_id, version, is_current, content FROM (
    SELECT m.tenant, m.id AS memory_id, m.version, 1 AS is_current, m.content
    FROM memories m WHERE m.type = 'KNOWLEDGE_VAULT'
    UNION ALL
    SELECT v.tenant, v.memory_id, v.version, 0 AS is_current, v.content
    FROM memory_versions v JOIN memories m ON m.id = v.memory_id
    WHERE m.type = 'KNOWLEDGE_VAULT'
)
WHERE (memory_id, version, is_current) > (?, ?, ?)
ORDER BY memory_id, version, is_current
LIMIT ?
"""


class SqliteVaultRows:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def vault_rows(self, after: tuple[str, int, bool] | None, limit: int) -> list[VaultRow]:
        memory_id, version, current = after or ("", -1, True)

        def run(conn: sqlite3.Connection) -> list[VaultRow]:
            rows = conn.execute(_ROWS, (memory_id, version, int(current), limit)).fetchall()
            return [VaultRow(r[0], r[1], int(r[2]), bool(r[3]), r[4]) for r in rows]

        return await self._db.read(run)

    async def rewrite_vault_rows(self, rewrites: Sequence[VaultRewrite]) -> int:
        def run(conn: sqlite3.Connection) -> int:
            applied = 0
            for rewrite in rewrites:
                row = rewrite.row
                if row.current:
                    sql = (
                        "UPDATE memories SET content = ?, content_hash = ?"
                        " WHERE id = ? AND version = ? AND content = ?"
                    )
                else:
                    sql = (
                        "UPDATE memory_versions SET content = ?, content_hash = ?"
                        " WHERE memory_id = ? AND version = ? AND content = ?"
                    )
                params = (rewrite.content, rewrite.content_hash, row.memory_id, row.version)
                applied += conn.execute(sql, (*params, row.content)).rowcount
            return applied

        return await self._db.write(run)
