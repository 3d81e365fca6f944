"""Streamed authenticated encryption of backup files (AES-256-GCM).

Layout: an 8-byte magic, one byte saying how the key was made (1 = a raw
32-byte key given as 64 hex digits, 2 = a passphrase stretched with scrypt),
a 16-byte salt and an 8-byte nonce prefix, then chunks of at most 1 MiB of
plaintext. Each chunk is a 4-byte big-endian length (its top bit marks the
final chunk) and the ciphertext with its tag. A chunk's nonce is the prefix
plus its 4-byte counter; the header, the counter and the final mark are
authenticated data, so reordered, dropped, truncated or altered chunks all
fail to decrypt.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC: Final = b"AMBKENC1"
CHUNK: Final = 1 << 20
_FINAL: Final = 1 << 31
_RAW_KEY: Final = 1
_PASSPHRASE: Final = 2
_HEADER: Final = len(MAGIC) + 1 + 16 + 8


class BackupKeyError(ValueError):
    """The key is missing, malformed or does not open this file."""


def _is_raw_key(secret: str) -> bool:
    try:
        return len(bytes.fromhex(secret)) == 32
    except ValueError:
        return False


def _derive(secret: str, mode: int, salt: bytes) -> bytes:
    if mode == _RAW_KEY:
        if not _is_raw_key(secret):
            raise BackupKeyError("This backup was encrypted with a raw key (64 hex digits).")
        return bytes.fromhex(secret)
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(secret.encode())


def _aad(header: bytes, counter: int, final: bool) -> bytes:
    return header + struct.pack(">I?", counter, final)


class EncryptingWriter:
    """A write-only binary stream that encrypts into ``raw``; :meth:`close`
    writes the final chunk (it does not close ``raw``)."""

    def __init__(self, raw: BinaryIO, secret: str) -> None:
        if not secret:
            raise BackupKeyError("Encryption needs a key: set AGENTMEM_BACKUP_KEY.")
        mode = _RAW_KEY if _is_raw_key(secret) else _PASSPHRASE
        salt, prefix = os.urandom(16), os.urandom(8)
        self._header = MAGIC + bytes([mode]) + salt + prefix
        self._aead = AESGCM(_derive(secret, mode, salt))
        self._prefix = prefix
        self._raw = raw
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        raw.write(self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._raw.flush()

    def _seal(self, plain: bytes, final: bool) -> None:
        nonce = self._prefix + struct.pack(">I", self._counter)
        sealed = self._aead.encrypt(nonce, plain, _aad(self._header, self._counter, final))
        self._raw.write(struct.pack(">I", len(sealed) | (_FINAL if final else 0)) + sealed)
        self._counter += 1


class DecryptingReader:
    """A read-only binary stream over an encrypted backup."""

    def __init__(self, raw: BinaryIO, secret: str | None) -> None:
        header = raw.read(_HEADER)
        if len(header) != _HEADER or not header.startswith(MAGIC):
            raise BackupKeyError("Not an encrypted AgentMem backup.")
        if not secret:
            raise BackupKeyError("This backup is encrypted: set AGENTMEM_BACKUP_KEY.")
        mode, salt = header[len(MAGIC)], header[len(MAGIC) + 1 : len(MAGIC) + 17]
        self._header = header
        self._prefix = header[len(MAGIC) + 17 :]
        self._aead = AESGCM(_derive(secret, mode, salt))
        self._raw = raw
        self._plain = bytearray()
        self._counter = 0
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._plain) < size):
            self._open_chunk()
        if size < 0:
            size = len(self._plain)
        out = bytes(self._plain[:size])
        del self._plain[:size]
        return out

    def _open_chunk(self) -> None:
        prefix = self._raw.read(4)
        if len(prefix) != 4:
            raise BackupKeyError("The encrypted backup is truncated.")
        (word,) = struct.unpack(">I", prefix)
        final, length = bool(word & _FINAL), word & ~_FINAL
        sealed = self._raw.read(length)
        nonce = self._prefix + struct.pack(">I", self._counter)
        try:
            plain = self._aead.decrypt(nonce, sealed, _aad(self._header, self._counter, final))
        except InvalidTag as exc:
            raise BackupKeyError(
                "The backup cannot be decrypted: wrong key, or the file is damaged."
            ) from exc
        self._plain += plain
        self._counter += 1
        self._done = final


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)
