"""Pure checks of caller input. Each failure is a ``BadInput`` naming the argument."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence

from graph.errors import BadInput
from graph.limits import Limits
from graph.model import JSONValue

_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")


def page_size(first: int, limits: Limits, argument: str = "first") -> int:
    if first < 0 or first > limits.max_page_size:
        raise BadInput(
            f"`{argument}` must be between 0 and {limits.max_page_size}; got {first}.",
            argument=argument,
        )
    return first


def bounded(value: int, low: int, high: int, argument: str) -> int:
    if value < low or value > high:
        raise BadInput(
            f"`{argument}` must be between {low} and {high}; got {value}.", argument=argument
        )
    return value


def fraction(value: float, argument: str) -> float:
    if not math.isfinite(value) or value < 0.0 or value > 1.0:
        raise BadInput(f"`{argument}` must be between 0 and 1; got {value}.", argument=argument)
    return value


def text(value: str, limit: int, argument: str, *, allow_empty: bool = False) -> str:
    if not allow_empty and not value.strip():
        raise BadInput(f"`{argument}` must not be empty.", argument=argument)
    if len(value) > limit:
        raise BadInput(
            f"`{argument}` is {len(value)} characters; the limit is {limit}.",
            argument=argument,
        )
    if "\x00" in value:
        raise BadInput(f"`{argument}` must not contain NUL characters.", argument=argument)
    return value


def identifier(value: str, argument: str) -> str:
    """An upper-snake identifier (relation type, entity kind, predicate).

    Lower case, spaces and dashes are normalised (``works at`` -> ``WORKS_AT``);
    anything else that is not ``[A-Z0-9_]`` is rejected, so identifiers are safe
    to use as labels in any store.
    """
    normalised = re.sub(r"[\s\-]+", "_", value.strip()).upper()
    if not _IDENTIFIER.match(normalised):
        raise BadInput(
            f"`{argument}` must be letters, digits and underscores, starting with a "
            f"letter, at most 50 characters; got {value!r}.",
            argument=argument,
        )
    return normalised


def tags(values: Sequence[str], limits: Limits) -> tuple[str, ...]:
    if len(values) > limits.max_tags:
        raise BadInput(f"At most {limits.max_tags} tags are allowed.", argument="tags")
    cleaned: list[str] = []
    for tag in values:
        tag = tag.strip()
        text(tag, limits.max_tag_chars, "tags")
        if tag not in cleaned:
            cleaned.append(tag)
    return tuple(cleaned)


def metadata(value: JSONValue, limits: Limits, argument: str = "metadata") -> JSONValue:
    if value is None:
        return None
    try:
        encoded = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise BadInput(f"`{argument}` must be plain JSON.", argument=argument) from exc
    if len(encoded.encode()) > limits.max_metadata_bytes:
        raise BadInput(
            f"`{argument}` is larger than {limits.max_metadata_bytes} bytes of JSON.",
            argument=argument,
        )
    return value


def weight(value: float) -> float:
    if not math.isfinite(value) or value < 0.0 or value > 1_000_000.0:
        raise BadInput(f"`weight` must be between 0 and 1000000; got {value}.", argument="weight")
    return value
