"""``agentmem keys``: rotate the vault keys of a data folder while it is served."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import agentmem

ADD = "mutation($c: String!) { addMemory(input: {content: $c, type: KNOWLEDGE_VAULT}) { id } }"
READ = "query($id: ID!) { memory(id: $id) { content history { content } } }"


def test_rotate_while_serving(tmp_path: Path, backend_name: str) -> None:
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir, backend_name)
    env = {**server.env, "AGENTMEM_VAULT_KEYS_FILE": str(tmp_path / "vault.keys")}
    server.env.update(env)
    assert agentmem("keys", "list", "--data-dir", str(data_dir), env=env).returncode == 2
    (tmp_path / "vault.keys").write_text(
        "first:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=" + "\n"
    )
    server.start()
    try:
        ids = [
            data_of(post(server, ADD, {"c": f"vault note {n}"}))["addMemory"]["id"]
            for n in range(3)
        ]
        rotated = agentmem("keys", "rotate", "--data-dir", str(data_dir), env=env)
        assert rotated.returncode == 0, rotated.stderr
        assert "re-encrypted" in rotated.stdout
        listed = agentmem("keys", "list", "--data-dir", str(data_dir), env=env)
        kids = listed.stdout.split("\n")[1:]
        assert kids[0].endswith("(active)") and kids[1] == "first"
        assert "QUFB" not in listed.stdout  # ids only, never keys
        for n, memory_id in enumerate(ids):  # the running server reads the new key
            memory = data_of(post(server, READ, {"id": memory_id}))["memory"]
            assert memory["content"] == f"vault note {n}"
        later = data_of(post(server, ADD, {"c": "after rotation"}))["addMemory"]["id"]
        assert data_of(post(server, READ, {"id": later}))["memory"]["content"] == "after rotation"
    finally:
        server.stop()
    again = agentmem("keys", "rotate", "--keep-active", "--data-dir", str(data_dir), env=env)
    assert again.returncode == 0 and "re-encrypted 0 rows" in again.stdout
