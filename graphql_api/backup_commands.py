"""``agentmem backup``, ``agentmem backup verify`` and ``agentmem restore``.

They use the same settings as ``serve`` (``--data-dir``, ``AGENTMEM_*``):
backup reads the configured stores, restore writes into them (which must be
empty). The encryption key comes from ``AGENTMEM_BACKUP_KEY`` (the
``backup_key`` setting): 64 hex digits are a raw AES-256 key, anything else
a passphrase stretched with scrypt.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graph.adapters.neo4j.migrations import MIGRATIONS as NEO4J_MIGRATIONS
from graph.adapters.sqlite.migrations import MIGRATIONS as SQLITE_MIGRATIONS
from graph.backup.archive import BackupError
from graph.backup.crypto import BackupKeyError
from graph.backup.service import (
    Parent,
    Source,
    read_parent,
    restore_backups,
    take_backup,
    verify_backup,
)
from graph.errors import DomainError
from graphql_api.backends import backend_config, open_graph
from graphql_api.progress import ProgressBar
from graphql_api.settings import Settings


def _fail(message: str) -> int:
    print(f"agentmem: {message}", file=sys.stderr)
    return 1


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


async def backup(
    settings: Settings,
    out: Path,
    incremental_from: Path | None,
    encrypt: bool,
    tenants: list[str],
) -> int:
    secret = settings.backup_key if encrypt else None
    if encrypt and not secret:
        return _fail("--encrypt needs a key: set AGENTMEM_BACKUP_KEY.")
    config = backend_config(settings)
    progress = ProgressBar()
    try:
        parent: Parent | None = None
        if incremental_from is not None:
            parent = read_parent(incremental_from, settings.backup_key)
        graph = await open_graph(settings)
        try:
            source = Source(
                backends=config.name,
                schema_versions={
                    "sqlite": SQLITE_MIGRATIONS[-1][0],
                    "neo4j": NEO4J_MIGRATIONS[-1].version,
                },
                embedder_model=graph.backends.embedder.model_id,
            )
            manifest, sha = await take_backup(
                graph.backends.store,
                out,
                source,
                tenants=tenants or None,
                parent=parent,
                secret=secret,
                progress=progress,
            )
        finally:
            progress.finish()
            await graph.close()
    except (BackupError, BackupKeyError, OSError) as exc:
        return _fail(str(exc))
    except DomainError as exc:
        return _fail(exc.message)
    print(f"{manifest['kind']} backup of {config.name} at {manifest['snapshot_at']} -> {out}")
    print(f"counts: {_counts(manifest['counts'])}")
    print(f"manifest sha256: {sha}")
    return 0


def verify(settings: Settings, path: Path) -> int:
    progress = ProgressBar()
    try:
        verified = verify_backup(path, settings.backup_key, progress)
    except (BackupError, BackupKeyError) as exc:
        return _fail(str(exc))
    finally:
        progress.finish()
    manifest = verified.manifest
    print(f"{path}: OK ({manifest['kind']} backup of {manifest['source']['backends']}")
    print(f"  snapshot at {manifest['snapshot_at']}, counts: {_counts(manifest['counts'])})")
    print(f"manifest sha256: {verified.sha256}")
    return 0


async def restore(settings: Settings, paths: list[Path]) -> int:
    config = backend_config(settings)
    progress = ProgressBar()
    try:
        graph = await open_graph(settings)
        try:
            counts = await restore_backups(
                graph.backends.store,
                paths,
                graph.indexer.drain,
                secret=settings.backup_key,
                progress=progress,
            )
        finally:
            progress.finish()
            await graph.close()
    except (BackupError, BackupKeyError) as exc:
        return _fail(str(exc))
    except DomainError as exc:
        return _fail(exc.message)
    print(f"restored {len(paths)} backup file(s) into {config.name}")
    print(f"counts: {_counts(counts)}")
    return 0
