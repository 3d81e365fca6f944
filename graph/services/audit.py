"""Recording and reading the audit trail.

Every mutation, authentication failure and PII unmasking is recorded with
who (the principal's subject), what (a dotted action name), when, and which
ids. Details are small non-personal strings: never content, never PII.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from graph.access.audit import AuditEvent, AuditRecord, targets
from graph.access.principal import Principal
from graph.ports import AuditLog


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

    async def read(
        self, tenant: str, after_seq: int | None = None, first: int = 100
    ) -> list[AuditRecord]:
        return await self._log.read(tenant, after_seq, first)
