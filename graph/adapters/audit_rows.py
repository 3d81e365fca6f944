"""The stored form of an audit record, shared by the SQLite and Neo4j logs.

A record is flat scalar fields: ``targets`` and ``detail`` are canonical JSON
text and ``at`` keeps the exact ISO form the hash covers, so a stored record
hashes the same when read back. ``at_utc`` is a sortable UTC key for
retention.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from graph.access.audit import AuditEvent, AuditRecord, utc_key


def record_row(record: AuditRecord) -> dict[str, Any]:
    event = record.event
    return {
        "seq": record.seq,
        "tenant": event.tenant,
        "actor": event.actor,
        "action": event.action,
        "at": event.at.isoformat(),
        "at_utc": utc_key(event.at),
        "targets": json.dumps(list(event.target_ids)),
        "detail": json.dumps(dict(sorted(event.detail.items()))),
        "previous_hash": record.previous_hash,
        "hash": record.hash,
    }


def record_from(row: Mapping[str, Any]) -> AuditRecord:
    event = AuditEvent(
        tenant=str(row["tenant"]),
        actor=str(row["actor"]),
        action=str(row["action"]),
        at=datetime.fromisoformat(str(row["at"])),
        target_ids=tuple(str(t) for t in json.loads(row["targets"])),
        detail={str(k): str(v) for k, v in json.loads(row["detail"]).items()},
    )
    return AuditRecord(int(row["seq"]), event, str(row["previous_hash"]), str(row["hash"]))
