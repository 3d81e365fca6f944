"""Neo4j result values -> domain objects.

The projections in :mod:`graph.adapters.neo4j.cypher` return plain maps;
these functions turn them into the domain dataclasses. Times are stored as
Neo4j ``DateTime`` values and come back as integer microseconds since the
epoch (or, from a plain property read, as ``neo4j.time.DateTime``); both
leave here as aware UTC ``datetime`` values, exact to the microsecond.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j.time

from graph.records import RecordReader

Row = dict[str, Any]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_db_time(value: Any) -> datetime:
    """An aware UTC datetime from epoch microseconds or a driver DateTime."""
    if isinstance(value, int):
        return EPOCH + timedelta(microseconds=value)
    if isinstance(value, neo4j.time.DateTime):
        native = datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.nanosecond // 1000,
            tzinfo=value.tzinfo,
        )
        return native.astimezone(UTC)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    raise TypeError(f"expected a DateTime, got {type(value).__name__}")


def from_db_time_opt(value: Any) -> datetime | None:
    return None if value is None else from_db_time(value)


def _strings(values: list[str] | None) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


READ = RecordReader(time=from_db_time, strings=_strings)
"""Cypher projections -> domain objects."""
memory_from = READ.memory
version_from = READ.version
agent_from = READ.agent
entity_from = READ.entity
relation_from = READ.relation
fact_from = READ.fact
outbox_from = READ.outbox
