"""A real ``agentmem serve`` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import BACKEND_SERVERS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVER_VARIABLES = {
    "neo4j": ("AGENTMEM_NEO4J_URI", "AGENTMEM_NEO4J_USER", "AGENTMEM_NEO4J_PASSWORD"),
    "weaviate": ("AGENTMEM_WEAVIATE_URL", "AGENTMEM_WEAVIATE_GRPC_PORT"),
    "redis": ("AGENTMEM_REDIS_URL",),
}


def server_env(backend_name: str, tenant: str) -> dict[str, str]:
    """The environment for a server on one backend set: the test run's own
    environment, minus the server variables that set does not use, with its
    own tenant so tests sharing a server database never see each other."""
    env = dict(os.environ)
    used = {v for server in BACKEND_SERVERS[backend_name] for v in SERVER_VARIABLES[server]}
    for variables in SERVER_VARIABLES.values():
        for variable in variables:
            if variable not in used:
                env.pop(variable, None)
    env["AGENTMEM_TENANT"] = tenant
    env["AGENTMEM_AUTH_RECHECK_SECONDS"] = "0.5"
    return env


class ServerProcess:
    """Starts, stops and restarts one server over one data folder."""

    def __init__(
        self, data_dir: Path, backend_name: str = "embedded", tenant: str | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.tenant = tenant or f"e2e-{secrets.token_hex(4)}"
        self.env = server_env(backend_name, self.tenant)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"server-{self.port}.log"
        self.api_key: str | None = None
        """An admin key of the tenant: the bootstrap key the first start wrote."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def bootstrap_key_file(self) -> Path:
        return self.data_dir / "bootstrap-admin.key"

    @property
    def headers(self) -> dict[str, str]:
        """Credentials for requests (``Authorization: Bearer <admin key>``)."""
        assert self.api_key is not None, "the server wrote no bootstrap key (tenant has keys)"
        return {"authorization": f"Bearer {self.api_key}"}

    @property
    def init_payload(self) -> dict[str, str]:
        """Credentials for a WebSocket's ``connection_init``."""
        return dict(self.headers)

    def start(self, timeout: float = 60.0) -> None:
        command = [
            sys.executable,
            "-m",
            "graphql_api.cli",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "warning",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/livez", timeout=1).status_code == 200:
                    if self.api_key is None and self.bootstrap_key_file.exists():
                        self.api_key = self.bootstrap_key_file.read_text().strip()
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
