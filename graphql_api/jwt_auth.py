"""JWT bearer tokens -> :class:`~graph.access.principal.Principal`.

Signatures are checked with joserfc, the JOSE library of the Authlib project
(``authlib.jose`` is deprecated in its favour): HS256 with a shared secret,
RS256/ES256 with public keys from a JWKS URL, or from the ``jwks_uri`` of an
OpenID Connect issuer's ``/.well-known/openid-configuration``. A token whose
``kid`` the cached key set lacks makes the verifier fetch the set again, at
most once per ``refresh_seconds``, so issuers rotate keys without a restart.
The algorithm decides the key family, so an RSA public key can never be used
as an HMAC secret.

``exp`` is required; ``iss`` and ``aud`` are required and checked when
configured; ``nbf`` is checked when present; all with a small leeway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet, OctKey
from joserfc.jwt import JWTClaimsRegistry

from graph.access.principal import Principal
from graph.errors import Unauthenticated

log = logging.getLogger(__name__)

HMAC_ALGORITHMS = ("HS256",)
PUBLIC_KEY_ALGORITHMS = ("RS256", "ES256")
_INVALID = "The bearer token is not valid."


@dataclass(frozen=True, slots=True)
class ClaimNames:
    """Which claims carry the principal's parts (configurable per issuer)."""

    tenant: str = "tenant"
    roles: str = "roles"
    """A list of role names, or one space-separated string."""
    scopes: str = "scope"
    agent_id: str = "agent_id"
    user_id: str = "user_id"


@dataclass(frozen=True, slots=True)
class JwtConfig:
    secret: str | None = field(default=None, repr=False)
    """HS256 shared secret."""
    jwks_url: str | None = None
    issuer: str | None = None
    """Checked against ``iss``; with no ``jwks_url`` and no secret, also the
    OpenID Connect issuer whose discovery document names the JWKS URL."""
    audience: str | None = None
    leeway_seconds: int = 30
    refresh_seconds: float = 30.0
    """The least time between two fetches of the key set."""
    claims: ClaimNames = ClaimNames()
    default_tenant: str | None = None
    """The tenant of tokens without a tenant claim; ``None`` refuses them."""

    @property
    def enabled(self) -> bool:
        return bool(self.secret or self.jwks_url or self.issuer)


class RemoteKeys:
    """The issuer's public keys, fetched over HTTP and refetched for unknown ``kid``s."""

    def __init__(self, config: JwtConfig) -> None:
        self._config = config
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> Key | None:
        """The key for ``kid`` (the only key when ``kid`` is absent and there is one)."""
        found = self._find(kid)
        if found is not None:
            return found
        async with self._lock:
            found = self._find(kid)
            if (
                found is None
                and time.monotonic() - self._fetched_at >= self._config.refresh_seconds
            ):
                await self._refresh()
                found = self._find(kid)
        return found

    def _find(self, kid: str | None) -> Key | None:
        if self._keys is None:
            return None
        try:
            return self._keys.get_by_kid(kid)
        except JoseError:
            return None

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                url = self._config.jwks_url or await self._discover(client)
                response = await client.get(url)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            log.warning("could not fetch the JWT signing keys: %s", type(exc).__name__)

    async def _discover(self, client: httpx.AsyncClient) -> str:
        issuer = (self._config.issuer or "").rstrip("/")
        response = await client.get(f"{issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        jwks_uri = response.json().get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise ValueError("the discovery document names no jwks_uri")
        return jwks_uri


class JwtVerifier:
    def __init__(self, config: JwtConfig) -> None:
        self._config = config
        self._secret = OctKey.import_key(config.secret) if config.secret else None
        self._remote = RemoteKeys(config) if config.jwks_url or config.issuer else None

    async def verify(self, token: str) -> Principal:
        """The principal a valid token names; ``UNAUTHENTICATED`` otherwise."""
        try:
            header = jws.extract_compact(token.encode()).headers()
            algorithm = header.get("alg")
            key = await self._key_for(algorithm, header.get("kid"))
            decoded = jwt.decode(token, key, algorithms=[str(algorithm)])
            self._registry().validate(decoded.claims)
        except JoseError as exc:
            raise Unauthenticated(_INVALID, reason=exc.error) from exc
        except (ValueError, TypeError) as exc:
            raise Unauthenticated(_INVALID, reason="malformed") from exc
        return self._principal(decoded.claims)

    async def _key_for(self, algorithm: object, kid: object) -> Key:
        key: Key | None = None
        if algorithm in HMAC_ALGORITHMS:
            key = self._secret
        elif algorithm in PUBLIC_KEY_ALGORITHMS and self._remote is not None:
            key = await self._remote.key(kid if isinstance(kid, str) else None)
        if key is None:
            raise Unauthenticated(_INVALID, reason="unknown_key")
        return key

    def _registry(self) -> JWTClaimsRegistry:
        config = self._config
        options: dict[str, Any] = {"exp": {"essential": True}}
        if config.issuer:
            options["iss"] = {"essential": True, "value": config.issuer}
        if config.audience:
            options["aud"] = {"essential": True, "value": config.audience}
        return JWTClaimsRegistry(leeway=config.leeway_seconds, **options)

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        names = self._config.claims
        subject = claims.get("sub")
        tenant = claims.get(names.tenant, self._config.default_tenant)
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(_INVALID, reason="no_subject")
        if not isinstance(tenant, str) or not tenant:
            raise Unauthenticated(_INVALID, reason="no_tenant")
        return Principal(
            subject=f"jwt:{subject}",
            tenant=tenant,
            roles=_names(claims.get(names.roles)),
            scopes=_names(claims.get(names.scopes)),
            agent_id=_optional(claims.get(names.agent_id)),
            user_id=_optional(claims.get(names.user_id)),
            kind="jwt",
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )


def _names(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(str(item) for item in value if isinstance(item, str))
    return frozenset()


def _optional(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
