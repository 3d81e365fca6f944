"""The agentmem command line: migrate and reindex on a real data folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess


def agentmem(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphql_api.cli", *args],
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


def test_migrate_then_reindex_a_served_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert agentmem("migrate", "--data-dir", str(data_dir)).returncode == 0
    server = ServerProcess(data_dir)
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
    verify = agentmem("reindex", "--verify", "--dry-run", "--data-dir", str(data_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "drift: 0" in verify.stdout
    rebuild = agentmem("reindex", "--data-dir", str(data_dir))
    assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
    assert "repaired 2 documents" in rebuild.stdout
