"""Vault keys: a ring of 256-bit keys, each with an id, one of them active.

Keys come from ``AGENTMEM_VAULT_KEYS`` (``kid1:base64key,kid2:base64key``)
or a key file (one ``kid:base64key`` per line, ``#`` comments). The first
key is active unless one is marked with a leading ``*``. The active key
encrypts; every key in the ring decrypts. Key material never appears in a
``repr``, a log line or an error message.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

KEY_BYTES = 32
"""AES-256."""

_KID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class VaultKeyError(ValueError):
    """Vault keys are missing or malformed (the message never holds key material)."""


@dataclass(frozen=True, slots=True)
class VaultKey:
    kid: str
    secret: bytes = field(repr=False)

    def encoded(self) -> str:
        """``kid:base64key``, the form of the environment variable and key file."""
        return f"{self.kid}:{base64.b64encode(self.secret).decode()}"


def new_key(kid: str | None = None) -> VaultKey:
    """A fresh random key; its id names the moment it was made."""
    name = kid or f"k{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(2)}"
    if not _KID.match(name):
        raise VaultKeyError(f"A vault key id must match {_KID.pattern}.")
    return VaultKey(name, secrets.token_bytes(KEY_BYTES))


@dataclass(frozen=True, slots=True)
class KeyRing:
    keys: tuple[VaultKey, ...]
    active_kid: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise VaultKeyError("The vault key ring is empty.")
        kids = [key.kid for key in self.keys]
        if len(set(kids)) != len(kids):
            raise VaultKeyError("The vault key ring names a key id twice.")
        if self.active_kid not in kids:
            raise VaultKeyError(f"The active vault key {self.active_kid!r} is not in the ring.")

    @property
    def active(self) -> VaultKey:
        return next(key for key in self.keys if key.kid == self.active_kid)

    @property
    def kids(self) -> list[str]:
        return [key.kid for key in self.keys]

    def get(self, kid: str) -> VaultKey | None:
        return next((key for key in self.keys if key.kid == kid), None)

    def with_active(self, key: VaultKey) -> KeyRing:
        """This ring with ``key`` added in front as the active key."""
        if self.get(key.kid) is not None:
            raise VaultKeyError(f"The vault key ring already holds {key.kid!r}.")
        return KeyRing((key, *self.keys), key.kid)

    def encoded(self) -> str:
        """The key-file form: the active key first."""
        ordered = [self.active, *(key for key in self.keys if key.kid != self.active_kid)]
        return "".join(f"{key.encoded()}\n" for key in ordered)


def parse_keys(text: str, source: str) -> KeyRing:
    """A ring from ``kid:base64key`` entries separated by commas or lines."""
    keys: list[VaultKey] = []
    active: str | None = None
    entries = (e for line in text.splitlines() for e in line.split("#", 1)[0].split(","))
    for number, raw in enumerate(entries, start=1):
        entry = raw.strip()
        if not entry:
            continue
        marked = entry.startswith("*")
        kid, sep, encoded = entry.lstrip("*").partition(":")
        kid = kid.strip()
        if not sep or not _KID.match(kid):
            raise VaultKeyError(f"Vault key entry {number} in {source} is not `kid:base64key`.")
        keys.append(VaultKey(kid, _decode(encoded.strip(), kid, source)))
        if marked:
            if active is not None:
                raise VaultKeyError(f"{source} marks more than one vault key active.")
            active = kid
    if not keys:
        raise VaultKeyError(f"{source} holds no vault keys.")
    return KeyRing(tuple(keys), active or keys[0].kid)


def _decode(encoded: str, kid: str, source: str) -> bytes:
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        secret = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != KEY_BYTES:
        raise VaultKeyError(
            f"Vault key {kid!r} in {source} must be {KEY_BYTES} bytes, base64-encoded."
        )
    return secret


def write_key_file(path: Path, ring: KeyRing) -> None:
    """Write ``ring`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write("# AgentMem knowledge-vault keys: kid:base64key, the first is active.\n")
            handle.write(ring.encoded())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class KeySource:
    """Where the ring comes from; a key file is re-read when it changes, so
    a serving process picks up a key that ``agentmem keys rotate`` added."""

    def __init__(self, *, value: str | None = None, path: Path | None = None) -> None:
        if (value is None) == (path is None):
            raise ValueError("give exactly one of value and path")
        self.path = path
        self._value = value
        self._stamp: tuple[int, int] | None = None
        self._ring: KeyRing | None = None
        self.reload()

    @property
    def description(self) -> str:
        return "AGENTMEM_VAULT_KEYS" if self.path is None else str(self.path)

    def ring(self) -> KeyRing:
        """The current ring (re-reading the key file if it changed)."""
        if self.path is not None and self._file_stamp() != self._stamp:
            return self.reload()
        assert self._ring is not None
        return self._ring

    def reload(self) -> KeyRing:
        if self.path is None:
            assert self._value is not None
            self._ring = parse_keys(self._value, self.description)
            return self._ring
        stamp = self._file_stamp()
        try:
            text = self.path.read_text()
        except OSError as exc:
            raise VaultKeyError(f"Cannot read the vault key file {self.path}.") from exc
        self._ring, self._stamp = parse_keys(text, self.description), stamp
        return self._ring

    def add_active(self, key: VaultKey) -> KeyRing:
        """Add ``key`` as the active key (key files only)."""
        if self.path is None:
            raise VaultKeyError(
                "Keys from AGENTMEM_VAULT_KEYS cannot be changed here: put the new key "
                "first in that variable on every server, then rotate again."
            )
        ring = self.reload().with_active(key)
        write_key_file(self.path, ring)
        return self.reload()

    def _file_stamp(self) -> tuple[int, int] | None:
        assert self.path is not None
        try:
            status = self.path.stat()
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size)

    def __repr__(self) -> str:
        return f"KeySource({self.description})"


def generate_key_file(path: Path) -> KeySource:
    """Create ``path`` with one fresh key (it must not exist yet)."""
    write_key_file(path, KeyRing((key := new_key(),), key.kid))
    return KeySource(path=path)


def open_key_source(
    value: str | None, path: Path | None, default_path: Path | None
) -> tuple[KeySource | None, bool]:
    """The configured source: ``value`` (the environment), else ``path``, else
    ``default_path`` (created with a fresh key when missing, e.g. in the
    embedded data folder). Returns the source (``None`` without any) and
    whether a key was generated now."""
    if value:
        return KeySource(value=value), False
    if path is not None:
        return KeySource(path=path), False
    if default_path is None:
        return None, False
    if default_path.exists():
        return KeySource(path=default_path), False
    return generate_key_file(default_path), True
