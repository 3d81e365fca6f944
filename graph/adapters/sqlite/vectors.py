"""In-memory per-tenant vector matrices for brute-force cosine search.

SQLite holds the vectors durably; this cache holds one float32 matrix per
tenant, loaded lazily on the tenant's first vector search and kept current by
the index's writes (applied on the writer thread after each commit, so in
commit order). A per-tenant lock orders loading against those updates: an
update that finds the tenant not loaded is skipped, because the load that
follows reads a snapshot taken after the update committed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from itertools import repeat

import numpy as np
import numpy.typing as npt

from graph.ranking import FloatMatrix


class TenantVectors:
    """One tenant's vectors: a growable matrix plus doc <-> row bookkeeping."""

    def __init__(self, dimensions: int, capacity: int = 16) -> None:
        self.dimensions = dimensions
        self._matrix: FloatMatrix = np.zeros((max(capacity, 1), dimensions), dtype=np.float32)
        self._docs: list[int] = []
        self._memory_ids: list[str] = []
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._docs)

    def put(self, doc: int, memory_id: str, vector: FloatMatrix) -> None:
        row = self._row_of.get(doc)
        if row is None:
            row = len(self._docs)
            if row == self._matrix.shape[0]:
                grown = np.zeros((row * 2, self.dimensions), dtype=np.float32)
                grown[:row] = self._matrix
                self._matrix = grown
            self._docs.append(doc)
            self._memory_ids.append(memory_id)
            self._row_of[doc] = row
        self._matrix[row] = vector
        self._memory_ids[row] = memory_id

    def remove(self, doc: int) -> None:
        row = self._row_of.pop(doc, None)
        if row is None:
            return
        last = len(self._docs) - 1
        if row != last:
            moved = self._docs[last]
            self._matrix[row] = self._matrix[last]
            self._docs[row] = moved
            self._memory_ids[row] = self._memory_ids[last]
            self._row_of[moved] = row
        self._docs.pop()
        self._memory_ids.pop()

    def top(
        self, query: FloatMatrix, k: int, allowed_docs: Sequence[int] | None
    ) -> list[tuple[str, float]]:
        """The ``k`` best (memory id, cosine) pairs, best first, ties by id.

        ``allowed_docs`` limits the candidates (``None`` means all rows).
        """
        size = len(self._docs)
        if size == 0 or k <= 0:
            return []
        if allowed_docs is None:
            rows: npt.NDArray[np.int64] | None = None
            scores = self._matrix[:size] @ query
        else:
            found = np.fromiter(
                map(self._row_of.get, allowed_docs, repeat(-1)),
                dtype=np.int64,
                count=len(allowed_docs),
            )
            rows = found[found >= 0]
            if rows.size == 0:
                return []
            if rows.size * 4 > size:  # a large share: one full product is cheaper
                scores = (self._matrix[:size] @ query)[rows]
            else:
                scores = self._matrix[rows] @ query
        count = min(k, scores.size)
        best = np.argpartition(-scores, count - 1)[:count] if count < scores.size else None
        picked = np.arange(scores.size) if best is None else best
        hits = []
        for position in picked.tolist():
            row = position if rows is None else int(rows[position])
            hits.append((self._memory_ids[row], float(scores[position])))
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits


class VectorCache:
    """The per-tenant matrices of one search index, safe across threads."""

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions
        self._tenants: dict[str, TenantVectors] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, tenant: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(tenant, threading.Lock())

    def is_loaded(self, tenant: str) -> bool:
        return tenant in self._tenants

    def ensure_loaded(self, conn: sqlite3.Connection, tenant: str) -> None:
        """Load the tenant's vectors unless loaded; call before the first read
        of ``conn``'s transaction so its snapshot starts under the lock."""
        with self.lock(tenant):
            if tenant in self._tenants:
                return
            count = conn.execute(
                "SELECT count(*) FROM search_docs WHERE tenant = ?", (tenant,)
            ).fetchone()[0]
            vectors = TenantVectors(self.dimensions, capacity=max(16, count + count // 4))
            width = self.dimensions * 4
            cursor = conn.cursor()
            cursor.row_factory = None  # plain tuples
            cursor.execute(
                "SELECT doc, memory_id, vector FROM search_docs WHERE tenant = ?", (tenant,)
            )
            for doc, memory_id, blob in cursor:  # streamed: no second copy of every blob
                if len(blob) == width:
                    vectors.put(doc, memory_id, np.frombuffer(blob, dtype="<f4"))
            self._tenants[tenant] = vectors

    def apply(
        self,
        upserts: Sequence[tuple[str, int, str, FloatMatrix]],
        deletes: Sequence[tuple[str, int]],
    ) -> None:
        """Apply committed changes to loaded tenants: (tenant, doc, memory id,
        vector) upserts and (tenant, doc) deletes."""
        for tenant, doc in deletes:
            with self.lock(tenant):
                vectors = self._tenants.get(tenant)
                if vectors is not None:
                    vectors.remove(doc)
        for tenant, doc, memory_id, vector in upserts:
            with self.lock(tenant):
                vectors = self._tenants.get(tenant)
                if vectors is not None:
                    vectors.put(doc, memory_id, vector)

    def top(
        self, tenant: str, query: FloatMatrix, k: int, allowed_docs: Sequence[int] | None
    ) -> list[tuple[str, float]]:
        with self.lock(tenant):
            vectors = self._tenants.get(tenant)
            return [] if vectors is None else vectors.top(query, k, allowed_docs)

    def clear(self) -> None:
        with self._guard:
            self._tenants.clear()
