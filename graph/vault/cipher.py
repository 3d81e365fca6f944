"""Sealing vault content: AES-256-GCM under the key ring's active key.

A sealed value is text: ``vault:v1:<kid>:<nonce>:<ciphertext+tag>`` (nonce
and ciphertext URL-safe base64). The associated data binds it to its tenant,
memory id and version, so a sealed value copied onto another memory, tenant
or version does not open. Content hashes of vault memories are keyed
(HMAC-SHA256 under a key derived from a ring key), so a stored hash cannot be
checked against guessed plaintexts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from graph.errors import Unavailable
from graph.vault.keys import KeyRing, KeySource, VaultKey

PREFIX = "vault:v1:"
NONCE_BYTES = 12
_HASH_KEY_LABEL = b"agentmem vault content-hash key v1"


class VaultError(Unavailable):
    """Vault content cannot be sealed or opened (no keys, unknown key, tampering)."""


def is_sealed(content: str) -> bool:
    return content.startswith(PREFIX)


def key_id_of(sealed: str) -> str:
    """The id of the key that sealed ``sealed``."""
    return sealed[len(PREFIX) :].split(":", 1)[0]


def _aad(tenant: str, memory_id: str, version: int) -> bytes:
    return "\x00".join(("agentmem-vault-v1", tenant, memory_id, str(version))).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VaultCipher:
    """Seals and opens vault content with the keys of one :class:`KeySource`."""

    def __init__(self, keys: KeySource) -> None:
        self.keys = keys

    def ring(self) -> KeyRing:
        return self.keys.ring()

    @property
    def active_kid(self) -> str:
        return self.ring().active_kid

    def seal(self, content: str, tenant: str, memory_id: str, version: int) -> str:
        key = self.ring().active
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key.secret).encrypt(
            nonce, content.encode(), _aad(tenant, memory_id, version)
        )
        return f"{PREFIX}{key.kid}:{_b64(nonce)}:{_b64(sealed)}"

    def open(self, sealed: str, tenant: str, memory_id: str, version: int) -> str:
        """The content of ``sealed``; ``VaultError`` if no ring key opens it."""
        try:
            kid, nonce, body = sealed[len(PREFIX) :].split(":")
        except ValueError:
            kid, nonce, body = key_id_of(sealed), "", ""
        key = self._key(kid)
        try:
            plain = AESGCM(key.secret).decrypt(
                _unb64(nonce), _unb64(body), _aad(tenant, memory_id, version)
            )
        except (InvalidTag, ValueError) as exc:
            raise VaultError(
                f"The knowledge-vault content of memory {memory_id!r} (version {version}) "
                "failed its integrity check.",
                id=memory_id,
            ) from exc
        return plain.decode()

    def _key(self, kid: str) -> VaultKey:
        key = self.ring().get(kid) or self.keys.reload().get(kid)
        if key is None:
            raise VaultError(
                f"The vault key {kid!r} is not in the key ring ({self.keys.description}).",
                kid=kid,
            )
        return key

    def keyed_hash(self, plain_hash: str, key: VaultKey | None = None) -> str:
        """The stored hash of vault content whose plain content hash is
        ``plain_hash`` (under the active key unless ``key`` is given)."""
        key = key or self.ring().active
        hash_key = hmac.new(key.secret, _HASH_KEY_LABEL, hashlib.sha256).digest()
        return "vh1:" + hmac.new(hash_key, plain_hash.encode(), hashlib.sha256).hexdigest()

    def keyed_hashes(self, plain_hash: str) -> list[str]:
        """The stored hash under every ring key (rows not yet rotated keep an
        older one, and de-duplication must still find them)."""
        return [self.keyed_hash(plain_hash, key) for key in self.ring().keys]
