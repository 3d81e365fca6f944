"""Chooses and opens the backends the settings name.

With no server configured, everything is embedded in the data folder.
"""

from __future__ import annotations

from graph.adapters.embedded import open_embedded
from graph.embedding import create_embedder
from graph.memory_graph import MemoryGraph
from graph.ports import Backends, Embedder
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


async def open_backends(settings: Settings) -> Backends:
    return await open_embedded(settings.data_dir, make_embedder(settings))


async def open_graph(settings: Settings) -> MemoryGraph:
    """The domain over the backends the settings choose."""
    return MemoryGraph(await open_backends(settings), settings.limits)
