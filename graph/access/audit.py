"""The audit trail's records and their hash chain (pure code).

Each tenant's records form one chain: a record's ``hash`` covers its own
fields and the previous record's hash, so changing or removing any record
breaks every hash after it (:func:`verify_chain` finds where). Stores
append records through :class:`~graph.ports.AuditLog`, linking them inside
their own transaction so concurrent writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

GENESIS = "0" * 64
"""The ``previous_hash`` of a tenant's first record."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, before the store places it in the chain."""

    tenant: str
    actor: str
    """The principal's subject (``apikey:<id>``, a JWT ``sub``, ``system``)."""
    action: str
    """A dotted name: ``memory.add``, ``auth.failed``, ``pii.unmasked``, ..."""
    at: datetime
    target_ids: tuple[str, ...] = ()
    detail: Mapping[str, str] = field(default_factory=dict)
    """Small, non-personal facts about the action (never content, never PII)."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An :class:`AuditEvent` placed in its tenant's chain."""

    seq: int
    event: AuditEvent
    previous_hash: str
    hash: str


def chain_hash(seq: int, event: AuditEvent, previous_hash: str) -> str:
    """The hash of a record: SHA-256 over its canonical JSON and the previous hash."""
    body = json.dumps(
        {
            "seq": seq,
            "tenant": event.tenant,
            "actor": event.actor,
            "action": event.action,
            "at": event.at.isoformat(),
            "targets": list(event.target_ids),
            "detail": dict(sorted(event.detail.items())),
            "previous": previous_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def link(seq: int, event: AuditEvent, previous_hash: str) -> AuditRecord:
    return AuditRecord(seq, event, previous_hash, chain_hash(seq, event, previous_hash))


def verify_chain(records: Iterable[AuditRecord], previous_hash: str = GENESIS) -> int | None:
    """The ``seq`` of the first record that does not match its chain, or ``None``.

    ``records`` are one tenant's records in order; ``previous_hash`` is the
    hash before the first of them (``GENESIS`` from the start).
    """
    for record in records:
        expected = chain_hash(record.seq, record.event, previous_hash)
        if record.previous_hash != previous_hash or record.hash != expected:
            return record.seq
        previous_hash = record.hash
    return None


@dataclass(frozen=True, slots=True)
class ChainBounds:
    """Where a tenant's stored chain starts and ends.

    ``anchor_*`` name the last record removed by retention (``0`` and
    :data:`GENESIS` before any pruning): the first kept record must link to
    ``anchor_hash``. ``head_*`` name the last record appended, so removing
    records from the end of the chain shows too.
    """

    anchor_seq: int = 0
    anchor_hash: str = GENESIS
    head_seq: int = 0
    head_hash: str = GENESIS


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The outcome of checking one tenant's chain from its anchor to its head."""

    ok: bool
    checked: int
    """Records whose hashes matched before the first broken one (or all)."""
    first_broken_seq: int | None = None


def utc_key(at: datetime) -> str:
    """A sortable UTC text form of ``at`` (stores compare it for retention)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def targets(ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))
