"""Chooses and opens the backends the settings name.

With no server configured, everything is embedded in the data folder; each of
``AGENTMEM_NEO4J_URI``, ``AGENTMEM_WEAVIATE_URL`` and ``AGENTMEM_REDIS_URL``
moves its part to that server (see :mod:`graph.adapters.sets`).
"""

from __future__ import annotations

from graph.adapters.sets import BackendConfig, open_backends
from graph.embedding import create_embedder
from graph.errors import BadInput
from graph.memory_graph import MemoryGraph
from graph.ports import Embedder
from graph.resilience import BreakerPolicy, ResiliencePolicy, RetryPolicy
from graphql_api.settings import Settings


def make_embedder(settings: Settings) -> Embedder:
    return create_embedder(
        settings.embedder,
        base_url=settings.embedder_url,
        model=settings.embedder_model,
        api_key=settings.embedder_api_key,
        dimensions=settings.embedder_dimensions,
        threads=settings.embedder_threads,
        timeout=settings.embedder_timeout,
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
        neo4j_timeout=_positive(settings.neo4j_timeout, "neo4j_timeout"),
        neo4j_connect_timeout=_positive(settings.neo4j_connect_timeout, "neo4j_connect_timeout"),
        neo4j_retry_seconds=settings.neo4j_retry_seconds,
        weaviate_timeout=_positive(settings.weaviate_timeout, "weaviate_timeout"),
        weaviate_write_timeout=_positive(settings.weaviate_write_timeout, "weaviate_write_timeout"),
        redis_timeout=_positive(settings.redis_timeout, "redis_timeout"),
        resilience=resilience_policy(settings),
    )


def resilience_policy(settings: Settings) -> ResiliencePolicy:
    """The breaker and retry settings; ``BadInput`` names a value that cannot work."""
    try:
        return ResiliencePolicy(
            breaker=BreakerPolicy(
                failure_threshold=settings.breaker_failure_threshold,
                failure_ratio=settings.breaker_failure_ratio,
                window=settings.breaker_window,
                minimum_calls=settings.breaker_minimum_calls,
                open_seconds=settings.breaker_open_seconds,
                probes=settings.breaker_probes,
            ),
            retry=RetryPolicy(
                attempts=settings.retry_attempts,
                base_delay=settings.retry_base_delay,
                max_delay=settings.retry_max_delay,
            ),
        )
    except ValueError as exc:
        raise BadInput(f"invalid resilience setting: {exc}") from exc


def _positive(value: float, name: str) -> float:
    if value <= 0:
        raise BadInput(f"setting {name} must be positive, got {value}")
    return value


async def open_graph(settings: Settings) -> MemoryGraph:
    """The domain over the backends the settings choose."""
    backends = await open_backends(backend_config(settings), make_embedder(settings))
    from graphql_api.vault import open_vault

    try:
        vault = open_vault(settings)
    except BaseException:
        await backends.close()
        raise
    return MemoryGraph(backends, settings.limits, settings.audit_retention_days, vault)
