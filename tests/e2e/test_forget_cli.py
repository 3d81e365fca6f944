"""``agentmem forget`` on a served data folder: the subject is gone when the
server comes back, and the command reports what it erased."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import agentmem


def test_every_forget_option_is_explained() -> None:
    result = agentmem("forget", "--help")
    assert result.returncode == 0
    for option in ("--data-dir", "--user-id", "--entity-id", "--tenant"):
        assert option in result.stdout


def test_forget_a_user_from_the_command_line(tmp_path: Path, backend_name: str) -> None:
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir, backend_name)
    add = "mutation($c: String!, $u: String) { addMemory(input: {content: $c, userId: $u}) { id } }"
    server.start()
    try:
        for text, user in (("kim likes kites", "kim"), ("kim flies kites", "kim"), ("lee", "lee")):
            data_of(post(server, add, {"c": text, "u": user}))
    finally:
        server.stop()
    scope = ("--data-dir", str(data_dir), "--tenant", server.tenant)
    result = agentmem("forget", "--user-id", "kim", *scope, env=server.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "memories: 2" in result.stdout and "index_documents: 2" in result.stdout
    missing = agentmem("forget", "--entity-id", "ent_unknown", *scope, env=server.env)
    assert missing.returncode == 1 and "No entity" in missing.stderr
    assert "Traceback" not in missing.stderr
    server.start()
    try:
        found = data_of(
            post(
                server,
                '{ memories { edges { node { userId } } } search(query: "kim kites") { memory { userId } } }',
            )
        )
    finally:
        server.stop()
    assert [e["node"]["userId"] for e in found["memories"]["edges"]] == ["lee"]
    assert {hit["memory"]["userId"] for hit in found["search"]} <= {"lee"}
