"""Raw vault rows of the Neo4j store, for key rotation
(:class:`graph.vault.rotation.VaultRows`)."""

from __future__ import annotations

from collections.abc import Sequence

from neo4j import AsyncManagedTransaction

from graph.adapters.neo4j.runner import Neo4jRunner, run_records
from graph.vault.rotation import VaultRewrite, VaultRow

_ROWS = (
    "MATCH (m:Memory) WHERE m.type = 'KNOWLEDGE_VAULT' AND m.id >= $id"
    " CALL {"
    "   WITH m RETURN m.version AS version, 1 AS cur, m.content AS content"
    "   UNION ALL"
    "   WITH m MATCH (m)-[:HAS_VERSION]->(v:MemoryVersion)"
    "   RETURN v.version AS version, 0 AS cur, v.content AS content"
    " }"
    " WITH m, version, cur, content"
    " WHERE m.id > $id"
    " OR (m.id = $id AND (version > $version OR (version = $version AND cur > $cur)))"
    " RETURN m.tenant AS tenant, m.id AS memory_id, version, cur, content"
    " ORDER BY memory_id, version, cur LIMIT $limit"
)

# Each rewrite takes the node's write lock before comparing, so the compare
# sees the latest committed content and nothing changes it before the set.
_REWRITE_CURRENT = (
    "UNWIND $rows AS r MATCH (m:Memory {id: r.memory_id})"
    " SET m._lock = true REMOVE m._lock"
    " WITH m, r WHERE m.version = r.version AND m.content = r.old"
    " SET m.content = r.content, m.content_hash = r.hash RETURN count(m) AS n"
)
_REWRITE_VERSIONS = (
    "UNWIND $rows AS r MATCH (v:MemoryVersion {memory_id: r.memory_id, version: r.version})"
    " SET v._lock = true REMOVE v._lock"
    " WITH v, r WHERE v.content = r.old"
    " SET v.content = r.content, v.content_hash = r.hash RETURN count(v) AS n"
)


class Neo4jVaultRows(Neo4jRunner):
    """Shares the graph store's driver (the store closes it)."""

    @classmethod
    def sharing(cls, store: Neo4jRunner) -> Neo4jVaultRows:
        return cls(store._driver, store._settings)

    async def vault_rows(self, after: tuple[str, int, bool] | None, limit: int) -> list[VaultRow]:
        memory_id, version, current = after or ("", -1, True)
        params = {"id": memory_id, "version": version, "cur": int(current), "limit": limit}

        async def work(tx: AsyncManagedTransaction) -> list[VaultRow]:
            rows = await run_records(tx, (_ROWS, params))
            return [
                VaultRow(
                    r["tenant"], r["memory_id"], int(r["version"]), bool(r["cur"]), r["content"]
                )
                for r in rows
            ]

        return await self._transact(False, work)

    async def rewrite_vault_rows(self, rewrites: Sequence[VaultRewrite]) -> int:
        def rows(current: bool) -> list[dict[str, object]]:
            return [
                {
                    "memory_id": w.row.memory_id,
                    "version": w.row.version,
                    "old": w.row.content,
                    "content": w.content,
                    "hash": w.content_hash,
                }
                for w in rewrites
                if w.row.current is current
            ]

        async def work(tx: AsyncManagedTransaction) -> int:
            applied = 0
            for query, current in ((_REWRITE_CURRENT, True), (_REWRITE_VERSIONS, False)):
                params = rows(current)
                if params:
                    [record] = await run_records(tx, (query, {"rows": params}))
                    applied += int(record["n"])
            return applied

        return await self._transact(True, work)
