"""AuditLog behaviour that every backend set must show: one hash chain per
tenant, kept across restarts, unforkable under concurrent appends, and
tampering (done directly in the database, as an intruder would) detected."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from neo4j import AsyncGraphDatabase

from graph.access.audit import GENESIS, AuditEvent
from graph.adapters.sets import DATABASE_FILE
from graph.adapters.sqlite.audit import SqliteAuditLog
from graph.adapters.sqlite.database import SqliteDatabase
from graph.ports import AuditLog, Backends
from graph.services.audit import AuditService
from tests.conftest import neo4j_settings
from tests.support import BackendFactory

A = "tenant-a"
B = "tenant-b"
START = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def event(
    n: int, tenant: str = A, action: str = "memory.add", at: datetime | None = None
) -> AuditEvent:
    return AuditEvent(
        tenant=tenant,
        actor=f"apikey:k{n % 3}",
        action=action,
        at=at or START + timedelta(seconds=n),
        target_ids=(f"mem_{n}", f"mem_{n + 1}"),
        detail={"outcome": "ok", "count": str(n)},
    )


@pytest.fixture
def log(backends: Backends) -> AuditLog:
    return backends.audit


async def test_appends_link_each_tenant_into_its_own_chain(log: AuditLog) -> None:
    records = await log.append([event(0), event(1, B), event(2), event(3, B)])
    a = await log.read(A, None, 10)
    b = await log.read(B, None, 10)
    assert [r.event.detail["count"] for r in a] == ["0", "2"]
    assert [r.event.detail["count"] for r in b] == ["1", "3"]
    assert a[0].previous_hash == GENESIS and a[1].previous_hash == a[0].hash
    assert b[1].previous_hash == b[0].hash
    assert a == [records[0], records[2]]
    assert a[0].event == event(0)


async def test_reads_page_by_seq_and_filter_by_action(log: AuditLog) -> None:
    await log.append([event(n, action="memory.add" if n % 2 else "agent.create") for n in range(7)])
    first = await log.read(A, None, 3)
    rest = await log.read(A, first[-1].seq, 10)
    assert len(first) == 3 and len(rest) == 4
    assert [r.seq for r in first + rest] == sorted({r.seq for r in first + rest})
    adds = await log.read(A, None, 10, action="memory.add")
    assert [r.event.detail["count"] for r in adds] == ["1", "3", "5"]
    assert await log.read("nobody", None, 10) == []


async def test_verify_checks_the_whole_chain_across_restarts(
    backend_factory: BackendFactory,
) -> None:
    backends = await backend_factory()
    for n in range(5):
        await backends.audit.append([event(2 * n), event(2 * n + 1)])
    await backends.close()
    reopened = await backend_factory()
    service = AuditService(reopened.audit)
    await reopened.audit.append([event(99)])
    result = await service.verify(A, page=4)
    assert (result.ok, result.checked, result.first_broken_seq) == (True, 11, None)
    assert (await service.verify("nobody")).ok


async def test_concurrent_appends_keep_one_chain(log: AuditLog) -> None:
    await asyncio.gather(*(log.append([event(n), event(n + 100)]) for n in range(25)))
    result = await AuditService(log).verify(A)
    assert (result.ok, result.checked) == (True, 50)
    records = await log.read(A, None, 100)
    assert len({r.previous_hash for r in records}) == 50


async def test_a_batch_lands_whole_or_not_at_all(log: AuditLog) -> None:
    bad = AuditEvent(A, "x", "memory.add", START, detail={"n": object()})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        await log.append([event(0), bad])
    assert await log.read(A, None, 10) == []
    assert (await AuditService(log).verify(A)).ok


async def test_retention_prunes_the_oldest_and_the_rest_still_verifies(log: AuditLog) -> None:
    await log.append([event(n, at=START + timedelta(days=n)) for n in range(6)])
    await log.append([event(n, B, at=START + timedelta(days=n)) for n in range(2)])
    dropped = await log.prune(START + timedelta(days=3, hours=1))
    assert dropped == 4 + 2
    kept = await log.read(A, None, 10)
    assert [r.event.detail["count"] for r in kept] == ["4", "5"]
    bounds = await log.bounds(A)
    assert bounds.anchor_hash == kept[0].previous_hash
    await log.append([event(6, at=START + timedelta(days=6))])
    service = AuditService(log)
    assert await service.verify(A) == await service.verify(A)
    result = await service.verify(A)
    assert (result.ok, result.checked) == (True, 3)
    assert (await service.verify(B)).ok
    assert await log.prune(START) == 0


# -- tampering, done behind the adapter's back --------------------------------------------


async def tamper(backend_name: str, data_dir: Path, statement: str, seq: int) -> None:
    """Run an intruder's statement on tenant A's record ``seq``."""
    if "neo4j" in backend_name or backend_name == "production":
        settings = neo4j_settings()
        driver = AsyncGraphDatabase.driver(settings.uri, auth=(settings.user, settings.password))
        try:
            await driver.execute_query(
                f"MATCH (r:AuditRecord {{tenant: $tenant, seq: $seq}}) {statement}",
                tenant=A,
                seq=seq,
                database_=settings.database,
            )
        finally:
            await driver.close()
        return
    conn = sqlite3.connect(data_dir / DATABASE_FILE)
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_early_delete")
        sql = {
            "SET r.action = 'memory.read'": "UPDATE audit_log SET action = 'memory.read'",
            "DELETE r": "DELETE FROM audit_log",
        }[statement]
        conn.execute(f"{sql} WHERE tenant = ? AND seq = ?", (A, seq))
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("statement", "position", "reported"),
    [
        ("SET r.action = 'memory.read'", 2, 2),  # a changed record fails its own hash
        ("DELETE r", 2, 3),  # a removed one breaks the link of the next
        ("DELETE r", 4, 4),  # removing the last one shows against the head
    ],
)
async def test_tampering_is_reported_at_the_broken_record(
    backend_factory: BackendFactory,
    backend_name: str,
    tmp_path: Path,
    statement: str,
    position: int,
    reported: int,
) -> None:
    backends = await backend_factory()
    records = await backends.audit.append([event(n) for n in range(5)])
    await backends.close()
    seqs = [r.seq for r in records]
    await tamper(backend_name, tmp_path / "data", statement, seqs[position])
    reopened = await backend_factory()
    result = await AuditService(reopened.audit).verify(A)
    assert (result.ok, result.first_broken_seq) == (False, seqs[reported])
    assert result.checked == min(position, reported)


# -- the embedded log in particular -------------------------------------------------------


async def test_sqlite_refuses_to_update_or_delete_unpruned_records(tmp_path: Path) -> None:
    db = await SqliteDatabase.open(tmp_path / DATABASE_FILE)
    log = SqliteAuditLog(db)
    try:
        [record] = await log.append([event(0)])

        def update(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE audit_log SET actor = 'someone' WHERE seq = ?", (record.seq,))

        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM audit_log WHERE seq = ?", (record.seq,))

        for change in (update, delete):
            with pytest.raises(sqlite3.IntegrityError):
                await db.write(change)
        assert await log.read(A, None, 5) == [record]
    finally:
        await log.close()


async def test_sqlite_appends_from_two_processes_keep_one_chain(tmp_path: Path) -> None:
    """Two databases on one file stand in for two processes: each has its own
    writer connection, so only SQLite's file lock orders their appends."""
    logs = [SqliteAuditLog(await SqliteDatabase.open(tmp_path / DATABASE_FILE)) for _ in range(2)]
    try:
        await asyncio.gather(*(logs[n % 2].append([event(n), event(n + 50)]) for n in range(40)))
        result = await AuditService(logs[0]).verify(A)
        assert (result.ok, result.checked) == (True, 80)
    finally:
        for log in logs:
            await log.close()
