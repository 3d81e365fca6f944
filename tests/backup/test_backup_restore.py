"""Backup, then restore into a fresh store of the same backend set and of
the other one, and compare every node, relation and memory version."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from graph.adapters.sets import BackendConfig, open_backends
from graph.backup.archive import BackupError
from graph.backup.service import Source, read_parent, restore_backups, take_backup, verify_backup
from graph.memory_graph import MemoryGraph
from graph.ports import Backends
from graph.services.memories import MemoryPatch
from tests import conftest
from tests.backup.canonical import TEST_VAULT, GraphIds, build_graph, dump_store, export_dump
from tests.support import BackendFactory, HashingEmbedder

SOURCE = Source("test", {"sqlite": 3, "neo4j": 3}, "hashing")
TENANTS = ("acme", "globex")
OpenEmbedded = Callable[[str], Awaitable[Backends]]


@pytest.fixture
async def open_embedded(tmp_path: Path) -> AsyncIterator[OpenEmbedded]:
    """Opens an embedded set in a new folder under the test's tmp_path."""
    opened: list[Backends] = []

    async def open_(name: str) -> Backends:
        backends = await open_backends(BackendConfig(tmp_path / name), HashingEmbedder())
        opened.append(backends)
        return backends

    yield open_
    for backends in reversed(opened):
        await backends.close()


async def _fill(backends: Backends, ids: GraphIds, round_: int = 1) -> MemoryGraph:
    graph = MemoryGraph(backends, vault=TEST_VAULT)
    for tenant in TENANTS:
        await build_graph(graph, ids, tenant, round_)
    await graph.indexer.drain()
    return graph


async def _restore(backends: Backends, *paths: Path, secret: str | None = None) -> None:
    graph = MemoryGraph(backends, vault=TEST_VAULT)
    await restore_backups(backends.store, list(paths), graph.indexer.drain, secret=secret)


async def _assert_same(source: Backends, target: Backends, ids: GraphIds) -> None:
    assert await dump_store(target.store, ids) == await dump_store(source.store, ids)
    assert await export_dump(target.store) == await export_dump(source.store)
    for tenant in TENANTS:
        live = await MemoryGraph(target).index_store.live_memory_versions(tenant)
        assert await target.index.indexed_versions(tenant) == live
        assert live, "every tenant has live memories to index"


async def _reopen_empty(
    backend_name: str, backend_factory: BackendFactory, source: Backends, tmp_path: Path
) -> Backends:
    """The test's own backend set again, emptied: its data folder removed and
    its servers wiped (they are shared: the conftest's wipe helpers)."""
    await source.close()
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
    if backend_name in ("neo4j", "production"):
        await conftest.wipe_neo4j(conftest.neo4j_settings())
    if backend_name in conftest.SERVER_SETS:
        await conftest.wipe_servers()
    return await backend_factory()


async def test_backup_restores_into_a_fresh_store_of_the_same_set(
    backend_name: str, backend_factory: BackendFactory, open_embedded: OpenEmbedded, tmp_path: Path
) -> None:
    source = await backend_factory()
    ids = GraphIds()
    await _fill(source, ids)
    out = tmp_path / "full.tar"
    manifest, _ = await take_backup(source.store, out, SOURCE)
    assert manifest["counts"]["memory"] == 8
    assert manifest["counts"]["memory_version"] == 14
    # The reference copy lives in an embedded set, since the source is emptied.
    reference = await open_embedded("reference")
    await _restore(reference, out)
    target = await _reopen_empty(backend_name, backend_factory, source, tmp_path)
    assert await target.store.is_empty()
    await _restore(target, out)
    await _assert_same(reference, target, ids)


async def test_backup_of_this_set_restores_into_the_embedded_set(
    backend_factory: BackendFactory, open_embedded: OpenEmbedded, tmp_path: Path
) -> None:
    source = await backend_factory()
    ids = GraphIds()
    await _fill(source, ids)
    out = tmp_path / "full.tar"
    await take_backup(source.store, out, SOURCE)
    target = await open_embedded("migrated")
    await _restore(target, out)
    await _assert_same(source, target, ids)


async def test_backup_of_the_embedded_set_restores_into_this_set(
    backend_factory: BackendFactory, open_embedded: OpenEmbedded, tmp_path: Path
) -> None:
    source = await open_embedded("embedded-source")
    ids = GraphIds()
    await _fill(source, ids)
    out = tmp_path / "full.tar"
    await take_backup(source.store, out, SOURCE)
    target = await backend_factory()
    await _restore(target, out)
    await _assert_same(source, target, ids)


async def test_an_incremental_chain_restores_the_latest_state(
    backend_factory: BackendFactory, open_embedded: OpenEmbedded, tmp_path: Path
) -> None:
    source = await backend_factory()
    ids = GraphIds()
    graph = await _fill(source, ids)
    full, incremental = tmp_path / "full.tar", tmp_path / "incr.tar"
    await take_backup(source.store, full, SOURCE)
    # Changes after the full backup: new records, and changes to old ones.
    t = ids.of("acme")
    await build_graph(graph, ids, "acme", 2)
    await graph.memories.update(
        "acme", t.memories[1], MemoryPatch(content="the harbour moved"), None
    )
    await graph.memories.delete("acme", t.memories[2])
    await graph.relations.unrelate("acme", t.relations[0])
    await graph.facts.add_fact("acme", "Ada Lovelace", "knows", "Carol", exclusive=True)
    await graph.indexer.drain()
    parent = read_parent(full, None)
    # With no overlap, only what changed since the full backup is in it.
    manifest, _ = await take_backup(
        source.store, incremental, SOURCE, parent=parent, overlap=timedelta(0)
    )
    assert manifest["kind"] == "incremental"
    assert manifest["parent"]["manifest_sha256"] == parent.sha256
    counts = manifest["counts"]
    assert (counts["agent"], counts["memory"], counts["entity"]) == (2, 6, 2)
    target = await open_embedded("chain")
    with pytest.raises(BackupError, match="starts from a full backup"):
        await _restore(target, incremental)
    with pytest.raises(BackupError, match="only incrementals may follow"):
        await _restore(target, full, full)
    assert await target.store.is_empty()
    await _restore(target, full, incremental)
    await _assert_same(source, target, ids)
    # The default overlap repeats recent records; replaying them is harmless.
    await take_backup(source.store, incremental, SOURCE, parent=parent)
    again = await open_embedded("chain-with-overlap")
    await _restore(again, full, incremental)
    await _assert_same(source, again, ids)


async def test_restore_refuses_a_store_that_is_not_empty(
    backend_factory: BackendFactory, tmp_path: Path
) -> None:
    source = await backend_factory()
    await _fill(source, GraphIds())
    out = tmp_path / "full.tar"
    await take_backup(source.store, out, SOURCE)
    before = await export_dump(source.store)
    with pytest.raises(BackupError, match="not empty"):
        await _restore(source, out)
    assert await export_dump(source.store) == before


async def test_verify_finds_a_damaged_part_and_restore_writes_nothing(
    open_embedded: OpenEmbedded, tmp_path: Path
) -> None:
    source = await open_embedded("source")
    await _fill(source, GraphIds())
    out = tmp_path / "full.tar"
    await take_backup(source.store, out, SOURCE)
    verified = verify_backup(out, None)
    assert verified.manifest["counts"]["relation"] == 18
    data = out.read_bytes()
    at = data.index(b"the harbour opens at dawn")
    out.write_bytes(data[:at] + b"T" + data[at + 1 :])
    with pytest.raises(BackupError, match=r"checksum of memories\.jsonl"):
        verify_backup(out, None)
    target = await open_embedded("target")
    with pytest.raises(BackupError, match="checksum"):
        await _restore(target, out)
    assert await target.store.is_empty()
    out.write_bytes(data[: len(data) // 2])
    with pytest.raises(BackupError):
        verify_backup(out, None)
