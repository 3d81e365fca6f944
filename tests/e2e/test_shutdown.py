"""Graceful shutdown of a real ``agentmem serve``: SIGTERM while a request is
in flight and a subscription is open."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import ServerProcess

SUBSCRIBE = "subscription { memoryEvents { kind memory { id } } }"
ADD = 'mutation { addMemory(input: {content: "written while the server stops"}) { id } }'

SERVICE_RESTART = 1012


def start_slow_request(port: int, api_key: str) -> tuple[socket.socket, bytes]:
    """Send a request's headers and half its body; returns the socket and
    the rest of the body. The server has begun the request but cannot finish it."""
    body = json.dumps({"query": ADD}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {api_key}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    half = len(body) // 2
    sock.sendall(head + body[:half])
    return sock, body[half:]


def read_response(sock: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(payload)


@pytest.fixture
def embedded_server(tmp_path: Path, backend_name: str) -> ServerProcess:
    if backend_name != "embedded":
        pytest.skip("one run is enough: shutdown does not depend on the backend set")
    return ServerProcess(tmp_path / "data", backend_name)


async def test_sigterm_drains_the_request_closes_subscriptions_and_exits_zero(
    embedded_server: ServerProcess,
) -> None:
    server = embedded_server
    server.start()
    process = server.process
    assert process is not None
    try:
        ws = await connect(server.ws_url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": server.init_payload}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.3)  # the server registers the subscriber

        assert server.api_key is not None
        sock, rest = start_slow_request(server.port, server.api_key)
        await asyncio.sleep(0.3)  # the server has read the headers: the request is in flight
        process.send_signal(signal.SIGTERM)

        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 20)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == SERVICE_RESTART

        with pytest.raises(OSError):  # no longer accepting connections
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()

        sock.sendall(rest)  # the in-flight request may now finish
        status, body = await asyncio.to_thread(read_response, sock)
        sock.close()
        assert status == 200, body
        assert "errors" not in body, body
        assert isinstance(body["data"], dict) and body["data"]["addMemory"]["id"]

        assert await asyncio.to_thread(process.wait, 30) == 0
    finally:
        server.stop()
