"""Authentication as the settings configure it: the authenticator, the
``--insecure-dev`` guard and the bootstrap admin key of a fresh server."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from graph.access.principal import Principal
from graph.memory_graph import MemoryGraph
from graphql_api.credentials import CredentialAuthenticator
from graphql_api.jwt_auth import ClaimNames, JwtConfig, JwtVerifier
from graphql_api.settings import Settings, SettingsError

BOOTSTRAP_KEY_FILE = "bootstrap-admin.key"


def jwt_config(settings: Settings) -> JwtConfig:
    return JwtConfig(
        secret=settings.jwt_secret,
        jwks_url=settings.jwt_jwks_url,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway_seconds=settings.jwt_leeway_seconds,
        refresh_seconds=settings.jwt_jwks_refresh_seconds,
        claims=ClaimNames(
            tenant=settings.jwt_tenant_claim,
            roles=settings.jwt_roles_claim,
            scopes=settings.jwt_scope_claim,
            agent_id=settings.jwt_agent_claim,
            user_id=settings.jwt_user_claim,
        ),
        default_tenant=settings.jwt_default_tenant,
    )


def make_authenticator(settings: Settings, graph: MemoryGraph) -> CredentialAuthenticator:
    config = jwt_config(settings)
    anonymous = None
    if settings.insecure_dev:
        check_insecure_dev(settings)
        anonymous = Principal("anonymous", settings.tenant, frozenset({"admin"}), kind="anonymous")
    return CredentialAuthenticator(
        graph,
        settings.tenant,
        jwt=JwtVerifier(config) if config.enabled else None,
        anonymous=anonymous,
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_insecure_dev(settings: Settings) -> None:
    """Anonymous access is for a developer's own machine only."""
    if settings.insecure_dev and not is_loopback(settings.host):
        raise SettingsError(
            f"--insecure-dev allows anonymous admin access, so it only binds to loopback "
            f"(127.0.0.1, ::1, localhost), not {settings.host!r}"
        )


async def write_bootstrap_key(settings: Settings, graph: MemoryGraph) -> Path | None:
    """On a tenant's first start, create an admin key and write it (mode 0600)
    to ``<data-dir>/bootstrap-admin.key``; returns the path, else ``None``."""
    issued = await graph.apikeys.bootstrap(settings.tenant)
    if issued is None:
        return None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / BOOTSTRAP_KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(issued.token + "\n")
    await graph.audit.record(Principal.system(settings.tenant), "apikey.bootstrap", [issued.key.id])
    return path
