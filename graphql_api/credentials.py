"""The server's :class:`~graphql_api.authentication.Authenticator`: API keys
and JWTs from ``Authorization: Bearer ...`` or ``X-API-Key`` headers, or from
a WebSocket ``connection_init`` payload (``{"authorization": "Bearer ..."}``
or ``{"apiKey": "..."}``).

A request without credentials is ``UNAUTHENTICATED`` unless the server runs
with ``--insecure-dev``, where it acts as an admin of the default tenant.
Every refusal is written to the audit log as ``auth.failed`` with the reason,
the transport and the credential kind; never the credential itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import HTTPConnection

from graph.access.apikeys import looks_like_api_key
from graph.access.principal import Principal
from graph.errors import Unauthenticated
from graph.memory_graph import MemoryGraph
from graphql_api.jwt_auth import JwtVerifier

_MISSING = "Credentials are required: send 'Authorization: Bearer <API key or JWT>'."
_NO_JWT = "This server accepts no JWTs; use an API key."


def credential_of(
    connection: HTTPConnection, init_payload: Mapping[str, Any] | None = None
) -> str | None:
    """The bearer token or API key presented, payload first, then headers."""
    sources: list[Mapping[str, Any]] = []
    if init_payload:
        sources.append({str(k).lower(): v for k, v in init_payload.items()})
    sources.append(connection.headers)
    for source in sources:
        authorization = source.get("authorization")
        if isinstance(authorization, str):
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        for name in ("x-api-key", "apikey", "api_key"):
            key = source.get(name)
            if isinstance(key, str) and key.strip():
                return key.strip()
    return None


class CredentialAuthenticator:
    """API keys (checked against the key store) and JWTs (if configured)."""

    def __init__(
        self,
        graph: MemoryGraph,
        tenant: str,
        jwt: JwtVerifier | None = None,
        anonymous: Principal | None = None,
    ) -> None:
        self._graph = graph
        self._tenant = tenant
        self._jwt = jwt
        self._anonymous = anonymous

    async def authenticate(
        self, connection: HTTPConnection, init_payload: Mapping[str, Any] | None = None
    ) -> Principal:
        token = credential_of(connection, init_payload)
        if token is None:
            if self._anonymous is not None:
                return self._anonymous
            await self._record(connection, "missing", "none")
            raise Unauthenticated(_MISSING)
        kind = "apikey" if looks_like_api_key(token) else "jwt"
        try:
            if kind == "apikey":
                return await self._graph.apikeys.verify(token)
            if self._jwt is None:
                raise Unauthenticated(_NO_JWT)
            return await self._jwt.verify(token)
        except Unauthenticated as exc:
            await self._record(connection, str(exc.details.get("reason", "invalid")), kind)
            raise

    async def still_valid(self, principal: Principal) -> bool:
        """Whether ``principal``'s credentials still hold: not expired, not revoked."""
        if principal.expires_at is not None and datetime.now(UTC) >= principal.expires_at:
            return False
        if principal.kind == "apikey":
            return await self._graph.apikeys.still_valid(principal)
        return True

    async def _record(self, connection: HTTPConnection, reason: str, kind: str) -> None:
        transport = "websocket" if connection.scope.get("type") == "websocket" else "http"
        nobody = Principal("anonymous", self._tenant, frozenset(), kind="anonymous")
        await self._graph.audit.record(
            nobody,
            "auth.failed",
            reason=reason,
            credential=kind,
            transport=transport,
        )
