"""The Weaviate adapter: :class:`WeaviateSearchIndex` (hybrid BM25 + vector search)."""

from graph.adapters.weaviate.index import COLLECTION, WeaviateSearchIndex, open_weaviate_index
from graph.adapters.weaviate.mapping import memory_uuid
from graph.adapters.weaviate.tenants import weaviate_tenant

__all__ = [
    "COLLECTION",
    "WeaviateSearchIndex",
    "memory_uuid",
    "open_weaviate_index",
    "weaviate_tenant",
]
