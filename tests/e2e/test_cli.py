"""The agentmem command line: migrate and reindex on a real data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess


def agentmem(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphql_api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("verb", ["serve", "migrate", "reindex"])
def test_every_verb_explains_itself(verb: str) -> None:
    result = agentmem(verb, "--help")
    assert result.returncode == 0
    assert "--data-dir" in result.stdout


def test_migrate_then_reindex_a_served_data_folder(tmp_path: Path, backend_name: str) -> None:
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir, backend_name)
    env, tenant = server.env, server.tenant
    assert agentmem("migrate", "--data-dir", str(data_dir), env=env).returncode == 0
    server.start()
    try:
        for text in ("gull on the pier", "gull over the harbour"):
            data_of(
                post(
                    server,
                    "mutation($c: String!) { addMemory(input: {content: $c}) { id } }",
                    {"c": text},
                )
            )
    finally:
        server.stop()
    scope = ("--data-dir", str(data_dir), "--tenant", tenant)
    verify = agentmem("reindex", "--verify", "--dry-run", *scope, env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "drift: 0" in verify.stdout
    rebuild = agentmem("reindex", *scope, env=env)
    assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
    assert "repaired 2 documents" in rebuild.stdout


def test_unusable_settings_stop_serve_with_a_clear_message_and_no_trace() -> None:
    env = {**os.environ, "AGENTMEM_EMBEDDER": "openai"}
    result = agentmem("serve", "--port", "1", env=env)
    assert result.returncode == 2
    assert "embedder 'openai' needs" in result.stderr
    assert "Traceback" not in result.stderr
