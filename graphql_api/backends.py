"""Chooses and opens the backends the settings name.

With no server configured, everything is embedded in the data folder; each of
``AGENTMEM_NEO4J_URI``, ``AGENTMEM_WEAVIATE_URL`` and ``AGENTMEM_REDIS_URL``
moves its part to that server (see :mod:`graph.adapters.sets`).
"""

from __future__ import annotations

from graph.adapters.sets import BackendConfig, open_backends
from graph.embedding import create_embedder
from graph.memory_graph import MemoryGraph
from graph.ports import Embedder
from graphql_api.settings import Settings


def make_embedder(settings: Settings) -> Embedder:
    return create_embedder(
        settings.embedder,
        base_url=settings.embedder_url,
        model=settings.embedder_model,
        api_key=settings.embedder_api_key,
        dimensions=settings.embedder_dimensions,
        threads=settings.embedder_threads,
    )


def backend_config(settings: Settings) -> BackendConfig:
    return BackendConfig(
        data_dir=settings.data_dir,
        neo4j_uri=settings.neo4j_uri,
        neo4j_user=settings.neo4j_user,
        neo4j_password=settings.neo4j_password,
        neo4j_database=settings.neo4j_database,
        weaviate_url=settings.weaviate_url,
        weaviate_grpc_port=settings.weaviate_grpc_port,
        redis_url=settings.redis_url,
    )


async def open_graph(settings: Settings) -> MemoryGraph:
    """The domain over the backends the settings choose."""
    backends = await open_backends(backend_config(settings), make_embedder(settings))
    return MemoryGraph(backends, settings.limits)
