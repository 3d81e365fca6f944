"""Recording and reading the audit trail.

Every mutation, authentication failure and PII unmasking is recorded with
who (the principal's subject), what (a dotted action name), when, and which
ids. Details are small non-personal strings: never content, never PII.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from graph.access.audit import (
    AuditEvent,
    AuditRecord,
    ChainVerification,
    targets,
    verify_chain,
)
from graph.access.principal import Principal
from graph.ports import AuditLog

log = logging.getLogger("agentmem.audit")

RETENTION_INTERVAL_SECONDS = 3600.0
"""How often a serving process prunes records past the retention period."""

VERIFY_PAGE = 1000
"""Records read per round trip while verifying a chain."""


class AuditService:
    def __init__(self, log: AuditLog) -> None:
        self._log = log

    async def record(
        self,
        principal: Principal,
        action: str,
        target_ids: Sequence[str] = (),
        **detail: str,
    ) -> AuditRecord:
        event = AuditEvent(
            tenant=principal.tenant,
            actor=principal.subject,
            action=action,
            at=datetime.now(UTC),
            target_ids=targets(target_ids),
            detail=detail,
        )
        (record,) = await self._log.append([event])
        return record

    async def record_many(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        """Append several events in one call (one store transaction)."""
        return await self._log.append(events)

    async def read(
        self,
        tenant: str,
        after_seq: int | None = None,
        first: int = 100,
        action: str | None = None,
    ) -> list[AuditRecord]:
        return await self._log.read(tenant, after_seq, first, action)

    async def verify(self, tenant: str, page: int = VERIFY_PAGE) -> ChainVerification:
        """Check ``tenant``'s chain from its anchor to its head, page by page."""
        bounds = await self._log.bounds(tenant)
        previous, after, checked = bounds.anchor_hash, bounds.anchor_seq, 0
        while True:
            records = await self._log.read(tenant, after, page)
            broken = verify_chain(records, previous)
            if broken is not None:
                good = sum(1 for r in records if r.seq < broken)
                return ChainVerification(False, checked + good, broken)
            if not records:
                break
            checked += len(records)
            previous, after = records[-1].hash, records[-1].seq
        if (after, previous) != (bounds.head_seq, bounds.head_hash):
            # Records were removed from the end: the head names one no longer there.
            return ChainVerification(False, checked, bounds.head_seq)
        return ChainVerification(True, checked)

    async def prune(self, retention_days: float, now: datetime | None = None) -> int:
        """Drop records older than ``retention_days``; the chain stays verifiable."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
        return await self._log.prune(cutoff)

    async def run_retention(
        self, retention_days: float, interval: float = RETENTION_INTERVAL_SECONDS
    ) -> None:
        """Prune now and then every ``interval`` seconds, until cancelled.
        A failed round is logged and retried at the next one."""
        while True:
            try:
                dropped = await self.prune(retention_days)
                if dropped:
                    log.info("audit retention removed %d records", dropped)
            except Exception:
                log.warning("audit retention failed; retrying later", exc_info=True)
            await asyncio.sleep(interval)
