"""How AgentMem memories map onto Weaviate: object ids, the collection's
properties, documents, filters, query words and explain-score parsing. Pure
functions, no I/O."""

from __future__ import annotations

import re
import uuid
from typing import Any

from weaviate.classes.config import (
    DataType,
    Property,
    Tokenization,
)
from weaviate.classes.query import Filter, FilterReturn

from graph.access.scope import UNSCOPED, RowScope
from graph.model import Memory, MemoryFilter
from graph.ranking import STOP_WORDS

MEMORY_NAMESPACE = uuid.UUID("bcdf254a-125c-479f-8da5-530021e58eb5")
"""Namespace of the ``uuid5`` object ids derived from memory ids."""

MAX_QUERY_TERMS = 64

TERM_PATTERN = re.compile(r"\w+")
EXPLAIN_PATTERN = re.compile(
    r"Result Set (?P<set>keyword|vector)\b[^)]*\)\s*Document\s+\S+?:?\s+"
    r"original score\s+(?P<score>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
)

TEXT_FIELDS = ("memory_id", "agent_id", "user_id", "session_id", "type", "level")
DATE_FIELDS = ("created_at", "valid_from", "valid_to")


def memory_uuid(memory_id: str) -> uuid.UUID:
    """The Weaviate object id of a memory's document."""
    return uuid.uuid5(MEMORY_NAMESPACE, memory_id)


def query_terms(text: str) -> str:
    """The words of ``text`` (lower-cased, distinct, stop words left out
    unless nothing else remains, at most 64) joined by spaces: what the
    keyword ranking searches for, chosen exactly as in the SQLite index.
    BM25 queries carry no syntax, so nothing needs escaping."""
    terms = list(dict.fromkeys(term.lower() for term in TERM_PATTERN.findall(text)))
    terms = [term for term in terms if term not in STOP_WORDS] or terms
    return " ".join(terms[:MAX_QUERY_TERMS])


def parse_explain_score(explain: str | None) -> tuple[float | None, float | None]:
    """(keyword, vector) raw scores from a hybrid hit's ``explainScore``."""
    keyword: float | None = None
    vector: float | None = None
    for match in EXPLAIN_PATTERN.finditer(explain or ""):
        value = float(match["score"])
        if match["set"] == "keyword":
            keyword = value if keyword is None else keyword
        else:
            vector = value if vector is None else vector
    return keyword, vector


def property_schema() -> list[Property]:
    def text(name: str) -> Property:
        return Property(
            name=name,
            data_type=DataType.TEXT,
            tokenization=Tokenization.FIELD,
            index_filterable=True,
            index_searchable=False,
        )

    def date(name: str) -> Property:
        return Property(
            name=name, data_type=DataType.DATE, index_filterable=True, index_range_filters=True
        )

    return [
        *(text(name) for name in TEXT_FIELDS),
        Property(
            name="tags",
            data_type=DataType.TEXT_ARRAY,
            tokenization=Tokenization.FIELD,
            index_filterable=True,
            index_searchable=False,
        ),
        Property(
            name="content",
            data_type=DataType.TEXT,
            tokenization=Tokenization.WORD,
            index_filterable=False,
            index_searchable=True,
        ),
        *(date(name) for name in DATE_FIELDS),
        Property(name="version", data_type=DataType.INT, index_filterable=False),
    ]


def document(memory: Memory) -> dict[str, Any]:
    values: dict[str, Any] = {
        "memory_id": memory.id,
        "agent_id": memory.agent_id,
        "user_id": memory.user_id,
        "session_id": memory.session_id,
        "type": memory.type.value,
        "level": memory.level.value,
        "tags": list(dict.fromkeys(memory.tags)),
        "content": memory.content,
        "created_at": memory.created_at,
        "valid_from": memory.valid_from,
        "valid_to": memory.valid_to,
        "version": memory.version,
    }
    return {key: value for key, value in values.items() if value is not None}


def search_filter(memory_filter: MemoryFilter, scope: RowScope = UNSCOPED) -> FilterReturn | None:
    """Every :class:`MemoryFilter` field and the row scope as one Weaviate
    filter (``None`` when nothing is constrained); the tenant is the shard,
    not a filter."""
    f = memory_filter
    prop = Filter.by_property
    conds: list[FilterReturn] = []
    for name, value in (("agent_id", scope.agent_id), ("user_id", scope.user_id)):
        if value is not None:
            conds.append(prop(name).equal(value))
    for name, value in (
        ("agent_id", f.agent_id),
        ("user_id", f.user_id),
        ("session_id", f.session_id),
    ):
        if value is not None:
            conds.append(prop(name).equal(value))
    if f.types:
        conds.append(prop("type").contains_any([t.value for t in f.types]))
    if f.levels:
        conds.append(prop("level").contains_any([level.value for level in f.levels]))
    if f.tags:
        conds.append(prop("tags").contains_all(list(dict.fromkeys(f.tags))))
    if f.created_after is not None:
        conds.append(prop("created_at").greater_than(f.created_after))
    if f.created_before is not None:
        conds.append(prop("created_at").less_than(f.created_before))
    if f.as_of is not None:
        conds.append(prop("created_at").less_or_equal(f.as_of))
        conds.append(
            Filter.any_of(
                [prop("valid_from").is_none(True), prop("valid_from").less_or_equal(f.as_of)]
            )
        )
        conds.append(
            Filter.any_of([prop("valid_to").is_none(True), prop("valid_to").greater_than(f.as_of)])
        )
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else Filter.all_of(conds)
