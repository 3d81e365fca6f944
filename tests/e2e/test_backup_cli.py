"""``agentmem backup``, ``backup verify`` and ``restore`` as an operator runs
them: back up a data folder, restore into a new one, and get identical data."""

from __future__ import annotations

from pathlib import Path

from graph.adapters.sets import BackendConfig, open_backends
from graph.memory_graph import MemoryGraph
from tests.backup.canonical import TEST_VAULT, GraphIds, build_graph, dump_store, export_dump
from tests.e2e.server import server_env
from tests.e2e.test_cli import agentmem
from tests.support import HashingEmbedder


async def _build(data_dir: Path, ids: GraphIds, round_: int) -> None:
    backends = await open_backends(BackendConfig(data_dir), HashingEmbedder())
    try:
        graph = MemoryGraph(backends, vault=TEST_VAULT)
        for tenant in ("acme", "globex"):
            await build_graph(graph, ids, tenant, round_)
    finally:
        await backends.close()


async def _assert_identical(source: Path, target: Path, ids: GraphIds) -> None:
    a = await open_backends(BackendConfig(source), HashingEmbedder())
    b = await open_backends(BackendConfig(target), HashingEmbedder())
    try:
        assert await dump_store(b.store, ids) == await dump_store(a.store, ids)
        assert await export_dump(b.store) == await export_dump(a.store)
        for tenant in ("acme", "globex"):
            live = await MemoryGraph(b).index_store.live_memory_versions(tenant)
            assert live and await b.index.indexed_versions(tenant) == live
    finally:
        await a.close()
        await b.close()


def test_every_backup_verb_explains_itself() -> None:
    for verb in ("backup", "restore"):
        result = agentmem(verb, "--help")
        assert result.returncode == 0
        assert "--data-dir" in result.stdout


async def test_backup_wipe_restore_gives_identical_data(tmp_path: Path) -> None:
    env = server_env("embedded", "default")
    env.pop("AGENTMEM_BACKUP_KEY", None)
    source, full = tmp_path / "source", tmp_path / "full.tar"
    ids = GraphIds()
    await _build(source, ids, 1)

    made = agentmem("backup", "--out", str(full), "--data-dir", str(source), env=env)
    assert made.returncode == 0, made.stderr
    assert "full backup of sqlite+fts5+in-process" in made.stdout
    assert "backup" in made.stderr, "a progress bar on stderr"
    checked = agentmem("backup", "verify", str(full), env=env)
    assert checked.returncode == 0, checked.stderr
    assert ": OK" in checked.stdout

    restored = tmp_path / "restored"
    back = agentmem("restore", "--from", str(full), "--data-dir", str(restored), env=env)
    assert back.returncode == 0, back.stderr
    assert "restore" in back.stderr and "100%" in back.stderr
    await _assert_identical(source, restored, ids)

    again = agentmem("restore", "--from", str(full), "--data-dir", str(restored), env=env)
    assert again.returncode == 1
    assert "not empty" in again.stderr and "Traceback" not in again.stderr


async def test_an_encrypted_incremental_chain_restores_through_the_cli(tmp_path: Path) -> None:
    env = server_env("embedded", "default")
    env["AGENTMEM_BACKUP_KEY"] = "operator passphrase"
    source, full, incr = tmp_path / "source", tmp_path / "full.tar", tmp_path / "incr.tar.enc"
    ids = GraphIds()
    await _build(source, ids, 1)
    scope = ("--data-dir", str(source))
    assert agentmem("backup", "--out", str(full), *scope, env=env).returncode == 0
    await _build(source, ids, 2)
    made = agentmem(
        "backup", "--out", str(incr), "--incremental-from", str(full), "--encrypt", *scope, env=env
    )
    assert made.returncode == 0, made.stderr
    assert "incremental backup" in made.stdout

    keyless = {k: v for k, v in env.items() if k != "AGENTMEM_BACKUP_KEY"}
    refused = agentmem("backup", "verify", str(incr), env=keyless)
    assert refused.returncode == 1 and "AGENTMEM_BACKUP_KEY" in refused.stderr

    restored = tmp_path / "restored"
    out_of_order = agentmem(
        "restore", "--from", str(incr), "--from", str(full), "--data-dir", str(restored), env=env
    )
    assert out_of_order.returncode == 1 and "full backup" in out_of_order.stderr
    back = agentmem(
        "restore", "--from", str(full), "--from", str(incr), "--data-dir", str(restored), env=env
    )
    assert back.returncode == 0, back.stderr
    await _assert_identical(source, restored, ids)
