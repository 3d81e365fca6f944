"""Automatic Persisted Queries (the Apollo protocol) and the allow-list.

APQ: a client sends ``extensions.persistedQuery = {"version": 1,
"sha256Hash": H}`` without the query; if the server knows ``H`` it runs that
document, otherwise it answers ``PERSISTED_QUERY_NOT_FOUND`` and the client
sends the query together with the hash, which the server verifies
(``sha256(query) == H``) and stores in the cache (Redis when configured, so
every process knows it) for ``persisted_query_ttl_seconds``.

Allow-list (``persisted_queries_only``): only documents listed in
``persisted_queries_file`` run, sent in full or by hash; nothing is
registered. The list is enforced for every transport by the query guard
(:mod:`schema.guard`); this module resolves hashes for HTTP.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.errors import Unavailable
from graph.ports import Cache

KEY_PREFIX = "apq:"


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedQueryError(Exception):
    """A persisted-query request the server answers with an error."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


NOT_FOUND = PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", 200)


@dataclass(frozen=True, slots=True)
class PersistedQueries:
    cache: Cache | None
    """Where registered documents live; ``None`` when APQ is off."""
    ttl_seconds: float
    allow_list: Mapping[str, str] | None = None
    """Hash -> document; when set, only these documents run (allow-list mode)."""

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to run for a request's ``query`` and ``extensions``."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        digest = _requested_hash(persisted)
        if query is not None:
            if sha256_hex(query) != digest:
                raise PersistedQueryError(
                    "BAD_USER_INPUT", "provided sha does not match query", 400
                )
            if self.allow_list is None and self.cache is not None:
                await self._store(digest, query)
            return query
        if self.allow_list is not None:
            known = self.allow_list.get(digest)
            if known is None:
                raise NOT_FOUND
            return known
        if self.cache is None:
            raise PersistedQueryError(
                "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported", 400
            )
        return await self._load(digest)

    async def _store(self, digest: str, query: str) -> None:
        assert self.cache is not None
        with contextlib.suppress(Unavailable):  # the client sends the query again next time
            await self.cache.set(KEY_PREFIX + digest, query.encode(), self.ttl_seconds)

    async def _load(self, digest: str) -> str:
        assert self.cache is not None
        try:
            stored = await self.cache.get(KEY_PREFIX + digest)
        except Unavailable:
            stored = None
        if stored is None:
            raise NOT_FOUND
        return stored.decode()


def _requested_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError(
            "BAD_USER_INPUT", "persistedQuery must be {version: 1, sha256Hash: ...}", 400
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise PersistedQueryError(
            "BAD_USER_INPUT", "persistedQuery.sha256Hash must be 64 hex digits", 400
        )
    return digest.lower()


def load_allow_list(path: Path) -> dict[str, str]:
    """Hash -> document from a JSON file: an Apollo persisted-query manifest
    (``{"operations": [{"id": H, "body": D}, ...]}``), an object ``{H: D}``,
    or a list of documents. Raises ``ValueError`` if a hash does not match."""
    raw = json.loads(path.read_text())
    if isinstance(raw, dict) and isinstance(raw.get("operations"), list):
        pairs = [(op.get("id"), op.get("body")) for op in raw["operations"]]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = [(sha256_hex(doc) if isinstance(doc, str) else None, doc) for doc in raw]
    else:
        raise ValueError("expected a manifest, an object of hash: document, or a list")
    documents: dict[str, str] = {}
    for digest, body in pairs:
        if not isinstance(digest, str) or not isinstance(body, str):
            raise ValueError("every entry needs a hash and a document (strings)")
        if sha256_hex(body) != digest.lower():
            raise ValueError(f"hash {digest} does not match its document")
        documents[digest.lower()] = body
    return documents
