"""Translation of GraphQL arguments into domain values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from graph import validation
from graph.errors import BadInput

T = TypeVar("T")


def given(value: T | None, default: T) -> T:
    """The argument's value, or its default when the client sent an explicit null."""
    return default if value is None else value


def aware(value: datetime | None, argument: str) -> datetime | None:
    """A UTC datetime; a date-time without a time zone is refused, not guessed."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise BadInput(
            f"`{argument}` must carry a time zone, e.g. 2026-01-31T12:00:00Z.", argument=argument
        )
    return value.astimezone(UTC)


def types_key(types: Sequence[str] | None) -> tuple[str, ...]:
    """Relation types as a normalised, hashable key (empty = any type)."""
    if not types:
        return ()
    return tuple(sorted({validation.identifier(t, "types") for t in types}))
