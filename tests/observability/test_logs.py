"""Log lines: JSON fields, correlation ids, personal data redacted, uvicorn's
access log in the same format."""

from __future__ import annotations

import io
import json
import logging
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graph import telemetry
from graphql_api import logs
from graphql_api.middleware import _request_id
from tests.e2e.server import free_port, server_env


@pytest.fixture
def json_lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records go through the server's handler setup into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JsonFormatter())
    for log_filter in (logs.AccessFields(), logs.Correlation(), logs.ScrubPersonalData()):
        handler.addFilter(log_filter)
    logger = logging.getLogger("agentmem.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, buffer
    logger.removeHandler(handler)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_json_line_has_the_fields_and_the_current_ids(
    json_lines: tuple[logging.Logger, io.StringIO], spans: InMemorySpanExporter
) -> None:
    logger, buffer = json_lines
    token = _request_id.set("req-77")
    try:
        with telemetry.span("work") as current:
            assert current is not None
            logger.warning("stored %d memories", 3)
    finally:
        _request_id.reset(token)
    logger.info("outside")
    first, second = lines(buffer)
    assert set(first) >= {
        "timestamp",
        "level",
        "logger",
        "message",
        "trace_id",
        "span_id",
        "request_id",
    }
    assert first["level"] == "warning"
    assert first["logger"] == "agentmem.test-logs"
    assert first["message"] == "stored 3 memories"
    assert first["request_id"] == "req-77"
    assert first["trace_id"] == format(current.get_span_context().trace_id, "032x")
    assert first["span_id"] == format(current.get_span_context().span_id, "016x")
    assert first["timestamp"].endswith("+00:00")
    assert second["request_id"] is None and second["trace_id"] is None


def test_personal_data_is_redacted_in_messages_and_tracebacks(
    json_lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = json_lines
    logger.info("mail %s about card %s", "jane.doe@example.com", "4111 1111 1111 1111")
    try:
        raise ValueError("bad address jane.doe@example.com")
    except ValueError:
        logger.exception("failed")
    text = buffer.getvalue()
    assert "jane.doe@example.com" not in text
    assert "4111 1111 1111 1111" not in text
    message, failure = lines(buffer)
    assert message["message"].startswith("mail ")
    assert "ValueError" in failure["exception"]


def test_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log_format"):
        logs.logging_config("info", "xml")
    assert logs.logging_config("debug", "text")["formatters"]["main"]["format"] == logs.TEXT_FORMAT


@pytest.fixture
def logging_server(tmp_path: Path, backend_name: str) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log_file = tmp_path / "server.log"
    env = server_env(backend_name, f"logs-{secrets.token_hex(4)}")
    env["AGENTMEM_LOG_FORMAT"] = "json"
    command = [
        sys.executable, "-m", "graphql_api.cli", "serve", "--port", str(port),
        "--data-dir", str(tmp_path / "data"), "--log-level", "info",
    ]  # fmt: skip
    with log_file.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, log_file.read_text()
            try:
                if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, log_file
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_server_access_log_is_json_with_the_request_id_and_no_query_string(
    logging_server: tuple[str, Path],
) -> None:
    base, log_file = logging_server
    response = httpx.get(
        f"{base}/graphql",
        params={"query": "{ __typename }", "variables": '{"mail": "jane.doe@example.com"}'},
        headers={
            "X-Request-ID": "req-access-1",
            "accept": "application/json",
            "authorization": f"Bearer {(log_file.parent / 'data' / 'bootstrap-admin.key').read_text().strip()}",
        },
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-access-1"
    deadline = time.monotonic() + 10
    access: list[dict[str, Any]] = []
    while not access and time.monotonic() < deadline:
        parsed = [
            json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")
        ]
        access = [line for line in parsed if line.get("request_id") == "req-access-1"]
        time.sleep(0.1)
    assert access, log_file.read_text()
    line = access[0]
    assert line["logger"] == "uvicorn.access"
    assert line["method"] == "GET" and line["path"] == "/graphql" and line["status"] == 200
    assert "jane.doe" not in log_file.read_text()
    assert "__typename" not in log_file.read_text()
    every = [line for line in log_file.read_text().splitlines() if line.strip()]
    printed = ("AgentMem GraphQL on", "Bootstrap admin key for tenant")  # plain stdout notices
    assert all(line.startswith("{") for line in every if not line.startswith(printed)), every


def test_access_lines_drop_the_client_address_and_scan_unknown_paths(
    json_lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = json_lines
    access = '%s - "%s %s HTTP/%s" %d'
    logger.info(access, "203.0.113.9:51234", "POST", "/graphql?x=1", "1.1", 200)
    logger.info(access, "203.0.113.9:51234", "GET", "/users/jane.doe@example.com", "1.1", 404)
    known, unknown = lines(buffer)
    assert "203.0.113.9" not in buffer.getvalue()
    assert known["message"] == '[IP] - "POST /graphql HTTP/1.1" 200'
    assert known["path"] == "/graphql" and known["status"] == 200
    assert "jane.doe@example.com" not in buffer.getvalue()
    assert unknown["path"] == "other" and unknown["message"].startswith('[IP] - "GET /users/')
