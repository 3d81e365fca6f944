"""Fixtures for the whole suite: every test that needs storage gets it from
``backends``, so the same tests run against each backend set.

``AGENTMEM_TEST_BACKENDS`` (comma list, default ``embedded``) names the sets
to run; each test using ``backends`` runs once per set. A name this file does
not know fails the tests loudly instead of skipping them.

The embedder inside test backends is the deterministic ``HashingEmbedder``.
To use another one (e.g. the real MiniLM model), override the
``embedder_factory`` fixture, or mark a test ``@pytest.mark.real_embedder``
and provide a ``real_embedder_factory`` fixture.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import pytest

from graph.adapters.embedded import open_embedded
from graph.ports import Backends, Embedder
from tests.support import BackendFactory, EmbedderFactory, HashingEmbedder

BACKENDS_ENV = "AGENTMEM_TEST_BACKENDS"
KNOWN_BACKENDS = ("embedded",)


def requested_backends() -> list[str]:
    raw = os.environ.get(BACKENDS_ENV, "embedded")
    return [name.strip() for name in raw.split(",") if name.strip()] or ["embedded"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_embedder: build test backends with the embedder from the "
        "`real_embedder_factory` fixture instead of the hashing embedder",
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


async def _open(name: str, data_dir: Path, embedder: Embedder) -> Backends:
    if name == "embedded":
        return await open_embedded(data_dir, embedder)
    _fail_unknown(name)


@pytest.fixture
async def backend_factory(
    backend_name: str, tmp_path: Path, embedder_factory: EmbedderFactory
) -> AsyncIterator[BackendFactory]:
    """Opens the backend set on this test's storage; call it again (after
    closing the first) to reopen the same data. Everything opened is closed
    after the test."""
    opened: list[Backends] = []
    data_dir = tmp_path / "data"

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
