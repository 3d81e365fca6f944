"""Taking, verifying and restoring backups of a graph store.

A backup is a point-in-time snapshot at ``snapshot_at`` (see
:mod:`graph.backup.cutoff`): every tenant's agents, entities, memories with
every version, facts and relations. Vectors are not stored: restore queues
every memory in the outbox and the indexer re-embeds it, so a backup
restores into any backend set and any embedding model. API keys, vault keys
and other credentials are never part of the graph export, so never of a
backup.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from graph.backup import records as rec
from graph.backup.archive import (
    FORMAT,
    FORMAT_VERSION,
    PARTS,
    VERSIONS,
    BackupError,
    BackupReader,
    Spool,
    manifest_sha256,
    open_for_writing,
)
from graph.backup.cutoff import Cutoff
from graph.model import utcnow
from graph.ports import GraphStore

WATERMARK_OVERLAP: Final = timedelta(minutes=5)
"""How far before its parent's instant an incremental backup starts looking
for changes: covers a write whose clock was read before the parent's
snapshot but which committed after it."""
RESTORE_BATCH: Final = 500

Progress = Callable[[str, int, int | None], None]
"""(phase, done, total or ``None``) — called often; must be cheap."""


def _no_progress(phase: str, done: int, total: int | None) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Source:
    """Where a backup comes from, for its manifest."""

    backends: str
    schema_versions: dict[str, int]
    embedder_model: str


@dataclass(frozen=True, slots=True)
class Parent:
    """The backup an incremental one continues."""

    manifest: dict[str, Any]
    sha256: str


def read_parent(path: Path, secret: str | None) -> Parent:
    """The manifest of a backup file, or of a saved ``manifest.json``."""
    if path.suffix == ".json":
        try:
            body = path.read_bytes()
            manifest = json.loads(body)
        except (OSError, json.JSONDecodeError) as exc:
            raise BackupError(f"Cannot read the manifest {path}: {exc}.") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{path} is not an AgentMem backup manifest.")
        return Parent(manifest, manifest_sha256(body))
    with BackupReader(path, secret) as reader:
        return Parent(reader.manifest, reader.sha256)


async def take_backup(
    store: GraphStore,
    out: Path,
    source: Source,
    *,
    tenants: Sequence[str] | None = None,
    parent: Parent | None = None,
    secret: str | None = None,
    progress: Progress = _no_progress,
    overlap: timedelta = WATERMARK_OVERLAP,
) -> tuple[dict[str, Any], str]:
    """Write a full backup (or, with ``parent``, the changes since it) to
    ``out``; returns its manifest and the manifest's SHA-256."""
    until = rec.time_text(utcnow())
    since: str | None = None
    scope = sorted(set(tenants)) if tenants else None
    if parent is not None:
        parent_scope = parent.manifest.get("tenants")
        if tenants and scope != parent_scope:
            raise BackupError("An incremental backup must cover the tenants of its parent.")
        scope = parent_scope
        watermark = rec.parse_time(parent.manifest["snapshot_at"]) - overlap
        since = rec.time_text(watermark)
    with Spool() as spool:
        done = 0

        def emit(kind: str, record: rec.Record) -> None:
            nonlocal done
            spool.add(kind, record)
            done += 1
            progress("backup", done, None)

        cutoff = Cutoff(until, since, emit)
        await store.export_graph(scope, cutoff.feed)
        cutoff.flush()
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": "full" if parent is None else "incremental",
            "created_at": rec.time_text(utcnow()),
            "snapshot_at": until,
            "since": since,
            "parent": None
            if parent is None
            else {"manifest_sha256": parent.sha256, "snapshot_at": parent.manifest["snapshot_at"]},
            "tenants": scope,
            "encrypted": secret is not None,
            "source": {
                "backends": source.backends,
                "schema_versions": source.schema_versions,
                "embedder_model": source.embedder_model,
            },
            "vectors": "not included: restore re-embeds memory content",
            "excluded": ["API keys", "vault keys", "settings", "search index", "audit log"],
            "counts": spool.counts(),
            "parts": spool.describe(),
        }
        with open_for_writing(out, secret) as stream:
            body = spool.write_tar(stream, manifest)
    return manifest, manifest_sha256(body)


@dataclass(frozen=True, slots=True)
class Verified:
    path: Path
    manifest: dict[str, Any]
    sha256: str


def verify_backup(path: Path, secret: str | None, progress: Progress = _no_progress) -> Verified:
    """Read a whole backup and check its manifest, every part's checksum and
    line count and the memory version count; raises :class:`BackupError`."""
    with BackupReader(path, secret) as reader:
        parts: dict[str, Any] = reader.manifest.get("parts") or {}
        total = sum(int(p.get("count", 0)) for p in parts.values())
        seen: set[str] = set()
        versions = done = 0
        for kind, handle in reader.parts():
            name = PARTS[kind]
            digest, count = hashlib.sha256(), 0
            for line in handle:
                digest.update(line)
                count += 1
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BackupError(f"{path}: {name} line {count} is not JSON.") from exc
                if kind == rec.MEMORY:
                    versions += len(record.get("versions", ()))
                done += 1
                progress("verify", done, total)
            expected = parts.get(name)
            if expected is None:
                raise BackupError(f"{path}: the manifest does not list {name}.")
            if digest.hexdigest() != expected["sha256"]:
                raise BackupError(f"{path}: the checksum of {name} does not match its manifest.")
            if count != expected["count"]:
                raise BackupError(
                    f"{path}: {name} holds {count} records, the manifest says {expected['count']}."
                )
            seen.add(name)
        missing = sorted(set(parts) - seen)
        if missing:
            raise BackupError(f"{path}: parts missing: {', '.join(missing)}.")
        if versions != reader.manifest["counts"].get(VERSIONS):
            raise BackupError(f"{path}: the memory version count does not match its manifest.")
        return Verified(path, reader.manifest, reader.sha256)


def check_chain(chain: Sequence[Verified]) -> None:
    """A full backup first, then incrementals each continuing the one before."""
    if not chain:
        raise BackupError("Nothing to restore.")
    if chain[0].manifest["kind"] != "full":
        raise BackupError(f"{chain[0].path} is incremental; restore starts from a full backup.")
    for before, after in itertools.pairwise(chain):
        parent = after.manifest.get("parent") or {}
        if after.manifest["kind"] != "incremental":
            raise BackupError(f"{after.path} is a full backup; only incrementals may follow one.")
        if parent.get("manifest_sha256") != before.sha256:
            raise BackupError(f"{after.path} does not continue {before.path}.")


async def restore_backups(
    store: GraphStore,
    paths: Sequence[Path],
    drain: Callable[[], Awaitable[int]],
    *,
    secret: str | None = None,
    progress: Progress = _no_progress,
) -> dict[str, int]:
    """Verify ``paths`` (a full backup then its incrementals, in order),
    write them into the empty ``store`` and index every memory; returns the
    counts the store holds afterwards. Nothing is written if a file fails
    verification or the store is not empty."""
    chain = [verify_backup(path, secret, progress) for path in paths]
    check_chain(chain)
    if not await store.is_empty():
        raise BackupError(
            "The target store is not empty; restore only into a new --data-dir or empty servers."
        )
    for verified in chain:
        await _apply(store, verified, secret, progress)
    counts = await count_store(store, chain[0].manifest.get("tenants"))
    if len(chain) == 1 and counts != chain[0].manifest["counts"]:
        raise BackupError(
            f"After restore the store holds {counts}, the backup {chain[0].manifest['counts']}."
        )
    await _index(store, drain, progress)
    return counts


async def _apply(
    store: GraphStore, verified: Verified, secret: str | None, progress: Progress
) -> None:
    total = sum(int(p["count"]) for p in verified.manifest["parts"].values())
    done = 0
    with BackupReader(verified.path, secret) as reader:
        if reader.sha256 != verified.sha256:
            raise BackupError(f"{verified.path} changed while it was being restored.")
        for kind, handle in reader.parts():
            batch: list[rec.Record] = []
            for line in handle:
                batch.append(json.loads(line))
                if len(batch) >= RESTORE_BATCH:
                    await store.import_records(kind, batch)
                    done += len(batch)
                    progress("restore", done, total)
                    batch = []
            await store.import_records(kind, batch)
            done += len(batch)
            progress("restore", done, total)


async def count_store(store: GraphStore, tenants: Sequence[str] | None) -> dict[str, int]:
    """Records per kind (and memory versions) the store holds."""
    counts = dict.fromkeys([*rec.KINDS, VERSIONS], 0)

    def count(kind: str, record: rec.Record) -> None:
        counts[kind] += 1
        if kind == rec.MEMORY:
            counts[VERSIONS] += len(record["versions"])

    await store.export_graph(tenants, count)
    return counts


async def _index(
    store: GraphStore, drain: Callable[[], Awaitable[int]], progress: Progress
) -> None:
    """Drain the outbox (re-embedding every memory), reporting its depth."""
    total = (await store.outbox_stats()).depth
    task = asyncio.ensure_future(drain())
    while not task.done():
        await asyncio.wait({task}, timeout=0.5)
        depth = (await store.outbox_stats()).depth
        progress("index", total - depth, total)
    await task
