"""Authentication of a real server: no credentials, no access; keys from the
CLI and the admin mutations; a revoked key ends its live subscription (4403);
the bootstrap key and ``--insecure-dev`` safeguards."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import agentmem
from tests.e2e.test_subscriptions import SUBSCRIBE

FORBIDDEN_CLOSE = 4403
CREATE_KEY = """mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { token key { id name roles revokedAt } }
}"""


def as_key(server: ServerProcess, token: str, query: str, **variables: Any) -> httpx.Response:
    return httpx.post(
        server.url,
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}", "accept": "application/json"},
        timeout=30,
    )


def create_key(server: ServerProcess, *roles: str, name: str = "e2e") -> dict[str, Any]:
    variables = {"input": {"name": name, "roles": list(roles)}}
    return dict(data_of(post(server, CREATE_KEY, variables))["createApiKey"])


def code_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def test_requests_without_valid_credentials_are_refused_and_change_nothing(
    server: ServerProcess,
) -> None:
    count = "{ memories { totalCount } }"
    before = data_of(post(server, count))["memories"]["totalCount"]
    add = 'mutation { addMemory(input: {content: "anonymous write"}) { id } }'
    for headers in ({}, {"authorization": "Bearer amk_0000000000000000_" + "x" * 43}):
        refused = httpx.post(server.url, json={"query": add}, headers=headers, timeout=30)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert code_of(refused) == "UNAUTHENTICATED"
        assert "data" not in refused.json()
    assert data_of(post(server, count))["memories"]["totalCount"] == before


def test_the_bootstrap_key_file_is_private_and_its_path_is_printed(
    server: ServerProcess,
) -> None:
    key_file = server.bootstrap_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    log = server.log.read_text()
    assert str(key_file) in log
    assert server.api_key is not None and server.api_key not in log


def test_a_reader_key_reads_but_may_not_write_or_administer_keys(server: ServerProcess) -> None:
    reader = create_key(server, "reader", name="reader")
    assert reader["key"]["roles"] == ["reader"] and reader["token"].startswith("amk_")
    count = "{ memories { totalCount } }"
    read = as_key(server, reader["token"], count)
    assert read.status_code == 200 and "errors" not in read.json()
    before = read.json()["data"]["memories"]["totalCount"]
    add = 'mutation { addMemory(input: {content: "a reader tries to write"}) { id } }'
    assert code_of(as_key(server, reader["token"], add)) == "FORBIDDEN"
    assert data_of(post(server, count))["memories"]["totalCount"] == before
    for query in ("{ apiKeys { id } }", CREATE_KEY):
        refused = as_key(server, reader["token"], query, input={"name": "x", "roles": ["admin"]})
        assert code_of(refused) == "FORBIDDEN"
    listed = data_of(post(server, "{ apiKeys { id name roles } }"))["apiKeys"]
    assert reader["key"]["id"] in [k["id"] for k in listed]
    assert "token" not in json.dumps(listed) and "hash" not in json.dumps(listed).lower()


def test_rotation_retires_the_old_key_and_revocation_is_immediate(server: ServerProcess) -> None:
    old = create_key(server, "writer", name="rotating")
    rotate = "mutation($id: ID!) { rotateApiKey(id: $id) { token key { id name } } }"
    new = data_of(post(server, rotate, {"id": old["key"]["id"]}))["rotateApiKey"]
    assert new["key"]["name"] == "rotating" and new["token"] != old["token"]
    assert as_key(server, old["token"], "{ agents { edges { cursor } } }").status_code == 401
    assert as_key(server, new["token"], "{ agents { edges { cursor } } }").status_code == 200
    revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"
    revoked = data_of(post(server, revoke, {"id": new["key"]["id"]}))["revokeApiKey"]
    assert revoked["revokedAt"] is not None
    assert as_key(server, new["token"], "{ agents { edges { cursor } } }").status_code == 401


@pytest.mark.parametrize("payload", [{}, {"authorization": "Bearer amk_nope"}])
async def test_a_websocket_without_valid_credentials_is_refused(
    server: ServerProcess, payload: dict[str, str]
) -> None:
    ws = await connect(server.ws_url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == FORBIDDEN_CLOSE


async def test_revoking_a_key_ends_its_live_subscription_with_4403(server: ServerProcess) -> None:
    key = create_key(server, "reader", name="subscriber")
    ws = await connect(server.ws_url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    try:
        init = {"type": "connection_init", "payload": {"apiKey": key["token"]}}
        await ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.3)
        add = 'mutation { addMemory(input: {content: "seen before revocation"}) { id } }'
        data_of(post(server, add))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "next"
        revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { id } }"
        data_of(post(server, revoke, {"id": key["key"]["id"]}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == FORBIDDEN_CLOSE
    finally:
        await ws.close()


def test_cli_keys_work_against_the_server(server: ServerProcess) -> None:
    scope = ("--data-dir", str(server.data_dir))
    created = agentmem(
        "apikey", "create", "--role", "reader", "--name", "cli", *scope, env=server.env
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("amk_")
    assert as_key(server, token, "{ memories { totalCount } }").status_code == 200
    key_id = token.split("_")[1]
    listed = agentmem("apikey", "list", *scope, env=server.env)
    assert key_id in listed.stdout and token.split("_", 2)[2] not in listed.stdout
    rotated = agentmem("apikey", "rotate", key_id, *scope, env=server.env)
    assert rotated.returncode == 0, rotated.stderr
    new_token = rotated.stdout.strip().splitlines()[-1]
    assert as_key(server, token, "{ memories { totalCount } }").status_code == 401
    assert as_key(server, new_token, "{ memories { totalCount } }").status_code == 200
    revoked = agentmem("apikey", "revoke", new_token.split("_")[1], *scope, env=server.env)
    assert revoked.returncode == 0, revoked.stderr
    assert as_key(server, new_token, "{ memories { totalCount } }").status_code == 401
    bad = agentmem("apikey", "revoke", "0" * 16, *scope, env=server.env)
    assert bad.returncode == 2 and "No API key" in bad.stderr


def test_insecure_dev_refuses_to_bind_beyond_loopback(tmp_path: Path) -> None:
    env = {**os.environ, "AGENTMEM_DATA_DIR": str(tmp_path)}
    result = agentmem("serve", "--insecure-dev", "--host", "0.0.0.0", "--port", "1", env=env)
    assert result.returncode == 2
    assert "loopback" in result.stderr and "Traceback" not in result.stderr


def test_insecure_dev_on_loopback_serves_anonymous_callers(
    tmp_path: Path, backend_name: str
) -> None:
    if backend_name != "embedded":
        pytest.skip("one run is enough: anonymous access does not depend on the backend set")
    server = ServerProcess(tmp_path / "data", backend_name)
    server.env["AGENTMEM_INSECURE_DEV"] = "true"
    server.start()
    try:
        add = 'mutation { addMemory(input: {content: "dev mode write"}) { id } }'
        response = httpx.post(server.url, json={"query": add}, timeout=30)
        assert response.status_code == 200 and "errors" not in response.json()
    finally:
        server.stop()
