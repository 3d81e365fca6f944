"""The embedded audit log: each tenant's hash chain in the ``audit_log`` table.

Appends run in one writer transaction (``BEGIN IMMEDIATE``, so also
serialised against other processes on the file) that reads the tenant's head
from ``audit_chains``, links the new records onto it and moves the head: two
appends can never link onto the same record. Triggers refuse any ``UPDATE``
of a record and any ``DELETE`` that retention has not first covered by moving
the tenant's anchor.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from graph.access.audit import AuditEvent, AuditRecord, ChainBounds, link, utc_key
from graph.adapters.audit_rows import record_from, record_row
from graph.adapters.sqlite.database import SqliteDatabase

_COLUMNS = "seq, tenant, actor, action, at, at_utc, targets, detail, previous_hash, hash"


class SqliteAuditLog:
    """:class:`graph.ports.AuditLog` in the embedded database file."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._open = True
        db.retain()

    async def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        if not events:
            return []
        return await self._db.write(lambda conn: _append(conn, events))

    async def read(
        self, tenant: str, after_seq: int | None, first: int, action: str | None = None
    ) -> list[AuditRecord]:
        def run(conn: sqlite3.Connection) -> list[AuditRecord]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM audit_log WHERE tenant = ? AND seq > ?"
                " AND (? IS NULL OR action = ?) ORDER BY seq LIMIT ?",
                (tenant, after_seq or 0, action, action, max(0, first)),
            ).fetchall()
            return [record_from(row) for row in rows]

        return await self._db.read(run)

    async def bounds(self, tenant: str) -> ChainBounds:
        return await self._db.read(lambda conn: _bounds(conn, tenant))

    async def prune(self, before: datetime) -> int:
        return await self._db.write(lambda conn: _prune(conn, utc_key(before)))

    async def close(self) -> None:
        if self._open:
            self._open = False
            await self._db.release()


def _bounds(conn: sqlite3.Connection, tenant: str) -> ChainBounds:
    row = conn.execute(
        "SELECT anchor_seq, anchor_hash, head_seq, head_hash FROM audit_chains WHERE tenant = ?",
        (tenant,),
    ).fetchone()
    return ChainBounds() if row is None else ChainBounds(*row)


def _next_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    return (0 if row is None else int(row[0])) + 1


def _append(conn: sqlite3.Connection, events: Sequence[AuditEvent]) -> list[AuditRecord]:
    heads: dict[str, ChainBounds] = {}
    linked: list[AuditRecord] = []
    for event in events:
        head = heads.get(event.tenant) or _bounds(conn, event.tenant)
        record = link(_next_seq(conn), event, head.head_hash)
        row = record_row(record)
        conn.execute(
            f"INSERT INTO audit_log ({_COLUMNS}) VALUES"
            " (:seq, :tenant, :actor, :action, :at, :at_utc, :targets, :detail,"
            " :previous_hash, :hash)",
            row,
        )
        heads[event.tenant] = replace(head, head_seq=record.seq, head_hash=record.hash)
        linked.append(record)
    conn.executemany(
        "INSERT INTO audit_chains (tenant, anchor_seq, anchor_hash, head_seq, head_hash)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET"
        " head_seq = excluded.head_seq, head_hash = excluded.head_hash",
        [
            (tenant, b.anchor_seq, b.anchor_hash, b.head_seq, b.head_hash)
            for tenant, b in heads.items()
        ],
    )
    return linked


def _prune(conn: sqlite3.Connection, cutoff: str) -> int:
    """Per tenant: move the anchor to the last record before the first one
    at or after ``cutoff``, then delete up to the anchor."""
    dropped = 0
    tenants = [row[0] for row in conn.execute("SELECT tenant FROM audit_chains")]
    for tenant in tenants:
        kept_from = conn.execute(
            "SELECT MIN(seq) FROM audit_log WHERE tenant = ? AND at_utc >= ?", (tenant, cutoff)
        ).fetchone()[0]
        last_gone = conn.execute(
            "SELECT seq, hash FROM audit_log WHERE tenant = ? AND seq < ?"
            " ORDER BY seq DESC LIMIT 1",
            (tenant, kept_from if kept_from is not None else 2**62),
        ).fetchone()
        if last_gone is None:
            continue
        conn.execute(
            "UPDATE audit_chains SET anchor_seq = ?, anchor_hash = ? WHERE tenant = ?",
            (last_gone[0], last_gone[1], tenant),
        )
        dropped += conn.execute(
            "DELETE FROM audit_log WHERE tenant = ? AND seq <= ?", (tenant, last_gone[0])
        ).rowcount
    return dropped
