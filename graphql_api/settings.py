"""Server settings: defaults, then a TOML settings file, then ``AGENTMEM_*``
environment variables, then command-line flags (each overrides the last)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from graph.limits import Limits

ENV_PREFIX = "AGENTMEM_"
_DEFAULT_LIMITS = Limits()


class SettingsError(ValueError):
    """A setting has a value the server cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".agentmem")
    tenant: str = "default"
    log_level: str = "info"
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = field(default=None, repr=False)
    neo4j_database: str | None = None
    weaviate_url: str | None = None
    weaviate_grpc_port: int = 50051
    redis_url: str | None = None
    embedder: str = "minilm"
    embedder_url: str | None = None
    embedder_model: str | None = None
    embedder_api_key: str | None = field(default=None, repr=False)
    embedder_dimensions: int | None = None
    embedder_threads: int | None = None
    max_content_chars: int = _DEFAULT_LIMITS.max_content_chars
    max_page_size: int = _DEFAULT_LIMITS.max_page_size
    max_batch: int = _DEFAULT_LIMITS.max_batch
    # Authorization and PII (docs/authorization.md)
    policy_file: str | None = None
    pii_hash_key: str | None = field(default=None, repr=False)
    # Resilience (docs/resilience.md): timeouts, breakers, retries, load, shutdown.
    neo4j_timeout: float = 15.0
    neo4j_connect_timeout: float = 5.0
    neo4j_retry_seconds: float = 10.0
    weaviate_timeout: float = 10.0
    weaviate_write_timeout: float = 60.0
    redis_timeout: float = 2.0
    embedder_timeout: float = 30.0
    breaker_failure_threshold: int = 5
    breaker_failure_ratio: float = 0.5
    breaker_window: int = 20
    breaker_minimum_calls: int = 10
    breaker_open_seconds: float = 5.0
    breaker_probes: int = 1
    retry_attempts: int = 3
    retry_base_delay: float = 0.05
    retry_max_delay: float = 1.0
    max_concurrent_requests: int = 64
    request_queue_seconds: float = 1.0
    shutdown_drain_seconds: float = 20.0
    # GraphQL hardening (graphql_api/hardening.py, docs/hardening.md)
    profile: str = "development"
    max_query_depth: int = 12
    max_query_aliases: int = 30
    max_query_tokens: int = 10_000
    max_root_fields: int = 20
    default_list_size: int = 10
    cost_budgets: str = "admin=50000,writer=10000,reader=5000,auditor=5000"
    max_body_bytes: int = 1_048_576
    persisted_queries: bool = True
    persisted_query_ttl_seconds: int = 86_400
    persisted_queries_only: bool = False
    persisted_queries_file: str | None = None
    rate_limits: str = "admin=5000/50000,writer=2000/20000,reader=1000/10000,auditor=1000/10000"
    cors_origins: str = ""
    cors_allow_credentials: bool = False
    cors_max_age: int = 600
    # Observability (docs/observability.md).
    log_format: str = "json"
    readiness_cache_seconds: float = 2.0
    backup_key: str | None = field(default=None, repr=False)
    """AGENTMEM_BACKUP_KEY: 64 hex digits (raw AES-256 key) or a passphrase."""
    # Authentication (docs/authentication.md).
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = 30
    jwt_jwks_refresh_seconds: float = 30.0
    jwt_tenant_claim: str = "tenant"
    jwt_roles_claim: str = "roles"
    jwt_scope_claim: str = "scope"
    jwt_agent_claim: str = "agent_id"
    jwt_user_claim: str = "user_id"
    jwt_default_tenant: str | None = None
    auth_recheck_seconds: float = 5.0
    insecure_dev: bool = False
    audit_retention_days: int = 0
    vault_keys: str | None = field(default=None, repr=False)
    """Knowledge-vault keys, ``kid:base64key,...`` (first or ``*``-marked active)."""
    vault_keys_file: str | None = None
    """A file of vault keys, one ``kid:base64key`` per line (default on the
    embedded set: ``<data-dir>/vault.keys``, generated on first start)."""
    """Prune audit records older than this many days; 0 keeps them forever."""

    @property
    def limits(self) -> Limits:
        return Limits(
            max_content_chars=self.max_content_chars,
            max_page_size=self.max_page_size,
            max_batch=self.max_batch,
        )

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    settings_file = env.get(f"{ENV_PREFIX}SETTINGS_FILE")
    if settings_file:
        try:
            raw.update(tomllib.loads(Path(settings_file).read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read settings file {settings_file}: {exc}") from exc
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise SettingsError(f"unknown settings in {settings_file}: {', '.join(unknown)}")
    for name in known:
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None and value != "":
            raw[name] = value
    return Settings(**{name: _coerce(name, value) for name, value in raw.items()})


def _coerce(name: str, value: Any) -> Any:
    default = getattr(Settings(), name)
    if isinstance(default, bool):
        return _boolean(name, value)
    try:
        if name == "data_dir":
            return Path(value)
        if isinstance(default, bool):
            return _boolean(name, value)
        if isinstance(default, int) or name in ("embedder_dimensions", "embedder_threads"):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError) as exc:
        kind = "a number" if isinstance(default, float) else "an integer"
        raise SettingsError(f"setting {name} must be {kind}, got {value!r}") from exc
    return str(value)


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"setting {name} must be true or false, got {value!r}")
