"""Fixtures for the whole suite: every test that needs storage gets it from
``backends``, so the same tests run against each backend set.

``AGENTMEM_TEST_BACKENDS`` (comma list, default ``embedded``) names the sets
to run; each test using ``backends`` runs once per set. A name this file does
not know fails the tests loudly instead of skipping them. ``neo4j`` needs
``AGENTMEM_NEO4J_URI``/``_USER``/``_PASSWORD`` and empties that graph before
each test. ``production`` (Neo4j + Weaviate + Redis) and ``weaviate`` (embedded
SQLite graph + Weaviate + Redis) also need ``AGENTMEM_WEAVIATE_URL``,
``AGENTMEM_WEAVIATE_GRPC_PORT`` and ``AGENTMEM_REDIS_URL``, and empty Weaviate
and Redis before each test. Tests marked ``outage`` stop a local server with
``deploy/local/services`` and always start it again; they run by default.

The embedder inside test backends is the deterministic ``HashingEmbedder``.
To use another one (e.g. the real MiniLM model), override the
``embedder_factory`` fixture, or mark a test ``@pytest.mark.real_embedder``
and provide a ``real_embedder_factory`` fixture.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import pytest
from neo4j import AsyncGraphDatabase

from graph.adapters.neo4j.store import Neo4jSettings
from graph.adapters.redis import RedisCache
from graph.adapters.sets import BackendConfig, open_backends
from graph.adapters.weaviate import open_weaviate_index
from graph.ports import Backends, Embedder
from tests.support import BACKEND_SERVERS, BackendFactory, EmbedderFactory, HashingEmbedder

BACKENDS_ENV = "AGENTMEM_TEST_BACKENDS"
KNOWN_BACKENDS = tuple(BACKEND_SERVERS)


def requested_backends() -> list[str]:
    raw = os.environ.get(BACKENDS_ENV, "embedded")
    return [name.strip() for name in raw.split(",") if name.strip()] or ["embedded"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_embedder: build test backends with the embedder from the "
        "`real_embedder_factory` fixture instead of the hashing embedder",
    )
    config.addinivalue_line(
        "markers",
        "outage: stops a local server (deploy/local/services) and starts it again; "
        "run by default, deselect with -m 'not outage'",
    )


def _fail_unknown(name: str) -> NoReturn:
    pytest.fail(
        f"{BACKENDS_ENV} names the unknown backend set {name!r}; "
        f"known sets: {', '.join(KNOWN_BACKENDS)}.",
        pytrace=False,
    )


@pytest.fixture(scope="session", params=requested_backends())
def backend_name(request: pytest.FixtureRequest) -> str:
    """The backend set under test (one parameter per requested set); an
    unknown name fails every test that depends on it."""
    name: str = request.param
    if name not in KNOWN_BACKENDS:
        _fail_unknown(name)
    return name


@pytest.fixture
def embedder_factory(request: pytest.FixtureRequest) -> EmbedderFactory:
    """Makes the embedder for each opened backend set (a fresh one each time,
    since closing a backend set closes its embedder)."""
    if request.node.get_closest_marker("real_embedder") is not None:
        factory: EmbedderFactory = request.getfixturevalue("real_embedder_factory")
        return factory
    return HashingEmbedder


# -- the "neo4j" set: Neo4j graph store, embedded search index, in-process bus/cache --

NEO4J_ENV = ("AGENTMEM_NEO4J_URI", "AGENTMEM_NEO4J_USER", "AGENTMEM_NEO4J_PASSWORD")


def neo4j_settings() -> Neo4jSettings:
    """Connection settings from the environment; missing ones fail the test."""
    missing = [name for name in NEO4J_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"The backend set 'neo4j' needs {', '.join(missing)} "
            '(e.g. eval "$(deploy/local/services env)").',
            pytrace=False,
        )
    uri, user, password = (os.environ[name] for name in NEO4J_ENV)
    return Neo4jSettings(uri, user, password, os.environ.get("AGENTMEM_NEO4J_DATABASE") or None)


NEO4J_LOCK = Path(tempfile.gettempdir()) / "agentmem-neo4j-tests.lock"
"""Held by a test session (or bench run) that wipes or fills the shared Neo4j."""


@pytest.fixture(scope="session")
def neo4j_exclusive() -> Iterator[None]:
    """Serialise the sessions on this machine that empty the one Neo4j
    database before each test: a second one waits for the first to finish."""
    with NEO4J_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def wipe_neo4j(settings: Neo4jSettings) -> None:
    """Empty the store's graph: every node with one of its labels (schema and
    migration records stay, and so do other programs' nodes in a shared
    server). The outbox is global, so a fresh tenant per test would not
    isolate tests; they run serially against one database."""
    driver = AsyncGraphDatabase.driver(settings.uri, auth=(settings.user, settings.password))
    try:
        await driver.execute_query(
            "MATCH (n) WHERE n:Node OR n:MemoryVersion OR n:OutboxEntry OR n:Counter OR n:ApiKey"
            " OR n:AuditRecord OR n:AuditHead"
            " DETACH DELETE n",
            database_=settings.database,
        )
    finally:
        await driver.close()


# -- "production" (Neo4j + Weaviate + Redis) and "weaviate" (SQLite graph + Weaviate + Redis)

SERVER_SETS = ("production", "weaviate")
SERVER_ENV = ("AGENTMEM_WEAVIATE_URL", "AGENTMEM_WEAVIATE_GRPC_PORT", "AGENTMEM_REDIS_URL")


def server_settings() -> tuple[str, int, str]:
    """(Weaviate URL, Weaviate gRPC port, Redis URL); missing ones fail the test."""
    missing = [name for name in SERVER_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"The backend sets {SERVER_SETS} need {', '.join(missing)} "
            '(e.g. eval "$(deploy/local/services env)").',
            pytrace=False,
        )
    url, grpc_port, redis_url = (os.environ[name] for name in SERVER_ENV)
    return url, int(grpc_port), redis_url


async def wipe_servers() -> None:
    """Remove every Weaviate tenant (so every document) and flush the Redis database."""
    url, grpc_port, redis_url = server_settings()
    index = await open_weaviate_index(url, grpc_port, 1)
    try:
        await index.drop_all_tenants()
    finally:
        await index.close()
    shared = RedisCache(redis_url)
    try:
        await shared.flush_database()
    finally:
        await shared.close()


async def _open(name: str, data_dir: Path, embedder: Embedder) -> Backends:
    """Open a backend set the way the server does (:mod:`graph.adapters.sets`)."""
    if name not in KNOWN_BACKENDS:
        _fail_unknown(name)
    servers = BACKEND_SERVERS[name]
    config = BackendConfig(data_dir)
    if "neo4j" in servers:
        neo4j = neo4j_settings()
        config = replace(
            config,
            neo4j_uri=neo4j.uri,
            neo4j_user=neo4j.user,
            neo4j_password=neo4j.password,
            neo4j_database=neo4j.database,
        )
    if "weaviate" in servers:
        url, grpc_port, _ = server_settings()
        config = replace(config, weaviate_url=url, weaviate_grpc_port=grpc_port)
    if "redis" in servers:
        config = replace(config, redis_url=server_settings()[2])
    return await open_backends(config, embedder)


@pytest.fixture
async def backend_factory(
    request: pytest.FixtureRequest,
    backend_name: str,
    tmp_path: Path,
    embedder_factory: EmbedderFactory,
) -> AsyncIterator[BackendFactory]:
    """Opens the backend set on this test's storage; call it again (after
    closing the first) to reopen the same data. Everything opened is closed
    after the test."""
    opened: list[Backends] = []
    data_dir = tmp_path / "data"
    if backend_name in ("neo4j", "production"):
        request.getfixturevalue("neo4j_exclusive")
        await wipe_neo4j(neo4j_settings())
    if backend_name in SERVER_SETS:
        request.getfixturevalue("neo4j_exclusive")  # Weaviate and Redis are shared too
        await wipe_servers()

    async def open_backends() -> Backends:
        backends = await _open(backend_name, data_dir, embedder_factory())
        opened.append(backends)
        return backends

    yield open_backends
    for backends in reversed(opened):
        await backends.close()


@pytest.fixture
async def backends(backend_factory: BackendFactory) -> Backends:
    """A fresh, empty backend set for one test."""
    return await backend_factory()
