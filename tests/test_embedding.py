"""The embedders: local MiniLM (real model) and the OpenAI-compatible HTTP client
(against a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from graph.embedding import (
    MiniLMEmbedder,
    ModelIntegrityError,
    OpenAICompatibleEmbedder,
    create_embedder,
    openai_http,
)
from graph.errors import BadInput, Unavailable

CORPUS = [
    "The user prefers dark roast coffee",
    "Meeting with the finance team moved to Tuesday",
    "The cat sleeps on the windowsill",
    "Deploy the service with the blue-green strategy",
]


@pytest_asyncio.fixture(scope="module")
async def minilm() -> AsyncIterator[MiniLMEmbedder]:
    embedder = MiniLMEmbedder()
    await embedder.load()
    yield embedder
    await embedder.close()


# --- MiniLM -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What drink does the user like?", 0),
        ("When is the budget discussion now scheduled?", 1),
        ("Where does the kitten nap?", 2),
        ("switch traffic between two production environments", 3),
    ],
)
async def test_paraphrase_without_shared_keywords_is_nearest(
    minilm: MiniLMEmbedder, query: str, expected: int
) -> None:
    corpus = await minilm.embed(CORPUS)
    scores = corpus @ (await minilm.embed([query]))[0]
    assert int(np.argmax(scores)) == expected
    assert scores[expected] - np.delete(scores, expected).max() > 0.1


async def test_vectors_are_unit_float32_rows(minilm: MiniLMEmbedder) -> None:
    vectors = await minilm.embed(CORPUS)
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.model_id == "all-MiniLM-L6-v2-onnx-int8"
    assert minilm.dimensions == 384


async def test_empty_input_gives_no_rows(minilm: MiniLMEmbedder) -> None:
    vectors = await minilm.embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def _mixed_texts(count: int) -> list[str]:
    """Deterministic texts of very different lengths (1 to 60 words)."""
    words = ("note", "budget", "deploy", "garden", "invoice", "travel", "python", "meeting")
    return [
        " ".join(words[(i + j) % len(words)] for j in range(1 + (i * 13) % 60))
        for i in range(count)
    ]


async def test_batches_match_one_by_one_in_order(minilm: MiniLMEmbedder) -> None:
    texts = [*_mixed_texts(66), "", "x " * 400, *CORPUS]  # more than one batch of 64
    batched = await minilm.embed(texts)
    single = np.vstack([await minilm.embed([text]) for text in texts])
    assert batched.shape == (len(texts), 384)
    np.testing.assert_allclose(batched, single, atol=1e-5)


async def test_concurrent_single_calls_are_coalesced(
    minilm: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs: list[int] = []
    original = minilm._embed_sync

    def counting(texts: list[str]) -> Any:
        jobs.append(len(texts))
        return original(texts)

    monkeypatch.setattr(minilm, "_embed_sync", counting)
    texts = [*CORPUS, *_mixed_texts(16)]
    results = await asyncio.gather(*(minilm.embed([text]) for text in texts))
    assert jobs == [len(texts)]
    batch = await minilm.embed(texts)
    np.testing.assert_allclose(np.vstack(results), batch, atol=1e-5)


async def test_concurrent_calls_of_several_texts_get_their_own_rows(
    minilm: MiniLMEmbedder,
) -> None:
    groups = [CORPUS[:2], CORPUS[2:], _mixed_texts(5), [CORPUS[0]]]
    results = await asyncio.gather(*(minilm.embed(group) for group in groups))
    for group, vectors in zip(groups, results, strict=True):
        np.testing.assert_allclose(vectors, await minilm.embed(group), atol=1e-5)


async def test_model_with_wrong_sha256_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    embedder = MiniLMEmbedder(model_path=fake)
    try:
        with pytest.raises(ModelIntegrityError, match="sha256"):
            await embedder.load()
        with pytest.raises(ModelIntegrityError, match="sha256"):
            await embedder.embed(["hello"])
    finally:
        await embedder.close()


async def test_vocabulary_with_wrong_sha256_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "vocab.txt"
    fake.write_text("[PAD]\n[UNK]\n")
    embedder = MiniLMEmbedder(vocab_path=fake)
    try:
        with pytest.raises(ModelIntegrityError, match="vocabulary"):
            await embedder.load()
    finally:
        await embedder.close()


async def test_close_finishes_accepted_calls(minilm: MiniLMEmbedder) -> None:
    embedder = MiniLMEmbedder(max_wait=10.0)  # lazy: loads in the worker on first use
    waiting = asyncio.ensure_future(embedder.embed([CORPUS[0]]))
    await asyncio.sleep(0)  # the call is queued, waiting for company
    await embedder.close()
    vectors = await asyncio.wait_for(waiting, timeout=30)
    np.testing.assert_allclose(vectors, await minilm.embed([CORPUS[0]]), atol=1e-5)


async def test_closed_embedder_refuses_work() -> None:
    embedder = MiniLMEmbedder()
    await embedder.close()
    await embedder.close()
    with pytest.raises(Unavailable, match="closed"):
        await embedder.embed(["hello"])


# --- OpenAI-compatible HTTP ---------------------------------------------------

API_KEY = "sk-test-secret-0123456789"


@dataclass
class FakeServer:
    """A tiny OpenAI-compatible /embeddings server. The first path segment picks
    the behaviour: ok, wrongdim, fail (HTTP 500), flaky (500 once), garbage, slow."""

    base: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)


def _vector(text: str, dims: int) -> list[float]:
    return [float(len(text) + 1), *(float((ord(c) % 7) + 1) for c in text.ljust(dims - 1))][:dims]


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            mode, _, rest = self.path.strip("/").partition("/")
            server.requests.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
            )
            server.calls[mode] = server.calls.get(mode, 0) + 1
            if rest != "v1/embeddings":
                self._send(404, b'{"error": "not found"}')
            elif mode == "fail" or (mode == "flaky" and server.calls[mode] == 1):
                self._send(500, b'{"error": {"message": "overloaded"}}')
            elif mode == "slow":
                time.sleep(0.5)
                with contextlib.suppress(OSError):  # the client has given up by now
                    self._send(200, b'{"data": []}')
            elif mode == "garbage":
                self._send(200, b'{"object": "list", "data": "nope"}')
            else:
                dims = 3 if mode == "wrongdim" else 8
                data = [
                    {"object": "embedding", "index": i, "embedding": _vector(text, dims)}
                    for i, text in enumerate(body["input"])
                ]
                data.reverse()  # clients must order by "index", not by position
                self._send(200, json.dumps({"object": "list", "data": data}).encode())

    return Handler


@pytest.fixture(scope="module")
def http_server() -> Iterator[FakeServer]:
    state = FakeServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def _fast_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openai_http, "RETRY_DELAY", 0.01)


def _client(server: FakeServer, mode: str, **options: Any) -> OpenAICompatibleEmbedder:
    settings: dict[str, Any] = {
        "base_url": f"{server.base}/{mode}/v1/",
        "model": "test-embed",
        "dimensions": 8,
        "api_key": API_KEY,
        "timeout": 5.0,
    }
    return OpenAICompatibleEmbedder(**(settings | options))


def _expected(texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
    raw = np.array([_vector(text, 8) for text in texts], dtype=np.float32)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


async def test_openai_request_shape_order_and_normalisation(http_server: FakeServer) -> None:
    embedder = _client(http_server, "ok", batch_size=3)
    texts = ["a", "longer text", "mid", "z" * 20, "q"]
    try:
        vectors = await embedder.embed(texts)
    finally:
        await embedder.close()
    assert embedder.model_id == "test-embed"
    assert embedder.dimensions == 8
    assert vectors.dtype == np.float32
    assert vectors.shape == (5, 8)
    np.testing.assert_allclose(vectors, _expected(texts), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    sent = http_server.requests[-2:]
    assert [r["body"] for r in sent] == [
        {"model": "test-embed", "input": texts[:3]},
        {"model": "test-embed", "input": texts[3:]},
    ]
    assert all(r["path"] == "/ok/v1/embeddings" for r in sent)
    assert all(r["auth"] == f"Bearer {API_KEY}" for r in sent)


async def test_openai_without_key_sends_no_authorization(http_server: FakeServer) -> None:
    embedder = _client(http_server, "ok", api_key=None)
    try:
        assert (await embedder.embed([])).shape == (0, 8)
        await embedder.embed(["hello"])
    finally:
        await embedder.close()
    assert http_server.requests[-1]["auth"] is None


async def test_openai_dimension_mismatch_is_unavailable(http_server: FakeServer) -> None:
    embedder = _client(http_server, "wrongdim")
    try:
        with pytest.raises(Unavailable, match=r"3-dimensional.*configured dimensions are 8"):
            await embedder.embed(["hello"])
    finally:
        await embedder.close()


async def test_openai_server_error_is_retried_once_then_unavailable(
    http_server: FakeServer,
) -> None:
    embedder = _client(http_server, "fail")
    before = http_server.calls.get("fail", 0)
    try:
        with pytest.raises(Unavailable, match="HTTP 500") as raised:
            await embedder.embed(["hello"])
    finally:
        await embedder.close()
    assert http_server.calls["fail"] - before == 2
    assert API_KEY not in str(raised.value)
    assert API_KEY not in raised.value.message


async def test_openai_server_error_once_succeeds_on_retry(http_server: FakeServer) -> None:
    embedder = _client(http_server, "flaky")
    try:
        vectors = await embedder.embed(["hello"])
    finally:
        await embedder.close()
    np.testing.assert_allclose(vectors, _expected(["hello"]), atol=1e-6)
    assert http_server.calls["flaky"] == 2


async def test_openai_bad_payload_and_client_errors_are_unavailable(
    http_server: FakeServer,
) -> None:
    for mode, pattern in (("garbage", "'data'"), ("missing/extra", "HTTP 404")):
        embedder = _client(http_server, mode)
        try:
            with pytest.raises(Unavailable, match=pattern) as raised:
                await embedder.embed(["hello"])
        finally:
            await embedder.close()
        assert API_KEY not in str(raised.value)


async def test_openai_timeout_is_unavailable(http_server: FakeServer) -> None:
    embedder = _client(http_server, "slow", timeout=0.1)
    try:
        with pytest.raises(Unavailable, match=r"timed out after 0\.1 s"):
            await embedder.embed(["hello"])
    finally:
        await embedder.close()


async def test_openai_unreachable_server_is_unavailable() -> None:
    embedder = OpenAICompatibleEmbedder(
        base_url=f"http://127.0.0.1:{_unused_port()}/v1",
        model="m",
        dimensions=8,
        api_key=API_KEY,
        timeout=2.0,
    )
    try:
        with pytest.raises(Unavailable, match="could not be reached") as raised:
            await embedder.embed(["hello"])
    finally:
        await embedder.close()
    assert API_KEY not in str(raised.value)


def _unused_port() -> int:
    """A local port with nothing listening on it (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- factory ------------------------------------------------------------------


async def test_factory_builds_each_kind() -> None:
    local = create_embedder("minilm", threads=1)
    remote = create_embedder(
        "OpenAI", base_url="http://127.0.0.1:1/v1", model="m", dimensions=16, api_key="k"
    )
    try:
        assert isinstance(local, MiniLMEmbedder)
        assert isinstance(remote, OpenAICompatibleEmbedder)
        assert remote.dimensions == 16
    finally:
        await local.close()
        await remote.close()


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("word2vec", {}, "unknown embedder 'word2vec'"),
        ("minilm", {"base_url": "http://x"}, "does not take base_url"),
        ("minilm", {"dimensions": 768}, "384-dimensional"),
        ("minilm", {"threads": 0}, "at least 1"),
        ("openai", {"model": "m"}, "needs base_url, dimensions"),
        ("openai", {"base_url": "ftp://x", "model": "m", "dimensions": 8}, "http"),
        ("openai", {"base_url": "http://x", "model": "m", "dimensions": 0}, "positive"),
        (
            "openai",
            {"base_url": "http://x", "model": "m", "dimensions": 8, "threads": 2},
            "threads",
        ),
    ],
)
def test_factory_rejects_bad_config(kind: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        create_embedder(kind, **options)
