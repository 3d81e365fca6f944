"""API keys: what is stored, and how a presented key is checked (pure code).

A key reads ``amk_<id>_<secret>``. The id names the stored record (so a
lookup is one indexed read); the secret is 256 random bits, shown to its
creator once and stored only as its SHA-256 hash. A fast hash is enough for a
secret of that entropy: there is nothing to guess. Hashes are compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from graph.access.principal import Principal

TOKEN_PREFIX = "amk"
_ID_BYTES = 8
_SECRET_BYTES = 32
_TOKEN = re.compile(r"^amk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored API key (never the secret itself)."""

    id: str
    tenant: str
    name: str
    roles: frozenset[str]
    secret_hash: str
    created_at: datetime
    scopes: frozenset[str] = frozenset()
    agent_id: str | None = None
    """When set, the key only reaches this agent's memories."""
    user_id: str | None = None
    """When set, the key only reaches memories about this user."""
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def subject(self) -> str:
        return f"apikey:{self.id}"

    def usable_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def principal(self) -> Principal:
        return Principal(
            subject=self.subject,
            tenant=self.tenant,
            roles=self.roles,
            scopes=self.scopes,
            agent_id=self.agent_id,
            user_id=self.user_id,
            kind="apikey",
            credential_id=self.id,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created: the stored record and the token, shown this once."""

    key: ApiKey
    token: str


def new_secret() -> tuple[str, str, str]:
    """A fresh ``(id, secret, token)``."""
    key_id = secrets.token_hex(_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return key_id, secret, f"{TOKEN_PREFIX}_{key_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed key, else ``None``."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    return match.group(1), match.group(2)


def looks_like_api_key(token: str) -> bool:
    """Whether a bearer token is meant as an API key (rather than a JWT)."""
    return token.startswith(f"{TOKEN_PREFIX}_")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
