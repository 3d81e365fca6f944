"""The backup file: a tar stream of ``manifest.json`` followed by one
JSON-lines part per record kind, optionally encrypted as a whole.

Parts are spooled to temporary files while the export streams (so memory
use stays flat however big the graph is) and then copied into the tar after
the manifest, which carries each part's line count, byte size and SHA-256.
Reading is streamed too: the tar is read in order, never seeked.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Final

from graph.backup import records as rec
from graph.backup.crypto import DecryptingReader, EncryptingWriter, is_encrypted

FORMAT: Final = "agentmem-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
PARTS: Final = {
    rec.AGENT: "agents.jsonl",
    rec.ENTITY: "entities.jsonl",
    rec.MEMORY: "memories.jsonl",
    rec.FACT: "facts.jsonl",
    rec.RELATION: "relations.jsonl",
}
VERSIONS: Final = "memory_version"
"""The counts key of memory versions (nested in memory records)."""


class BackupError(ValueError):
    """A backup file is malformed, damaged, or does not fit the operation."""


def record_line(record: rec.Record) -> bytes:
    """One canonical JSON line (sorted keys), so equal records are equal bytes."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode()


@dataclass(slots=True)
class _Part:
    handle: IO[bytes]
    digest: Any = field(default_factory=hashlib.sha256)
    count: int = 0
    size: int = 0


class Spool:
    """Temporary part files being filled by an export; use as a context manager."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="agentmem-backup-")
        self._parts = {
            kind: _Part(open(Path(self._dir.name) / name, "w+b"))  # noqa: SIM115
            for kind, name in PARTS.items()
        }
        self.versions = 0

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        for part in self._parts.values():
            part.handle.close()
        self._dir.cleanup()

    def add(self, kind: str, record: rec.Record) -> None:
        line = record_line(record)
        part = self._parts[kind]
        part.handle.write(line)
        part.digest.update(line)
        part.count += 1
        part.size += len(line)
        if kind == rec.MEMORY:
            self.versions += len(record["versions"])

    def counts(self) -> dict[str, int]:
        counts = {kind: part.count for kind, part in self._parts.items()}
        counts[VERSIONS] = self.versions
        return counts

    def describe(self) -> dict[str, Any]:
        """The manifest's ``parts`` entry."""
        return {
            PARTS[kind]: {
                "kind": kind,
                "count": p.count,
                "bytes": p.size,
                "sha256": p.digest.hexdigest(),
            }
            for kind, p in self._parts.items()
        }

    def write_tar(self, out: BinaryIO, manifest: dict[str, Any]) -> bytes:
        """Write the manifest and every part as a tar stream to ``out``;
        returns the manifest's bytes (whose SHA-256 names this backup)."""
        body = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
        now = time.time()
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), now, 0o600
            tar.addfile(info, io.BytesIO(body))
            for kind, name in PARTS.items():
                part = self._parts[kind]
                part.handle.flush()
                part.handle.seek(0)
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = part.size, now, 0o600
                tar.addfile(info, part.handle)
        return body


def manifest_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@contextlib.contextmanager
def open_for_writing(path: Path, secret: str | None) -> Iterator[BinaryIO]:
    """``path`` opened for the tar stream; encrypted when ``secret`` is given.
    The file is written beside its final name and renamed when complete, so a
    failed backup never leaves a truncated file under the name."""
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as raw:
            if secret is None:
                yield raw
            else:
                writer = EncryptingWriter(raw, secret)
                yield writer  # type: ignore[misc]
                writer.close()
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


class BackupReader:
    """Streams one backup file: :attr:`manifest` first, then :meth:`parts`."""

    def __init__(self, path: Path, secret: str | None) -> None:
        self.path = path
        try:
            self._raw = open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise BackupError(f"Cannot open {path}: {exc.strerror}.") from exc
        try:
            self.encrypted = is_encrypted(self._raw.read(8))
            self._raw.seek(0)
            stream: Any = DecryptingReader(self._raw, secret) if self.encrypted else self._raw
            self._tar = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115
            first = self._tar.next()
            if first is None or first.name != MANIFEST:
                raise BackupError(f"{path} does not start with {MANIFEST}.")
            handle = self._tar.extractfile(first)
            assert handle is not None
            self.manifest_bytes = handle.read()
            self.manifest: dict[str, Any] = json.loads(self.manifest_bytes)
        except (tarfile.TarError, json.JSONDecodeError, EOFError) as exc:
            self.close()
            raise BackupError(f"{path} is not an AgentMem backup ({exc}).") from exc
        except BaseException:
            self.close()
            raise
        if self.manifest.get("format") != FORMAT:
            self.close()
            raise BackupError(f"{path} is not an AgentMem backup.")
        if int(self.manifest.get("format_version", 0)) > FORMAT_VERSION:
            self.close()
            raise BackupError(f"{path} was written by a newer AgentMem; upgrade to restore it.")

    @property
    def sha256(self) -> str:
        return manifest_sha256(self.manifest_bytes)

    def parts(self) -> Iterator[tuple[str, Iterator[bytes]]]:
        """(kind, its JSON lines) for each part, in file order."""
        by_name = {name: kind for kind, name in PARTS.items()}
        try:
            while (member := self._tar.next()) is not None:
                if member.name not in by_name:
                    raise BackupError(f"{self.path} holds an unexpected member {member.name!r}.")
                handle = self._tar.extractfile(member)
                assert handle is not None
                yield by_name[member.name], self._lines(handle)
        except (tarfile.TarError, EOFError) as exc:
            raise BackupError(f"{self.path} is damaged ({exc}).") from exc

    def _lines(self, handle: IO[bytes]) -> Iterator[bytes]:
        try:
            yield from handle
        except (tarfile.TarError, EOFError) as exc:
            raise BackupError(f"{self.path} is damaged ({exc}).") from exc

    def close(self) -> None:
        with contextlib.suppress(AttributeError):
            self._tar.close()
        self._raw.close()

    def __enter__(self) -> BackupReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
