"""Knowledge-vault content is sealed in every store, opens transparently,
is never indexed, never lands on disk in clear, and survives key rotation."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.adapters.vault_rows import vault_rows
from graph.errors import Unavailable
from graph.memory_graph import MemoryGraph
from graph.model import MemoryFilter, MemoryType, SearchMode
from graph.ports import Backends
from graph.services.memories import MemoryPatch, NewMemory
from graph.services.search import SearchRequest
from graph.vault.cipher import VaultCipher, is_sealed, key_id_of
from graph.vault.keys import KeySource, generate_key_file, new_key
from graph.vault.rotation import rotate

T = "tenant-v"
VAULT = MemoryType.KNOWLEDGE_VAULT


@pytest.fixture
def key_source(tmp_path: Path) -> KeySource:
    return generate_key_file(tmp_path / "vault.keys")


@pytest.fixture
def graph(backends: Backends, key_source: KeySource) -> MemoryGraph:
    return MemoryGraph(backends, vault=VaultCipher(key_source))


def marker() -> str:
    return f"zqvault{uuid.uuid4().hex}"


async def test_vault_content_is_sealed_in_the_store_and_opens_for_the_service(
    graph: MemoryGraph, backends: Backends
) -> None:
    secret = marker()
    [memory] = await graph.memories.add(T, [NewMemory(f"pin {secret}", type=VAULT)])
    await graph.memories.update(T, memory.id, MemoryPatch(content=f"new pin {secret}"), None)
    [plain] = await graph.memories.add(T, [NewMemory("plain words")])

    read = await graph.memories.get_many(T, [memory.id, plain.id])
    assert read[memory.id].content == f"new pin {secret}"
    assert read[plain.id].content == "plain words"
    history = (await graph.store.memory_history(T, [memory.id]))[memory.id]
    assert [v.content for v in history] == [f"pin {secret}", f"new pin {secret}"]

    raw = (await backends.store.get_memories(T, [memory.id]))[memory.id]
    assert is_sealed(raw.content) and secret not in raw.content
    assert raw.content_hash.startswith("vh1:")
    raw_history = (await backends.store.memory_history(T, [memory.id]))[memory.id]
    assert all(is_sealed(v.content) for v in raw_history)
    # the same content again is the same memory: de-duplication still works
    [again] = await graph.memories.add(T, [NewMemory(f"new pin {secret}", type=VAULT)])
    assert again.id == memory.id


async def test_vault_words_are_not_searchable(graph: MemoryGraph, backends: Backends) -> None:
    secret, control = marker(), marker()
    vault, _ = await graph.memories.add(
        T, [NewMemory(f"vault {secret}", type=VAULT), NewMemory(f"open {control} note")]
    )
    await graph.indexer.drain()
    for word, expected in ((control, 1), (secret, 0)):
        for mode in (SearchMode.KEYWORD, SearchMode.HYBRID):
            hits = await graph.search.search(T, SearchRequest(word, mode))
            assert vault.id not in {h.memory.id for h in hits.hits}
            assert sum(word in h.memory.content for h in hits.hits) == expected
        fallback = await backends.store.keyword_fallback(T, word, _no_filter(), 10)
        assert len(fallback) == expected
    assert vault.id not in await backends.index.indexed_versions(T)


def _no_filter() -> MemoryFilter:
    return MemoryFilter()


async def test_without_keys_vault_writes_are_refused(backends: Backends) -> None:
    graph = MemoryGraph(backends)
    with pytest.raises(Unavailable, match="no vault keys"):
        await graph.memories.add(T, [NewMemory("secret", type=VAULT)])
    assert await graph.memories.add(T, [NewMemory("not secret")])
    assert await backends.store.list_memories(T, _no_filter(), 10, None) != []


# -- nothing in clear on disk -------------------------------------------------------------


def services_home() -> Path:
    return Path(
        os.environ.get("AGENTMEM_SERVICES_HOME", Path.home() / ".cache" / "agentmem-services")
    )


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        for dirpath, _, names in os.walk(root):
            for name in names:
                yield Path(dirpath) / name


def found_in(needle: str, *roots: Path) -> list[Path]:
    data = needle.encode()
    hits = []
    for path in files_under(*roots):
        try:
            if data in path.read_bytes():
                hits.append(path)
        except OSError:
            continue
    return hits


async def test_vault_content_is_nowhere_on_disk_in_clear(
    graph: MemoryGraph, backends: Backends, backend_name: str, tmp_path: Path
) -> None:
    secret, control = marker(), marker()
    [memory] = await graph.memories.add(T, [NewMemory(f"vault one {secret}", type=VAULT)])
    await graph.memories.update(T, memory.id, MemoryPatch(content=f"vault two {secret}"), None)
    await graph.memories.add(T, [NewMemory(f"control {control}")])
    await graph.indexer.drain()
    await graph.search.search(T, SearchRequest(secret))  # search results are cached too

    roots = [tmp_path / "data"]
    if backend_name in ("neo4j", "production"):
        # Community Neo4j has no db.checkpoint(); every commit is in the
        # transaction log under data/ before it is acknowledged, so that is
        # where fresh writes are certain to be (the control proves it).
        roots.append(services_home() / "neo4j" / "home" / "data")
    if backend_name in ("production", "weaviate"):
        roots += [services_home() / "weaviate" / "data", services_home() / "redis" / "data"]
    await asyncio.sleep(0.5)  # let servers flush what they buffer briefly

    assert found_in(control, *roots), "the control marker must be on disk (or the grep is blind)"
    assert found_in(secret, *roots) == []


# -- rotation --------------------------------------------------------------------------


async def test_rotation_rewrites_every_row_under_the_new_key_while_updates_go_on(
    graph: MemoryGraph, backends: Backends, key_source: KeySource
) -> None:
    contents = {}
    for n in range(12):
        [m] = await graph.memories.add(T, [NewMemory(f"secret number {n}", type=VAULT)])
        contents[m.id] = f"secret number {n}"
        if n % 3 == 0:
            await graph.memories.update(T, m.id, MemoryPatch(content=f"secret {n} v2"), None)
            contents[m.id] = f"secret {n} v2"
    before = {mid: (await graph.store.memory_history(T, [mid]))[mid] for mid in contents}
    old_kid = key_source.ring().active_kid

    rotator_source = KeySource(path=key_source.path)
    new = rotator_source.add_active(new_key("k-rotated"))
    assert new.active_kid == "k-rotated"
    rows = vault_rows(backends.store)
    updated_id = next(iter(contents))

    async def keep_updating() -> None:
        for n in range(5):
            await graph.memories.update(
                T, updated_id, MemoryPatch(content=f"during rotation {n}"), None
            )
            contents[updated_id] = f"during rotation {n}"
            await asyncio.sleep(0)

    report, _ = await asyncio.gather(
        rotate(rows, VaultCipher(rotator_source), batch=5), keep_updating()
    )
    assert report.by_kid_before is not None and report.by_kid_before.get(old_kid)
    assert report.rewritten >= 12 + 4

    stored = []
    after = None
    while page := await rows.vault_rows(after, 100):
        stored += page
        after = page[-1].position
    assert stored and {key_id_of(r.content) for r in stored} == {"k-rotated"}
    read = await graph.memories.get_many(T, list(contents))
    assert {mid: m.content for mid, m in read.items()} == contents
    for mid, versions in before.items():
        now = (await graph.store.memory_history(T, [mid]))[mid]
        assert [v.content for v in now[: len(versions)]] == [v.content for v in versions]
    # the old key can now be retired: a ring holding only the new key opens everything
    only_new = VaultCipher(KeySource(value=new.active.encoded()))
    retired = MemoryGraph(backends, vault=only_new)
    assert {
        m.content for m in (await retired.memories.get_many(T, list(contents))).values()
    } == set(contents.values())
