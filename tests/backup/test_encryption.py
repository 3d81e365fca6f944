"""Encrypted backups: AES-256-GCM in chunks, with a raw key or a passphrase."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from graph.adapters.sets import BackendConfig, open_backends
from graph.backup.crypto import CHUNK, BackupKeyError, DecryptingReader, EncryptingWriter
from graph.backup.service import Source, read_parent, restore_backups, take_backup, verify_backup
from graph.memory_graph import MemoryGraph
from tests.backup.canonical import TEST_VAULT, GraphIds, build_graph, export_dump
from tests.support import HashingEmbedder

RAW_KEY = "0f" * 32


def _roundtrip(plain: bytes, secret: str) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, secret)
    for start in range(0, len(plain), 70_000):
        writer.write(plain[start : start + 70_000])
    writer.close()
    return DecryptingReader(io.BytesIO(sink.getvalue()), secret).read()


@pytest.mark.parametrize("secret", [RAW_KEY, "correct horse battery staple"])
@pytest.mark.parametrize("size", [0, 1, CHUNK, 3 * CHUNK + 17])
def test_encryption_round_trips_any_length(secret: str, size: int) -> None:
    plain = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    assert _roundtrip(plain, secret) == plain


def _sealed(plain: bytes, secret: str = RAW_KEY) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, secret)
    writer.write(plain)
    writer.close()
    return sink.getvalue()


def test_a_wrong_key_a_flipped_bit_or_a_cut_file_is_refused() -> None:
    sealed = _sealed(b"memories" * (CHUNK // 4))
    with pytest.raises(BackupKeyError, match="wrong key"):
        DecryptingReader(io.BytesIO(sealed), "1e" * 32).read()
    with pytest.raises(BackupKeyError, match="raw key"):
        DecryptingReader(io.BytesIO(sealed), "a passphrase").read()
    flipped = bytearray(sealed)
    flipped[len(sealed) // 2] ^= 1
    with pytest.raises(BackupKeyError, match="damaged"):
        DecryptingReader(io.BytesIO(bytes(flipped)), RAW_KEY).read()
    # Cut at a chunk boundary: every chunk left authenticates, the final mark is missing.
    first_chunk_end = 33 + 4 + CHUNK + 16
    with pytest.raises(BackupKeyError, match="truncated"):
        DecryptingReader(io.BytesIO(sealed[:first_chunk_end]), RAW_KEY).read()
    with pytest.raises(BackupKeyError, match="set AGENTMEM_BACKUP_KEY"):
        DecryptingReader(io.BytesIO(sealed), None)


async def test_an_encrypted_backup_verifies_and_restores_only_with_its_key(
    tmp_path: Path,
) -> None:
    source = await open_backends(BackendConfig(tmp_path / "source"), HashingEmbedder())
    target = await open_backends(BackendConfig(tmp_path / "target"), HashingEmbedder())
    try:
        graph = MemoryGraph(source, vault=TEST_VAULT)
        await build_graph(graph, GraphIds(), "acme", 1)
        out = tmp_path / "full.tar.enc"
        secret = "a long passphrase for backups"
        manifest, sha = await take_backup(
            source.store, out, Source("test", {}, "hashing"), secret=secret
        )
        assert manifest["encrypted"]
        assert b"gull" not in out.read_bytes()
        with pytest.raises(BackupKeyError, match="encrypted"):
            verify_backup(out, None)
        with pytest.raises(BackupKeyError, match="wrong key"):
            verify_backup(out, "another passphrase")
        assert verify_backup(out, secret).sha256 == sha
        assert read_parent(out, secret).sha256 == sha
        restored = MemoryGraph(target, vault=TEST_VAULT)
        await restore_backups(target.store, [out], restored.indexer.drain, secret=secret)
        assert await export_dump(target.store) == await export_dump(source.store)
    finally:
        await source.close()
        await target.close()
