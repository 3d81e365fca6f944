"""Hybrid search: keyword and vector rankings fused by the index, then
optionally expanded along relations.

Expanded memories score ``parent_score * EXPANSION_DECAY ** distance``, so a
memory reached through a hit always ranks below that hit, and all scores of
one response stay on one scale.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from graph import validation
from graph.access.scope import UNSCOPED, RowScope
from graph.codec import memory_from_dict, memory_to_dict
from graph.filtering import matches
from graph.limits import Limits
from graph.model import MemoryFilter, MemoryType, SearchHit, SearchMode
from graph.ports import Cache, Embedder, GraphStore, IndexQuery, SearchIndex, Vectors
from graph.services.read_cache import ReadCache
from graph.services.relations import RelationService

log = logging.getLogger(__name__)

DEFAULT_ALPHA = 0.5
EXPANSION_DECAY = 0.5
QUERY_VECTOR_TTL = 3600.0


@dataclass(frozen=True, slots=True)
class SearchResults:
    """Hits, best first. ``degraded`` is true when the search index was
    unavailable and the graph store's keyword fallback answered instead."""

    hits: list[SearchHit]
    degraded: bool = False


VAULT = MemoryType.KNOWLEDGE_VAULT


@dataclass(frozen=True, slots=True)
class SearchRequest:
    query: str
    mode: SearchMode = SearchMode.HYBRID
    alpha: float | None = None
    memory_filter: MemoryFilter = field(default_factory=MemoryFilter)
    limit: int = 10
    expand: int = 0


class SearchService:
    def __init__(
        self,
        store: GraphStore,
        index: SearchIndex,
        embedder: Embedder,
        cache: Cache,
        relations: RelationService,
        limits: Limits,
        read_cache: ReadCache,
    ) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder
        self._cache = cache
        self._relations = relations
        self._limits = limits
        self._read_cache = read_cache

    async def search(
        self,
        tenant: str,
        request: SearchRequest,
        scope: str = "default",
        rows: RowScope = UNSCOPED,
    ) -> SearchResults:
        """Search, through the read cache. ``scope`` separates callers who may
        see different results (e.g. roles); degraded answers are never cached.
        ``rows`` is the caller's row scope, applied inside every query."""
        limits = self._limits
        validation.text(request.query, limits.max_query_chars, "query")
        validation.bounded(request.limit, 1, limits.max_search_limit, "limit")
        validation.bounded(request.expand, 0, limits.max_search_expand, "expand")
        alpha = self._alpha(request)
        degraded: SearchResults | None = None

        async def load() -> bytes:
            nonlocal degraded
            results = await self._search(tenant, request, alpha, rows)
            if results.degraded or any(
                h.memory.type is MemoryType.KNOWLEDGE_VAULT for h in results.hits
            ):
                # Vault content must not rest in a shared cache (Redis persists).
                degraded = results
                raise _NotCacheable
            return _encode(results)

        try:
            key = _fingerprint(request, rows)
            data = await self._read_cache.get_or_load(tenant, scope, key, load)
        except _NotCacheable:
            return degraded or await self._search(tenant, request, alpha, rows)
        return _decode(data)

    async def _search(
        self, tenant: str, request: SearchRequest, alpha: float, rows: RowScope
    ) -> SearchResults:
        text = request.query
        degraded = False
        try:
            vector = None if alpha == 0.0 else await self.query_vector(text)
            hits = await self._index.search(
                tenant, IndexQuery(text, vector, alpha, request.memory_filter, request.limit, rows)
            )
        except Exception:
            log.warning("search index unavailable; answering from the graph store", exc_info=True)
            degraded = True
            hits = await self._store.keyword_fallback(
                tenant, text, request.memory_filter, request.limit, rows
            )
        live = await self._store.get_memories(tenant, [h.memory_id for h in hits], rows)
        results = [
            SearchHit(live[h.memory_id], h.score, h.keyword_score, h.vector_score)
            for h in hits
            if h.memory_id in live
        ]
        if request.expand and results:
            results += await self._expand(tenant, results, request, rows)
        return SearchResults(results, degraded)

    async def query_vector(self, text: str) -> Vectors:
        """The query's embedding, cached by model and text."""
        digest = hashlib.sha256(text.encode()).hexdigest()
        key = f"qvec:{self._embedder.model_id}:{digest}"
        cached = await self._cache.get(key)
        if cached is not None:
            return np.frombuffer(cached, dtype=np.float32).reshape(1, -1)
        vector = await self._embedder.embed([text])
        await self._cache.set(key, vector.astype(np.float32).tobytes(), QUERY_VECTOR_TTL)
        return vector

    @staticmethod
    def _alpha(request: SearchRequest) -> float:
        if request.mode is SearchMode.KEYWORD:
            return 0.0
        if request.mode is SearchMode.VECTOR:
            return 1.0
        if request.alpha is None:
            return DEFAULT_ALPHA
        return validation.fraction(request.alpha, "alpha")

    async def _expand(
        self, tenant: str, hits: Sequence[SearchHit], request: SearchRequest, rows: RowScope
    ) -> list[SearchHit]:
        reached = await self._relations.related(
            tenant,
            [h.memory.id for h in hits],
            request.expand,
            None,
            self._limits.max_related,
            rows,
        )
        best: dict[str, SearchHit] = {}
        seen = {h.memory.id for h in hits}
        for hit in hits:
            for item in reached.get(hit.memory.id, []):
                memory = item.memory
                if memory.id in seen or not matches(memory, request.memory_filter):
                    continue
                score = hit.score * EXPANSION_DECAY**item.distance
                if memory.id not in best or best[memory.id].score < score:
                    best[memory.id] = SearchHit(memory, score, None, None)
        return sorted(best.values(), key=lambda h: (-h.score, h.memory.id))


class _NotCacheable(Exception):
    """Raised inside a cache load whose result must not be cached."""


def _fingerprint(request: SearchRequest, rows: RowScope) -> str:
    raw = repr(
        (
            rows.key,
            request.query,
            request.mode.value,
            request.alpha,
            request.memory_filter,
            request.limit,
            request.expand,
        )
    )
    return "search:" + hashlib.sha256(raw.encode()).hexdigest()


def _encode(results: SearchResults) -> bytes:
    hits = [
        [memory_to_dict(h.memory), h.score, h.keyword_score, h.vector_score] for h in results.hits
    ]
    return json.dumps(hits, separators=(",", ":")).encode()


def _decode(data: bytes) -> SearchResults:
    return SearchResults(
        [SearchHit(memory_from_dict(m), score, kw, vec) for m, score, kw, vec in json.loads(data)]
    )
