"""Opens one set of adapters from a :class:`BackendConfig`.

Each port is chosen on its own: the graph in Neo4j when a Neo4j URI is given
(otherwise SQLite in the data folder), search in Weaviate when a Weaviate URL
is given (otherwise FTS5 + vectors in the same SQLite file), events and the
shared cache in Redis when a Redis URL is given (otherwise in-process). The
audit log lives beside the graph (Neo4j or the SQLite file). The server, the
admin commands and the test-suite all open backends through here.

Every port except the event bus (which rides out Redis outages by itself) is
wrapped in a guard with its backend's circuit breaker and, for idempotent
calls, retries (see :mod:`graph.resilience` and docs/resilience.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.adapters.inprocess import InProcessCache, InProcessEventBus
from graph.adapters.sqlite.apikeys import SqliteApiKeyStore
from graph.adapters.sqlite.audit import SqliteAuditLog
from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.search import SqliteSearchIndex
from graph.adapters.sqlite.store import SqliteGraphStore
from graph.ports import (
    ApiKeyStore,
    AuditLog,
    Backends,
    Cache,
    Embedder,
    EventBus,
    GraphStore,
    SearchIndex,
)
from graph.resilience.boundary import (
    CACHE_IDEMPOTENT,
    EMBEDDER_IDEMPOTENT,
    GRAPH_IDEMPOTENT,
    SEARCH_IDEMPOTENT,
    BreakerBoard,
    ResiliencePolicy,
)
from graph.resilience.guard import guarded
from graph.telemetry import instrument

DATABASE_FILE = "agentmem.db"
"""The embedded store's one file in the data folder: graph and search index."""


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """Which server holds each part; ``BackendConfig(data_dir)`` alone is the
    embedded default, everything in one SQLite file in ``data_dir``."""

    data_dir: Path
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = field(default=None, repr=False)
    neo4j_database: str | None = None
    weaviate_url: str | None = None
    weaviate_grpc_port: int = 50051
    redis_url: str | None = None
    neo4j_timeout: float = 15.0
    """Seconds one graph store call may take, driver retries included."""
    neo4j_connect_timeout: float = 5.0
    neo4j_retry_seconds: float = 10.0
    """How long the Neo4j driver retries a transaction that failed transiently."""
    weaviate_timeout: float = 10.0
    """Seconds a search, delete, listing or ping may take."""
    weaviate_write_timeout: float = 60.0
    """Seconds one upsert request may take."""
    redis_timeout: float = 2.0
    """Seconds one Redis command (or connecting) may take."""
    resilience: ResiliencePolicy = field(default_factory=ResiliencePolicy)

    @property
    def name(self) -> str:
        """A short description of the set, e.g. ``neo4j+weaviate+redis``."""
        parts = [
            "neo4j" if self.neo4j_uri else "sqlite",
            "weaviate" if self.weaviate_url else "fts5",
            "redis" if self.redis_url else "in-process",
        ]
        return "+".join(parts)


async def open_backends(config: BackendConfig, embedder: Embedder) -> Backends:
    """Open every port; on any failure, close what was opened and re-raise."""
    opened: list[Any] = []
    db: SqliteDatabase | None = None
    board = BreakerBoard(config.resilience)
    try:
        if config.neo4j_uri is None or config.weaviate_url is None:
            config.data_dir.mkdir(parents=True, exist_ok=True)
            db = await SqliteDatabase.open(config.data_dir / DATABASE_FILE)
        store = await _open_store(config, db)
        opened.append(store)
        index = await _open_index(config, db, embedder)
        opened.append(index)
        bus, cache, shared = await _open_fanout(config, opened, board)
        apikeys = _open_apikeys(store, db)
    except BaseException:
        for part in reversed(opened):
            await part.close()
        if db is not None and not db.closed:
            await db.close()
        raise
    # The driver retries Neo4j transactions itself (jittered back-off, only
    # when the transaction certainly did not commit); the embedding client
    # retries once. Their guards only add the breaker. Instrumentation sits
    # inside the guard: one span and one latency per real backend call.
    store = instrument(store, "neo4j" if config.neo4j_uri else "sqlite")
    index = instrument(index, "weaviate" if config.weaviate_url else "sqlite")
    return Backends(
        guarded(store, board.guard("graph", retry=False), GRAPH_IDEMPOTENT),
        guarded(index, board.guard("search"), SEARCH_IDEMPOTENT),
        guarded(
            instrument(embedder, "embedder"),
            board.guard("embedder", retry=False),
            EMBEDDER_IDEMPOTENT,
        ),
        bus,
        cache,
        _audit_log(store, db),
        apikeys=apikeys,
        shared_cache=shared,
        breakers=tuple(board.breakers.values()),
    )


def _open_apikeys(store: GraphStore, db: SqliteDatabase | None) -> ApiKeyStore:
    """API keys live with the graph: in Neo4j beside it, else in the SQLite file."""
    if db is None or not isinstance(store, SqliteGraphStore):
        from graph.adapters.neo4j.apikeys import Neo4jApiKeyStore
        from graph.adapters.neo4j.store import Neo4jGraphStore

        assert isinstance(store, Neo4jGraphStore)
        return Neo4jApiKeyStore.sharing(store)
    return SqliteApiKeyStore(db)


def _audit_log(store: GraphStore, db: SqliteDatabase | None) -> AuditLog:
    """The audit trail lives with the graph: in Neo4j beside a Neo4j store,
    otherwise in the SQLite file."""
    if isinstance(store, SqliteGraphStore):
        assert db is not None
        return SqliteAuditLog(db)
    from graph.adapters.neo4j.audit import Neo4jAuditLog
    from graph.adapters.neo4j.runner import Neo4jRunner

    assert isinstance(store, Neo4jRunner)
    return Neo4jAuditLog.sharing(store)


async def _open_store(config: BackendConfig, db: SqliteDatabase | None) -> GraphStore:
    if config.neo4j_uri is None:
        assert db is not None
        return SqliteGraphStore(db)
    from graph.adapters.neo4j.store import Neo4jSettings, open_store

    return await open_store(
        Neo4jSettings(
            config.neo4j_uri,
            config.neo4j_user,
            config.neo4j_password or "",
            config.neo4j_database,
            connect_timeout=config.neo4j_connect_timeout,
            retry_seconds=config.neo4j_retry_seconds,
            timeout=config.neo4j_timeout,
        )
    )


async def _open_index(
    config: BackendConfig, db: SqliteDatabase | None, embedder: Embedder
) -> SearchIndex:
    if config.weaviate_url is None:
        assert db is not None
        return SqliteSearchIndex(db, embedder.dimensions)
    from graph.adapters.weaviate import open_weaviate_index

    return await open_weaviate_index(
        config.weaviate_url,
        config.weaviate_grpc_port,
        embedder.dimensions,
        timeout=config.weaviate_timeout,
        write_timeout=config.weaviate_write_timeout,
    )


async def _open_fanout(
    config: BackendConfig, opened: list[Any], board: BreakerBoard
) -> tuple[EventBus, Cache, Cache | None]:
    if config.redis_url is None:
        return InProcessEventBus(), InProcessCache(), None
    from graph.adapters.redis.bus import open_redis_bus
    from graph.adapters.redis.cache import LayeredCache, RedisCache

    bus = instrument(await open_redis_bus(config.redis_url, timeout=config.redis_timeout), "redis")
    opened.append(bus)
    shared = instrument(RedisCache(config.redis_url, timeout=config.redis_timeout), "redis")
    opened.append(shared)
    await shared.ping()
    cache = LayeredCache(InProcessCache(), guarded(shared, board.guard("cache"), CACHE_IDEMPOTENT))
    opened.remove(shared)
    opened.append(cache)
    return bus, cache, cache.fresh_view()
