"""The search index in Weaviate: BM25 + vector hybrid search, one tenant per AgentMem tenant.

Layout
    One collection (``AgentMemMemory``) with native multi-tenancy and automatic
    tenant creation; each AgentMem tenant is one Weaviate tenant (named by
    :func:`graph.adapters.weaviate.tenants.weaviate_tenant`), so tenancy is the
    shard a query runs on, never a filter applied afterwards. Vectors come from
    AgentMem's embedder (one self-provided named vector, cosine distance).
    ``content`` is the only searchable text (word tokenisation, BM25 k1 = 1.2,
    b = 0.75 like SQLite's FTS5; no server-side stopwords: queries drop the
    SQLite index's stop words themselves, unless nothing else is left, so a
    query of only stop words still finds); the other text properties are
    exact-match (``field``) filters; dates are ``date`` properties with range
    indexes, and nulls are indexed so ``asOf`` can test open validity bounds.
    Object UUIDs are ``uuid5`` of the memory id, so upserts are idempotent.

Scores (what Weaviate reports and how it is mapped)
    Weaviate's relative-score fusion min-max scales each ranking to 0..1 and
    adds ``alpha * vector + (1 - alpha) * keyword`` -- the fusion the
    ``SearchIndex`` contract describes, so a hybrid hit's ``score`` is
    Weaviate's fused score as is. The raw scores are read from the hit's
    ``explainScore`` text, one line per ranking the hit was in:
    ``Hybrid (Result Set keyword,...) Document <uuid>: original score S, ...``
    where S is the BM25F score of ``content`` (``keyword_score``), and
    ``Hybrid (Result Set vector,...) ...: original score S`` where S is
    ``1 - cosine distance`` = cosine similarity (``vector_score``). A hit
    missing from a ranking has ``None`` for that score, as in SQLite.
    ``alpha == 0`` (or no query vector) runs a plain BM25 query and
    ``alpha == 1`` (or a query without words) a plain ``near_vector`` query,
    each with ``max(limit * 4, 50)`` candidates scaled exactly as the SQLite
    index does (:func:`graph.ranking.fuse`), with
    ``vector_score = 1 - distance``. Hits are ordered by score, then id.

Differences from the embedded index worth knowing
    In hybrid queries Weaviate draws ``max(100, requested)`` candidates from
    each ranking (SQLite: ``max(limit * 4, 50)``); for limits above 25 this
    index requests ``4 * limit`` and cuts, which makes the pools equal. Ties
    at the cut are broken by Weaviate, not by id. BM25 values differ from
    FTS5's (Weaviate's IDF is always positive); rankings agree.

Failures
    Every call is bounded by ``timeout`` seconds, upserts by ``write_timeout``
    per request of ``UPSERT_CHUNK`` documents (the client itself would
    retry an unreachable gRPC endpoint for about a minute). Any client,
    transport or server error becomes :class:`graph.errors.Unavailable` with a
    message that names no internals; the cause is logged. When a failure
    comes with Weaviate's readiness endpoint not answering, the index counts
    Weaviate as down: calls then fail at once, except one attempt per
    ``retry_interval`` that goes ahead once the readiness endpoint answers,
    so an outage costs the callers (e.g. search falling back to the graph
    store) one timeout, not one per call. The gRPC channel reconnects within
    a second of Weaviate coming back. A tenant that has no documents yet is
    not an error: searching it finds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
import weaviate
from weaviate.classes.config import (
    Configure,
    StopwordsPreset,
    VectorDistances,
)
from weaviate.classes.data import DataObject
from weaviate.classes.init import AdditionalConfig, GrpcConfig, Timeout
from weaviate.classes.query import Filter, FilterReturn, HybridFusion, MetadataQuery
from weaviate.client import WeaviateAsyncClient
from weaviate.collections import CollectionAsync
from weaviate.exceptions import WeaviateBaseError

from graph.adapters.weaviate.mapping import (
    document,
    memory_uuid,
    parse_explain_score,
    property_schema,
    query_terms,
    search_filter,
)
from graph.adapters.weaviate.tenants import weaviate_tenant
from graph.errors import Unavailable
from graph.model import Memory
from graph.ports import IndexHit, IndexQuery, Vectors
from graph.ranking import fuse, unit_rows

log = logging.getLogger(__name__)

COLLECTION = "AgentMemMemory"
VECTOR_NAME = "content"
DEFAULT_TIMEOUT = 10.0
"""Seconds a search, delete, listing or ping may take before the index counts
as unavailable."""
DEFAULT_WRITE_TIMEOUT = 60.0
"""The same for one upsert request (``UPSERT_CHUNK`` documents)."""

UPSERT_CHUNK = 200
DELETE_CHUNK = 1000
PAGE_SIZE = 1000

_UNAVAILABLE = "The search index is unavailable."
_TENANT_NOT_FOUND = "tenant not found"


class _TenantMissing(Unavailable):
    """Weaviate has no tenant (so no document) for the AgentMem tenant."""

    def __init__(self) -> None:
        super().__init__(_UNAVAILABLE)


class WeaviateSearchIndex:
    """:class:`graph.ports.SearchIndex` on a Weaviate server (see the module
    docstring for the layout and the score mapping).

    Build it with :func:`open_weaviate_index`, which makes sure the collection
    exists. The index owns its client and closes it on :meth:`close`.
    """

    def __init__(
        self,
        client: WeaviateAsyncClient,
        dimensions: int,
        *,
        collection: str = COLLECTION,
        timeout: float = DEFAULT_TIMEOUT,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
        ready_url: str | None = None,
    ) -> None:
        self.dimensions = dimensions
        self.collection_name = collection
        self._client = client
        self._collection: CollectionAsync[Any, Any] = client.collections.use(collection)
        self._tenants: dict[str, CollectionAsync[Any, Any]] = {}
        self._timeout = timeout
        self._write_timeout = max(write_timeout, timeout)
        self._ready_url = ready_url
        self._probe_client: httpx.AsyncClient | None = None
        self._down = False
        self._retry_at = 0.0
        self._closed = False
        self.outages = 0
        """Times Weaviate was found unreachable (readiness probe failing)."""

    retry_interval = 1.0
    """While Weaviate is known to be unreachable, calls fail at once except
    for one attempt per this many seconds."""

    # -- plumbing -------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _guard(self, action: str, timeout: float | None = None) -> AsyncIterator[None]:
        """Bound the body by the timeout and turn any failure of the client,
        the transport or the server into ``Unavailable``."""
        if self._closed:
            raise Unavailable(_UNAVAILABLE)
        if self._down:
            await self._attempt_while_down()
        try:
            async with asyncio.timeout(timeout or self._timeout):
                yield
        except (WeaviateBaseError, httpx.HTTPError, grpc.RpcError, OSError, TimeoutError) as exc:
            if _TENANT_NOT_FOUND in str(exc).lower():
                raise _TenantMissing from exc
            if self._down:
                self._retry_at = time.monotonic() + self.retry_interval
            elif await self._ready():
                log.warning("weaviate %s failed: %s: %s", action, type(exc).__name__, exc)
            else:
                self._down = True
                self.outages += 1
                self._retry_at = time.monotonic() + self.retry_interval
                log.warning(
                    "weaviate unreachable (%s failed: %s); failing fast, retrying every %.1f s",
                    action,
                    type(exc).__name__,
                    self.retry_interval,
                )
            raise Unavailable(_UNAVAILABLE) from exc
        if self._down:
            self._down = False
            log.warning("weaviate reachable again")

    async def _attempt_while_down(self) -> None:
        """Fail at once unless a retry is due and Weaviate says it is ready."""
        now = time.monotonic()
        if now < self._retry_at:
            raise Unavailable(_UNAVAILABLE)
        self._retry_at = now + self.retry_interval
        if not await self._ready():
            raise Unavailable(_UNAVAILABLE)

    async def _ready(self) -> bool:
        """Whether Weaviate's readiness endpoint answers (within a second)."""
        if self._ready_url is None:
            return True  # cannot tell: treat failures as failures of one call
        if self._probe_client is None:
            self._probe_client = httpx.AsyncClient(timeout=min(1.0, self._timeout))
        try:
            response = await self._probe_client.get(self._ready_url)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _tenant(self, tenant: str) -> CollectionAsync[Any, Any]:
        handle = self._tenants.get(tenant)
        if handle is None:
            handle = self._collection.with_tenant(weaviate_tenant(tenant))
            if len(self._tenants) >= 10_000:
                self._tenants.clear()
            self._tenants[tenant] = handle
        return handle

    async def _tenant_exists(self, tenant: str) -> bool:
        async with self._guard("tenant lookup"):
            return await self._collection.tenants.exists(weaviate_tenant(tenant))

    async def ensure_schema(self) -> None:
        """Create the collection if missing (safe to race with other
        processes) and add any property a newer version of this module
        introduced. Raises ``Unavailable`` if Weaviate does not answer."""
        async with self._guard("schema check"):
            if not await self._client.collections.exists(self.collection_name):
                try:
                    await self._client.collections.create(
                        self.collection_name,
                        description="AgentMem memories: content, filters and embeddings.",
                        properties=property_schema(),
                        vector_config=Configure.Vectors.self_provided(
                            name=VECTOR_NAME,
                            vector_index_config=Configure.VectorIndex.hnsw(
                                distance_metric=VectorDistances.COSINE
                            ),
                        ),
                        multi_tenancy_config=Configure.multi_tenancy(
                            enabled=True, auto_tenant_creation=True, auto_tenant_activation=True
                        ),
                        inverted_index_config=Configure.inverted_index(
                            bm25_k1=1.2,
                            bm25_b=0.75,
                            index_null_state=True,
                            stopwords_preset=StopwordsPreset.NONE,
                        ),
                    )
                except WeaviateBaseError:
                    if not await self._client.collections.exists(self.collection_name):
                        raise
                    return  # another process created it first
                return
            config = await self._collection.config.get()
            if not config.multi_tenancy_config.enabled:
                raise Unavailable(
                    f"Weaviate collection {self.collection_name!r} exists without multi-tenancy."
                )
            present = {p.name for p in config.properties}
            for wanted in property_schema():
                if wanted.name not in present:
                    await self._collection.config.add_property(wanted)

    async def drop_all_tenants(self) -> None:
        """Remove every tenant and so every document (tests and resets only)."""
        async with self._guard("tenant removal"):
            names = list(await self._collection.tenants.get())
            for start in range(0, len(names), 100):
                await self._collection.tenants.remove(names[start : start + 100])
        self._tenants.clear()

    # -- SearchIndex ----------------------------------------------------------------

    async def upsert(self, memories: Sequence[Memory], vectors: Vectors) -> None:
        """Index (or re-index) memories with their embeddings; idempotent.

        Creates the tenants it needs. Documents are replaced whole."""
        if not memories:
            return
        matrix = unit_rows(vectors, self.dimensions)
        if matrix.shape[0] != len(memories):
            raise ValueError(f"Got {matrix.shape[0]} vectors for {len(memories)} memories.")
        by_tenant: dict[str, list[DataObject[Any, Any]]] = defaultdict(list)
        for memory, row in zip(memories, matrix, strict=True):
            by_tenant[memory.tenant].append(
                DataObject(
                    properties=document(memory),
                    uuid=memory_uuid(memory.id),
                    vector={VECTOR_NAME: row.tolist()},
                )
            )
        for tenant, objects in by_tenant.items():
            handle = self._tenant(tenant)
            for start in range(0, len(objects), UPSERT_CHUNK):
                chunk = objects[start : start + UPSERT_CHUNK]
                async with self._guard("upsert", self._write_timeout):
                    result = await handle.data.insert_many(chunk)
                if result.has_errors:
                    first = next(iter(result.errors.values()))
                    log.warning(
                        "weaviate rejected %d of %d documents, e.g.: %s",
                        len(result.errors),
                        len(chunk),
                        first.message,
                    )
                    raise Unavailable("The search index rejected documents.")

    async def delete(self, tenant: str, ids: Sequence[str]) -> None:
        """Remove the tenant's documents of ``ids``; unknown ids are ignored."""
        uuids = [memory_uuid(memory_id) for memory_id in dict.fromkeys(ids)]
        if not uuids:
            return
        handle = self._tenant(tenant)
        for start in range(0, len(uuids), DELETE_CHUNK):
            where = Filter.by_id().contains_any(uuids[start : start + DELETE_CHUNK])
            try:
                async with self._guard("delete"):
                    await handle.data.delete_many(where=where)
            except _TenantMissing:
                return  # nothing was ever indexed for this tenant
            except Unavailable:
                if not await self._tenant_exists(tenant):
                    return  # nothing was ever indexed for this tenant
                raise

    async def search(self, tenant: str, query: IndexQuery) -> list[IndexHit]:
        if query.limit <= 0:
            return []
        alpha = min(max(float(query.alpha), 0.0), 1.0)
        vector: list[float] | None = None
        if query.vector is not None and alpha > 0.0:
            vector = unit_rows(query.vector, self.dimensions)[0].tolist()
        else:
            alpha = 0.0
        text = query_terms(query.text) if alpha < 1.0 else ""
        if vector is None and not text:
            return []
        filters = search_filter(query.memory_filter, query.scope)
        handle = self._tenant(tenant)
        try:
            async with self._guard("search"):
                if vector is None:
                    return await self._keyword(handle, text, filters, query.limit)
                if not text:
                    return await self._vector(handle, vector, alpha, filters, query.limit)
                return await self._hybrid(handle, text, vector, alpha, filters, query.limit)
        except _TenantMissing:
            return []  # a tenant with nothing indexed yet
        except Unavailable:
            if not await self._tenant_exists(tenant):
                return []  # a tenant with nothing indexed yet
            raise

    async def _keyword(
        self,
        handle: CollectionAsync[Any, Any],
        text: str,
        filters: FilterReturn | None,
        limit: int,
    ) -> list[IndexHit]:
        response = await handle.query.bm25(
            query=text,
            query_properties=["content"],
            filters=filters,
            limit=max(limit * 4, 50),
            return_metadata=MetadataQuery(score=True),
            return_properties=["memory_id"],
        )
        ranking = [
            (str(o.properties["memory_id"]), float(o.metadata.score or 0.0))
            for o in response.objects
        ]
        return fuse(ranking, [], 0.0, limit)

    async def _vector(
        self,
        handle: CollectionAsync[Any, Any],
        vector: list[float],
        alpha: float,
        filters: FilterReturn | None,
        limit: int,
    ) -> list[IndexHit]:
        response = await handle.query.near_vector(
            near_vector=vector,
            target_vector=VECTOR_NAME,
            filters=filters,
            limit=max(limit * 4, 50),
            return_metadata=MetadataQuery(distance=True),
            return_properties=["memory_id"],
        )
        ranking = [
            (str(o.properties["memory_id"]), 1.0 - float(o.metadata.distance or 0.0))
            for o in response.objects
        ]
        return fuse([], ranking, alpha, limit)

    async def _hybrid(
        self,
        handle: CollectionAsync[Any, Any],
        text: str,
        vector: list[float],
        alpha: float,
        filters: FilterReturn | None,
        limit: int,
    ) -> list[IndexHit]:
        response = await handle.query.hybrid(
            query=text,
            vector=vector,
            alpha=alpha,
            fusion_type=HybridFusion.RELATIVE_SCORE,
            query_properties=["content"],
            target_vector=VECTOR_NAME,
            filters=filters,
            limit=limit if limit <= 25 else limit * 4,
            return_metadata=MetadataQuery(score=True, explain_score=True),
            return_properties=["memory_id"],
        )
        hits = []
        for o in response.objects:
            keyword, vector_score = parse_explain_score(o.metadata.explain_score)
            hits.append(
                IndexHit(
                    memory_id=str(o.properties["memory_id"]),
                    score=float(o.metadata.score or 0.0),
                    keyword_score=keyword,
                    vector_score=vector_score,
                )
            )
        hits.sort(key=lambda hit: (-hit.score, hit.memory_id))
        return hits[:limit]

    async def indexed_versions(self, tenant: str) -> dict[str, int]:
        handle = self._tenant(tenant)
        versions: dict[str, int] = {}
        after: uuid.UUID | None = None
        try:
            while True:
                async with self._guard("listing"):
                    response = await handle.query.fetch_objects(
                        limit=PAGE_SIZE, after=after, return_properties=["memory_id", "version"]
                    )
                for o in response.objects:
                    versions[str(o.properties["memory_id"])] = int(o.properties["version"])
                if len(response.objects) < PAGE_SIZE:
                    return versions
                after = response.objects[-1].uuid
        except _TenantMissing:
            return {}
        except Unavailable:
            if after is None and not await self._tenant_exists(tenant):
                return {}
            raise

    async def ping(self) -> None:
        """Return if Weaviate answers over HTTP and gRPC and holds the
        collection; raise ``Unavailable`` otherwise."""
        async with self._guard("ping"):
            if not await self._client.collections.exists(self.collection_name):
                raise Unavailable(_UNAVAILABLE)
            await self._collection.tenants.get_by_name(weaviate_tenant(""))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._tenants.clear()
        if self._probe_client is not None:
            await self._probe_client.aclose()
        with contextlib.suppress(Exception):
            await self._client.close()


_GRPC_CHANNEL_OPTIONS = [
    # Reconnect within a second of Weaviate coming back, however long it was
    # gone (gRPC's default back-off grows to two minutes).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def _endpoint(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Not an http(s) URL for Weaviate: {url!r}")
    secure = parts.scheme == "https"
    return parts.hostname, parts.port or (443 if secure else 80), secure


async def open_weaviate_index(
    url: str,
    grpc_port: int,
    dimensions: int,
    *,
    collection: str = COLLECTION,
    timeout: float = DEFAULT_TIMEOUT,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT,
) -> WeaviateSearchIndex:
    """Connect to Weaviate at ``url`` (REST) and ``grpc_port`` (gRPC, same
    host and security) and make sure the collection exists.

    ``timeout`` bounds each search, delete, listing and ping (and opening),
    ``write_timeout`` each upsert request. Raises ``Unavailable`` if the
    server does not answer within ``timeout``.
    """
    host, port, secure = _endpoint(url)
    client = weaviate.use_async_with_custom(
        http_host=host,
        http_port=port,
        http_secure=secure,
        grpc_host=host,
        grpc_port=grpc_port,
        grpc_secure=secure,
        skip_init_checks=True,
        additional_config=AdditionalConfig(
            timeout=Timeout(init=timeout, query=timeout, insert=max(timeout, write_timeout)),
            grpc_config=GrpcConfig(channel_options=_GRPC_CHANNEL_OPTIONS),
        ),
    )
    scheme = "https" if secure else "http"
    index = WeaviateSearchIndex(
        client,
        dimensions,
        collection=collection,
        timeout=timeout,
        write_timeout=write_timeout,
        ready_url=f"{scheme}://{host}:{port}/v1/.well-known/ready",
    )
    try:
        async with index._guard("connect"):
            await client.connect()
        await index.ensure_schema()
    except BaseException:
        await index.close()
        raise
    return index


__all__ = [
    "COLLECTION",
    "WeaviateSearchIndex",
    "memory_uuid",
    "open_weaviate_index",
    "parse_explain_score",
    "query_terms",
    "search_filter",
]
