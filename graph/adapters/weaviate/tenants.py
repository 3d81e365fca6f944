"""AgentMem tenant names as Weaviate tenant names.

Weaviate tenant names are limited to ``[A-Za-z0-9_-]`` and 64 characters;
AgentMem tenants are arbitrary strings. The mapping is deterministic, uses
lower case only (so it never depends on how the server treats case) and
keeps the three forms apart by their prefix:

``t-<tenant>``
    the tenant itself, when it is already 1-62 characters of ``[a-z0-9-]``
    starting with a letter or digit (readable in Weaviate's tooling);
``x-<base32>``
    otherwise the UTF-8 bytes in lower-case, unpadded base32, while that fits
    (tenants of up to 38 bytes);
``h-<base32 of SHA-256>``
    for longer tenants, the SHA-256 digest of the UTF-8 bytes.

The first two forms are injective outright (unpadded base32 length grows
strictly with the byte count, so equal encodings mean equal bytes); the
third is injective unless SHA-256 collides.
"""

from __future__ import annotations

import base64
import hashlib
import re

MAX_NAME = 64
_PLAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,61}")
_PLAIN_PREFIX = "t-"
_ENCODED_PREFIX = "x-"
_HASHED_PREFIX = "h-"


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def weaviate_tenant(tenant: str) -> str:
    """The Weaviate tenant name that holds ``tenant``'s documents."""
    if _PLAIN.fullmatch(tenant):
        return _PLAIN_PREFIX + tenant
    raw = tenant.encode("utf-8", "surrogatepass")
    encoded = _b32(raw)
    if len(_ENCODED_PREFIX) + len(encoded) <= MAX_NAME:
        return _ENCODED_PREFIX + encoded
    return _HASHED_PREFIX + _b32(hashlib.sha256(raw).digest())


def agentmem_tenant(name: str) -> str | None:
    """The AgentMem tenant behind a Weaviate tenant name, or ``None`` for a
    hashed name (or a name this module did not make)."""
    if name.startswith(_PLAIN_PREFIX):
        return name[len(_PLAIN_PREFIX) :]
    if name.startswith(_ENCODED_PREFIX):
        body = name[len(_ENCODED_PREFIX) :].upper()
        try:
            raw = base64.b32decode(body + "=" * (-len(body) % 8))
        except ValueError:
            return None
        return raw.decode("utf-8", "surrogatepass")
    return None
