"""An acknowledged write survives a server restart, searchable as before."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import data_of, post
from tests.e2e.server import ServerProcess


def test_data_survives_a_restart(tmp_path: Path, backend_name: str) -> None:
    server = ServerProcess(tmp_path / "data", backend_name)
    server.start()
    try:
        memory = data_of(
            post(server, 'mutation { addMemory(input: {content: "persistent pelican"}) { id } }')
        )["addMemory"]
        data_of(
            post(
                server,
                'mutation($id: ID!) { updateMemory(id: $id, input: {content: "persistent pelican v2"}) { id } }',
                {"id": memory["id"]},
            )
        )
    finally:
        server.stop()
    server.start()
    try:
        read = data_of(
            post(
                server,
                "query($id: ID!) { memory(id: $id) { content version history { content } } }",
                {"id": memory["id"]},
            )
        )["memory"]
        assert read["content"] == "persistent pelican v2" and read["version"] == 2
        assert [h["content"] for h in read["history"]] == [
            "persistent pelican",
            "persistent pelican v2",
        ]
        hits = data_of(
            post(server, '{ search(query: "pelican", mode: KEYWORD) { memory { id } } }')
        )
        assert [h["memory"]["id"] for h in hits["search"]] == [memory["id"]]
    finally:
        server.stop()
