"""One real server for the end-to-end tests of this package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, backend_name: str) -> Iterator[ServerProcess]:
    data_dir: Path = tmp_path_factory.mktemp(f"e2e-{backend_name}") / "data"
    process = ServerProcess(data_dir, backend_name)
    process.start()
    yield process
    process.stop()


def post(
    server: ServerProcess, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    return httpx.post(
        server.url,
        json={"query": query, "variables": variables or {}},
        headers={"accept": "application/graphql-response+json", **server.headers, **headers},
        timeout=30,
    )


def data_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return dict(body["data"])
