"""The embedded search index: FTS5 keyword search plus brute-force vector search.

Documents live in ``search_docs`` (filter attributes, content and a float32
vector per memory) in the same SQLite file as the graph; ``search_fts`` is an
external-content FTS5 table kept in step by triggers. Vector scoring uses the
in-memory per-tenant matrices of :mod:`graph.adapters.sqlite.vectors`. Every
:class:`MemoryFilter` field is applied inside the search, never afterwards.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.sqlite.codec import json_list, to_db_time, to_db_time_opt
from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.store_scope import row_conditions
from graph.adapters.sqlite.vectors import VectorCache
from graph.model import Memory, MemoryFilter
from graph.ports import IndexHit, IndexQuery, Vectors
from graph.ranking import STOP_WORDS, FloatMatrix, Ranking, fuse, unit_rows

MAX_QUERY_TERMS = 64
"""Longer queries keep their first distinct terms."""

_TERM = re.compile(r"\w+")

_UPSERT_DOC = """
INSERT INTO search_docs (
    memory_id, tenant, agent_id, user_id, session_id, type, level, created_at,
    valid_from, valid_to, content, vector, version
) VALUES (
    :memory_id, :tenant, :agent_id, :user_id, :session_id, :type, :level, :created_at,
    :valid_from, :valid_to, :content, :vector, :version
)
ON CONFLICT (memory_id) DO UPDATE SET
    agent_id = excluded.agent_id, user_id = excluded.user_id,
    session_id = excluded.session_id, type = excluded.type, level = excluded.level,
    created_at = excluded.created_at, valid_from = excluded.valid_from,
    valid_to = excluded.valid_to, content = excluded.content, vector = excluded.vector,
    version = excluded.version
WHERE search_docs.tenant = excluded.tenant
RETURNING doc"""

_KEYWORD_SQL = """
SELECT d.memory_id AS memory_id, -bm25(search_fts) AS score
FROM search_fts JOIN search_docs d ON d.doc = search_fts.rowid
WHERE search_fts MATCH :match AND {where}
ORDER BY score DESC, d.memory_id
LIMIT :limit"""


def match_expression(text: str) -> str | None:
    """User text as an FTS5 query that cannot carry FTS syntax.

    Every word becomes a quoted string term and the terms are joined with OR,
    so operators, column filters, prefixes and quotes in the text are plain
    words (or dropped, for punctuation). Stop words are left out when other
    words remain. ``None`` when no word is left.
    """
    terms = list(dict.fromkeys(term.lower() for term in _TERM.findall(text)))
    if not terms:
        return None
    terms = [term for term in terms if term not in STOP_WORDS] or terms
    return " OR ".join(f'"{term}"' for term in terms[:MAX_QUERY_TERMS])


def search_filter(
    tenant: str, memory_filter: MemoryFilter, scope: RowScope = UNSCOPED
) -> tuple[str, dict[str, Any], bool]:
    """WHERE clause (alias ``d``) and parameters for a filter and a row
    scope, plus whether they constrain anything beyond the tenant."""
    f = memory_filter
    params: dict[str, Any] = {"tenant": tenant}
    conds = ["d.tenant = :tenant", *row_conditions("d", scope, params)]
    if f.agent_id is not None:
        conds.append("d.agent_id = :agent_id")
        params["agent_id"] = f.agent_id
    if f.user_id is not None:
        conds.append("d.user_id = :user_id")
        params["user_id"] = f.user_id
    if f.session_id is not None:
        conds.append("d.session_id = :session_id")
        params["session_id"] = f.session_id
    if f.types:
        conds.append("d.type IN (SELECT value FROM json_each(:types))")
        params["types"] = json_list(t.value for t in f.types)
    if f.levels:
        conds.append("d.level IN (SELECT value FROM json_each(:levels))")
        params["levels"] = json_list(level.value for level in f.levels)
    if f.tags:
        tags = list(dict.fromkeys(f.tags))
        conds.append(
            "d.doc IN (SELECT t.doc FROM search_tags t WHERE t.tenant = :tenant"
            " AND t.tag IN (SELECT value FROM json_each(:tags))"
            " GROUP BY t.doc HAVING count(*) = :tag_count)"
        )
        params.update(tags=json_list(tags), tag_count=len(tags))
    if f.created_after is not None:
        conds.append("d.created_at > :created_after")
        params["created_after"] = to_db_time(f.created_after)
    if f.created_before is not None:
        conds.append("d.created_at < :created_before")
        params["created_before"] = to_db_time(f.created_before)
    if f.as_of is not None:
        conds += [
            "d.created_at <= :as_of",
            "(d.valid_from IS NULL OR d.valid_from <= :as_of)",
            "(d.valid_to IS NULL OR d.valid_to > :as_of)",
        ]
        params["as_of"] = to_db_time(f.as_of)
    return " AND ".join(conds), params, len(conds) > 1


class SqliteSearchIndex:
    """:class:`graph.ports.SearchIndex` in the embedded SQLite file.

    Keyword search is FTS5 with BM25 (``keyword_score`` is ``-bm25``, so
    higher is better); vector search is exact cosine similarity over the
    tenant's in-memory matrix, restricted to the ids a filter allows. Each
    ranking contributes ``max(limit * 4, 50)`` candidates to the fusion.
    """

    def __init__(self, db: SqliteDatabase, dimensions: int) -> None:
        self._db = db
        self.dimensions = dimensions
        self._vectors = VectorCache(dimensions)
        self._open = True
        db.retain()

    async def upsert(self, memories: Sequence[Memory], vectors: Vectors) -> None:
        """Index (or re-index) memories with their embeddings; idempotent."""
        if not memories:
            return
        matrix = unit_rows(vectors, self.dimensions)
        if matrix.shape[0] != len(memories):
            raise ValueError(f"Got {matrix.shape[0]} vectors for {len(memories)} memories.")
        docs = [_doc_params(memory, matrix[i]) for i, memory in enumerate(memories)]

        def run(conn: sqlite3.Connection) -> list[tuple[str, int, str, FloatMatrix]]:
            applied = []
            for memory, params, vector in zip(memories, docs, matrix, strict=True):
                row = conn.execute(_UPSERT_DOC, params).fetchone()
                if row is None:  # the id belongs to another tenant: leave it alone
                    continue
                doc = int(row[0])
                conn.execute("DELETE FROM search_tags WHERE doc = ?", (doc,))
                conn.executemany(
                    "INSERT OR IGNORE INTO search_tags (doc, tag, tenant) VALUES (?, ?, ?)",
                    [(doc, tag, memory.tenant) for tag in dict.fromkeys(memory.tags)],
                )
                applied.append((memory.tenant, doc, memory.id, vector))
            return applied

        await self._db.write(run, after_commit=lambda applied: self._vectors.apply(applied, ()))

    async def delete(self, tenant: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        params = {"tenant": tenant, "ids": json_list(ids)}

        def run(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            rows = conn.execute(
                "DELETE FROM search_docs WHERE tenant = :tenant"
                " AND memory_id IN (SELECT value FROM json_each(:ids)) RETURNING doc",
                params,
            ).fetchall()
            return [(tenant, int(row[0])) for row in rows]

        await self._db.write(run, after_commit=lambda gone: self._vectors.apply((), gone))

    async def search(self, tenant: str, query: IndexQuery) -> list[IndexHit]:
        if query.limit <= 0:
            return []
        alpha = min(max(float(query.alpha), 0.0), 1.0)
        vector = None
        if query.vector is not None and alpha > 0.0:
            vector = unit_rows(query.vector, self.dimensions)[0]
        else:
            alpha = 0.0
        if vector is not None and not self._vectors.is_loaded(tenant):
            await self._db.read(lambda conn: self._vectors.ensure_loaded(conn, tenant))
        return await self._db.read(lambda conn: self._search(conn, tenant, query, vector, alpha))

    def _search(
        self,
        conn: sqlite3.Connection,
        tenant: str,
        query: IndexQuery,
        vector: FloatMatrix | None,
        alpha: float,
    ) -> list[IndexHit]:
        candidates = max(query.limit * 4, 50)
        where, params, constrained = search_filter(tenant, query.memory_filter, query.scope)
        keyword: Ranking = []
        match = match_expression(query.text) if alpha < 1.0 else None
        if match is not None:
            rows = conn.execute(
                _KEYWORD_SQL.format(where=where), {**params, "match": match, "limit": candidates}
            ).fetchall()
            keyword = [(row["memory_id"], float(row["score"])) for row in rows]
        ranked: Ranking = []
        if vector is not None:
            allowed = None
            if constrained:  # one row holding every allowed doc, parsed in C
                sql = f"SELECT json_group_array(d.doc) FROM search_docs d WHERE {where}"
                allowed = json.loads(conn.execute(sql, params).fetchone()[0])
            ranked = self._vectors.top(tenant, vector, candidates, allowed)
        return fuse(keyword, ranked, alpha, query.limit)

    async def indexed_versions(self, tenant: str) -> dict[str, int]:
        sql = "SELECT memory_id, version FROM search_docs WHERE tenant = ?"
        rows = await self._db.read(lambda conn: conn.execute(sql, (tenant,)).fetchall())
        return {row["memory_id"]: int(row["version"]) for row in rows}

    async def ping(self) -> None:
        await self._db.read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._open:
            self._open = False
            self._vectors.clear()
            await self._db.release()


def _doc_params(memory: Memory, vector: FloatMatrix) -> dict[str, Any]:
    return {
        "memory_id": memory.id,
        "tenant": memory.tenant,
        "agent_id": memory.agent_id,
        "user_id": memory.user_id,
        "session_id": memory.session_id,
        "type": memory.type.value,
        "level": memory.level.value,
        "created_at": to_db_time(memory.created_at),
        "valid_from": to_db_time_opt(memory.valid_from),
        "valid_to": to_db_time_opt(memory.valid_to),
        "content": memory.content,
        "vector": np.asarray(vector, dtype="<f4").tobytes(),
        "version": memory.version,
    }
