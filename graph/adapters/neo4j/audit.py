"""The Neo4j audit log: ``:AuditRecord`` nodes chained per tenant.

Each tenant has one ``:AuditHead`` node holding the chain's head (last seq
and hash) and anchor (the last record retention removed). An append first
writes to the head of every tenant it touches, in tenant order, which takes
the head's write lock for the rest of the transaction; only then does it read
the head, link the new records onto it and move the head. A concurrent
append to the same tenant waits for that lock, so the chain cannot fork.
Sequence numbers count per tenant.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from itertools import groupby
from typing import Any

from neo4j import AsyncDriver, AsyncManagedTransaction

from graph.access.audit import GENESIS, AuditEvent, AuditRecord, ChainBounds, link, utc_key
from graph.adapters.audit_rows import record_from, record_row
from graph.adapters.neo4j.runner import Neo4jRunner, Neo4jSettings, run_records

PRUNE_BATCH = 5_000
"""Records deleted per transaction when retention removes many."""

_LOCK_HEAD = (
    "MERGE (h:AuditHead {tenant: $tenant})"
    " ON CREATE SET h.anchor_seq = 0, h.anchor_hash = $genesis,"
    " h.head_seq = 0, h.head_hash = $genesis"
    " SET h.locked = true"
    " RETURN h.anchor_seq AS anchor_seq, h.anchor_hash AS anchor_hash,"
    " h.head_seq AS head_seq, h.head_hash AS head_hash"
)

_INSERT = (
    "UNWIND $rows AS row CREATE (r:AuditRecord) SET r = row"
    " WITH count(r) AS n"
    " MATCH (h:AuditHead {tenant: $tenant})"
    " SET h.head_seq = $head_seq, h.head_hash = $head_hash"
)

_READ = (
    "OPTIONAL MATCH (h:AuditHead {tenant: $tenant})"
    " WITH coalesce(h.anchor_seq, 0) AS anchor"
    " MATCH (r:AuditRecord) WHERE r.tenant = $tenant"
    " AND r.seq > CASE WHEN $after > anchor THEN $after ELSE anchor END"
    " AND ($action IS NULL OR r.action = $action)"
    " RETURN r {.*} AS r ORDER BY r.seq LIMIT $first"
)

_BOUNDS = (
    "MATCH (h:AuditHead {tenant: $tenant})"
    " RETURN h.anchor_seq AS anchor_seq, h.anchor_hash AS anchor_hash,"
    " h.head_seq AS head_seq, h.head_hash AS head_hash"
)

_LAST_BEFORE_CUTOFF = (
    "OPTIONAL MATCH (k:AuditRecord) WHERE k.tenant = $tenant AND k.at_utc >= $cutoff"
    " WITH min(k.seq) AS kept_from"
    " MATCH (r:AuditRecord) WHERE r.tenant = $tenant AND r.seq > $anchor"
    " AND (kept_from IS NULL OR r.seq < kept_from)"
    " RETURN r.seq AS seq, r.hash AS hash ORDER BY r.seq DESC LIMIT 1"
)

_MOVE_ANCHOR = (
    "MATCH (h:AuditHead {tenant: $tenant}) SET h.anchor_seq = $seq, h.anchor_hash = $hash"
)

_DELETE_PRUNED = (
    "MATCH (h:AuditHead)"
    " MATCH (r:AuditRecord) WHERE r.tenant = h.tenant AND r.seq <= h.anchor_seq"
    " WITH r LIMIT $batch DELETE r RETURN count(*) AS n"
)


def _bounds_from(record: Any) -> ChainBounds:
    return ChainBounds(
        int(record["anchor_seq"]),
        str(record["anchor_hash"]),
        int(record["head_seq"]),
        str(record["head_hash"]),
    )


class Neo4jAuditLog(Neo4jRunner):
    """:class:`graph.ports.AuditLog` on Neo4j, sharing the graph store's
    driver (the store closes it)."""

    @classmethod
    def sharing(cls, store: Neo4jRunner) -> Neo4jAuditLog:
        return cls(store._driver, store._settings)

    def __init__(self, driver: AsyncDriver, settings: Neo4jSettings) -> None:
        super().__init__(driver, settings)

    async def append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        if not events:
            return []

        async def work(tx: AsyncManagedTransaction) -> list[AuditRecord]:
            heads: dict[str, ChainBounds] = {}
            for tenant in sorted({event.tenant for event in events}):
                [row] = await run_records(tx, (_LOCK_HEAD, {"tenant": tenant, "genesis": GENESIS}))
                heads[tenant] = _bounds_from(row)
            linked: list[AuditRecord] = []
            for event in events:
                head = heads[event.tenant]
                record = link(head.head_seq + 1, event, head.head_hash)
                heads[event.tenant] = replace(head, head_seq=record.seq, head_hash=record.hash)
                linked.append(record)
            by_tenant = sorted(linked, key=lambda r: r.event.tenant)
            for tenant, records in groupby(by_tenant, key=lambda r: r.event.tenant):
                head = heads[tenant]
                params = {
                    "tenant": tenant,
                    "rows": [record_row(r) for r in records],
                    "head_seq": head.head_seq,
                    "head_hash": head.head_hash,
                }
                await run_records(tx, (_INSERT, params))
            return linked

        return await self._transact(True, work)

    async def read(
        self, tenant: str, after_seq: int | None, first: int, action: str | None = None
    ) -> list[AuditRecord]:
        params = {"tenant": tenant, "after": after_seq or 0, "action": action, "first": first}

        async def work(tx: AsyncManagedTransaction) -> list[AuditRecord]:
            return [record_from(row["r"]) for row in await run_records(tx, (_READ, params))]

        return await self._transact(False, work)

    async def bounds(self, tenant: str) -> ChainBounds:
        async def work(tx: AsyncManagedTransaction) -> ChainBounds:
            rows = await run_records(tx, (_BOUNDS, {"tenant": tenant}))
            return _bounds_from(rows[0]) if rows else ChainBounds()

        return await self._transact(False, work)

    async def prune(self, before: datetime) -> int:
        """Move every tenant's anchor (one transaction each, under the head's
        lock), then delete the covered records in batches."""
        cutoff = utc_key(before)

        async def tenants(tx: AsyncManagedTransaction) -> list[str]:
            rows = await run_records(tx, ("MATCH (h:AuditHead) RETURN h.tenant AS t", {}))
            return [str(row["t"]) for row in rows]

        for tenant in await self._transact(False, tenants):
            move = functools.partial(_move_anchor, tenant=tenant, cutoff=cutoff)
            await self._transact(True, move)
        dropped = 0
        while True:
            rows = await self._write((_DELETE_PRUNED, {"batch": PRUNE_BATCH}))
            deleted = int(rows[0]["n"]) if rows else 0
            dropped += deleted
            if deleted < PRUNE_BATCH:
                return dropped

    async def close(self) -> None:
        """Nothing to close: the graph store owns the driver."""


async def _move_anchor(tx: AsyncManagedTransaction, tenant: str, cutoff: str) -> None:
    [head] = await run_records(tx, (_LOCK_HEAD, {"tenant": tenant, "genesis": GENESIS}))
    params = {"tenant": tenant, "cutoff": cutoff, "anchor": int(head["anchor_seq"])}
    rows = await run_records(tx, (_LAST_BEFORE_CUTOFF, params))
    if rows:
        params = {"tenant": tenant, "seq": rows[0]["seq"], "hash": rows[0]["hash"]}
        await run_records(tx, (_MOVE_ANCHOR, params))
