"""Conversions between domain values and SQLite column values.

Datetimes are stored as fixed-width ISO-8601 UTC text with microseconds
(``2024-05-01T12:00:00.000000Z``), so comparing the text compares the
instants and indexes on time columns sort correctly. JSON values are stored as
compact JSON text. Lists of ids are passed as one JSON array parameter and
unpacked in SQL with ``json_each``, so a statement never needs one variable
per id and never has to be split by SQLite's variable limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from graph.model import JSONValue


def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text for an aware datetime (a naive one is taken as UTC)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}Z"
    )


def to_db_time_opt(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def from_db_time(text: str) -> datetime:
    """The aware UTC datetime stored by :func:`to_db_time`."""
    return datetime.fromisoformat(text)


def from_db_time_opt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def to_json(value: JSONValue) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_list(values: Iterable[object]) -> str:
    """A JSON array parameter for ``json_each`` (duplicates removed, order kept)."""
    return json.dumps(list(dict.fromkeys(values)), separators=(",", ":"), ensure_ascii=False)


def tags_from_json(text: str) -> tuple[str, ...]:
    return tuple(str(tag) for tag in json.loads(text))
