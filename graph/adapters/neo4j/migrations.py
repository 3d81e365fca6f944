"""The Neo4j schema as an ordered list of versioned, idempotent migrations.

Each applied migration is recorded in the graph as
``(:SchemaMigration {version, description, applied_at})``. Every statement is
a schema command with ``IF NOT EXISTS``, so re-running a migration (after a
crash between its statements and its record, or from two processes at once)
is harmless. Append new migrations at the end; never edit one that has shipped.

Neo4j runs schema commands in transactions of their own (they cannot share
one with data writes), so a migration is its statements, one auto-commit
transaction each, followed by its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from neo4j import AsyncDriver

from graph.adapters.neo4j.cypher import FULLTEXT_INDEX

INDEX_WAIT_SECONDS: Final = 300
"""How long :func:`apply_migrations` waits for new indexes to come online."""


class SchemaTooNew(RuntimeError):
    """The graph was migrated by a newer version of this program."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


_BOOTSTRAP: Final = (
    "CREATE CONSTRAINT schema_migration_version IF NOT EXISTS"
    " FOR (s:SchemaMigration) REQUIRE s.version IS UNIQUE"
)

_UNIQUE: Final = (
    # Ids are global (the prefix names the kind): one constraint finds any node.
    "CREATE CONSTRAINT node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT agent_id IF NOT EXISTS FOR (a:Agent) REQUIRE a.id IS UNIQUE",
    "CREATE CONSTRAINT memory_id IF NOT EXISTS FOR (m:Memory) REQUIRE m.id IS UNIQUE",
    "CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT fact_id IF NOT EXISTS FOR (f:Fact) REQUIRE f.id IS UNIQUE",
    "CREATE CONSTRAINT memory_version_key IF NOT EXISTS"
    " FOR (v:MemoryVersion) REQUIRE (v.memory_id, v.version) IS UNIQUE",
    "CREATE CONSTRAINT entity_name IF NOT EXISTS"
    " FOR (e:Entity) REQUIRE (e.tenant, e.kind, e.norm_name) IS UNIQUE",
    "CREATE CONSTRAINT relation_id IF NOT EXISTS FOR ()-[r:RELATES]-() REQUIRE r.id IS UNIQUE",
    "CREATE CONSTRAINT outbox_seq IF NOT EXISTS FOR (e:OutboxEntry) REQUIRE e.seq IS UNIQUE",
    "CREATE CONSTRAINT counter_name IF NOT EXISTS FOR (c:Counter) REQUIRE c.name IS UNIQUE",
)

_RANGE: Final = (
    # Keyset listings: equality on the leading properties, range + order on created_at.
    "CREATE INDEX agent_tenant_created IF NOT EXISTS FOR (a:Agent) ON (a.tenant, a.created_at)",
    "CREATE INDEX memory_tenant_created IF NOT EXISTS FOR (m:Memory) ON (m.tenant, m.created_at)",
    "CREATE INDEX memory_tenant_agent_created IF NOT EXISTS"
    " FOR (m:Memory) ON (m.tenant, m.agent_id, m.created_at)",
    "CREATE INDEX memory_tenant_user_created IF NOT EXISTS"
    " FOR (m:Memory) ON (m.tenant, m.user_id, m.created_at)",
    "CREATE INDEX memory_tenant_session_created IF NOT EXISTS"
    " FOR (m:Memory) ON (m.tenant, m.session_id, m.created_at)",
    "CREATE INDEX memory_tenant_hash IF NOT EXISTS FOR (m:Memory) ON (m.tenant, m.content_hash)",
    "CREATE INDEX entity_tenant_name IF NOT EXISTS FOR (e:Entity) ON (e.tenant, e.norm_name)",
    "CREATE INDEX fact_tenant_subject IF NOT EXISTS FOR (f:Fact) ON (f.tenant, f.subject_id)",
    "CREATE INDEX fact_tenant_object IF NOT EXISTS FOR (f:Fact) ON (f.tenant, f.object_id)",
    "CREATE INDEX relation_type IF NOT EXISTS FOR ()-[r:RELATES]-() ON (r.type)",
    "CREATE INDEX relation_tenant_created IF NOT EXISTS"
    " FOR ()-[r:RELATES]-() ON (r.tenant, r.created_at)",
)

_FULLTEXT: Final = (
    f"CREATE FULLTEXT INDEX {FULLTEXT_INDEX} IF NOT EXISTS FOR (m:Memory) ON EACH [m.content]",
)

_API_KEYS: Final = (
    "CREATE CONSTRAINT api_key_id IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.id IS UNIQUE",
    "CREATE INDEX api_key_tenant_created IF NOT EXISTS FOR (k:ApiKey) ON (k.tenant, k.created_at)",
)

_AUDIT: Final = (
    "CREATE CONSTRAINT audit_record_key IF NOT EXISTS"
    " FOR (r:AuditRecord) REQUIRE (r.tenant, r.seq) IS UNIQUE",
    "CREATE CONSTRAINT audit_head_tenant IF NOT EXISTS"
    " FOR (h:AuditHead) REQUIRE h.tenant IS UNIQUE",
    "CREATE INDEX audit_record_action IF NOT EXISTS"
    " FOR (r:AuditRecord) ON (r.tenant, r.action, r.seq)",
    "CREATE INDEX audit_record_time IF NOT EXISTS FOR (r:AuditRecord) ON (r.tenant, r.at_utc)",
)

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "uniqueness constraints for ids, entity names and the outbox", _UNIQUE),
    Migration(2, "range indexes for filters, keyset cursors and relation types", _RANGE),
    Migration(3, "fulltext index on memory content for the keyword fallback", _FULLTEXT),
    Migration(4, "API keys: unique ids, listing by tenant", _API_KEYS),
    Migration(5, "hash-chained audit records and one chain head per tenant", _AUDIT),
)
"""In the order they apply."""


async def _run(driver: AsyncDriver, database: str | None, query: str) -> list[int]:
    async with driver.session(database=database) as session:
        result = await session.run(query)
        return [int(record[0]) for record in await result.values()]


async def applied_versions(driver: AsyncDriver, database: str | None = None) -> list[int]:
    """The versions recorded as applied, ascending."""
    return await _run(
        driver,
        database,
        "MATCH (s:SchemaMigration) RETURN s.version AS version ORDER BY version",
    )


async def apply_migrations(driver: AsyncDriver, database: str | None = None) -> list[int]:
    """Apply the pending migrations in order and wait for their indexes to
    come online; returns the versions applied now. Idempotent."""
    await _run(driver, database, _BOOTSTRAP)
    applied = set(await applied_versions(driver, database))
    known = {m.version for m in MIGRATIONS}
    if applied - known:
        raise SchemaTooNew(
            f"The graph has schema versions {sorted(applied - known)} that this program "
            "does not know; use a newer version of the program."
        )
    done: list[int] = []
    for migration in MIGRATIONS:
        if migration.version in applied:
            continue
        for statement in migration.statements:
            await _run(driver, database, statement)
        async with driver.session(database=database) as session:
            result = await session.run(
                "MERGE (s:SchemaMigration {version: $version})"
                " ON CREATE SET s.description = $description, s.applied_at = datetime()",
                version=migration.version,
                description=migration.description,
            )
            await result.consume()
        done.append(migration.version)
    if done:
        async with driver.session(database=database) as session:
            result = await session.run("CALL db.awaitIndexes($seconds)", seconds=INDEX_WAIT_SECONDS)
            await result.consume()
    return done
