# ruff: noqa: E501  (one description per line reads best as a table)
"""The configuration reference, generated from the settings model.

``python -m graphql_api.settings_reference > docs/configuration.md`` writes
it; a test fails when a setting has no description here or when
``docs/configuration.md`` is out of date.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from graphql_api.settings import ENV_PREFIX, Settings

DESCRIPTIONS: dict[str, str] = {
    "host": "Address to bind (`--host`). Anonymous `--insecure-dev` mode only starts on loopback.",
    "port": "TCP port to listen on (`--port`).",
    "data_dir": "Folder of the embedded store, the bootstrap admin key and local key files (`--data-dir`).",
    "tenant": "Tenant of the bootstrap admin key and of anonymous `--insecure-dev` requests.",
    "log_level": "`debug`, `info`, `warning` or `error`.",
    "neo4j_uri": "Keep the graph in Neo4j 5.26+, e.g. `bolt://127.0.0.1:7687`. Unset: embedded SQLite.",
    "neo4j_user": "Neo4j user.",
    "neo4j_password": "Neo4j password.",
    "neo4j_database": "Neo4j database name; unset means the server's default.",
    "weaviate_url": "Search through Weaviate 1.37+, e.g. `http://127.0.0.1:8080`. Unset: embedded FTS5 + vectors.",
    "weaviate_grpc_port": "Weaviate's gRPC port, on the same host as `weaviate_url`.",
    "redis_url": "Share events, caches and rate limits across processes through Redis, e.g. `redis://127.0.0.1:6379/0`.",
    "embedder": "`minilm` (local, offline CPU model) or `openai` (any OpenAI-compatible `/embeddings` endpoint).",
    "embedder_url": "Base URL for the `openai` embedder, e.g. `http://localhost:11434/v1`.",
    "embedder_model": "Model name for the `openai` embedder.",
    "embedder_api_key": "Bearer token for the `openai` embedder.",
    "embedder_dimensions": "Vector size for the `openai` embedder.",
    "embedder_threads": "Inference threads for `minilm`; unset means the CPU count.",
    "max_content_chars": "Longest memory content accepted.",
    "max_page_size": "Largest `first:` or `limit:`; more is an error, not a silent cut.",
    "max_batch": "Most memories in one `addMemories`.",
    "backup_key": "Key for `agentmem backup --encrypt` and for reading encrypted backups: 64 hex digits (raw AES-256 key) or a passphrase (scrypt). See docs/backup.md.",
    "policy_file": "TOML authorization policy: roles, masking, field rules (docs/authorization.md); unset: built-in defaults.",
    "pii_hash_key": "Key of the `hash` PII masking tokens; unset: a random key kept in `<data-dir>/pii-hash.key`.",
    "audit_retention_days": "Prune audit records older than this many days (hourly, keeping the chain verifiable); 0 keeps them forever.",
    "vault_keys": "Knowledge-vault keys `kid:base64key,...` (first or `*`-marked active); see docs/vault-and-audit.md.",
    "vault_keys_file": "File of knowledge-vault keys, one `kid:base64key` per line (embedded default: `<data-dir>/vault.keys`, generated on first start).",
    "neo4j_timeout": "Seconds one Neo4j transaction may take before it fails as `UNAVAILABLE`.",
    "neo4j_connect_timeout": "Seconds to open a Neo4j connection.",
    "neo4j_retry_seconds": "Longest time the Neo4j driver retries a transient failure of a read.",
    "weaviate_timeout": "Seconds one Weaviate query may take.",
    "weaviate_write_timeout": "Seconds one Weaviate batch write may take.",
    "redis_timeout": "Socket timeout of Redis calls, in seconds.",
    "embedder_timeout": "Seconds one embedding request to an `openai` embedder may take.",
    "breaker_failure_threshold": "Consecutive failures that open a backend's circuit breaker.",
    "breaker_failure_ratio": "Failure ratio over the last `breaker_window` calls that opens the breaker.",
    "breaker_window": "Calls the failure ratio is measured over.",
    "breaker_minimum_calls": "Calls needed in the window before the ratio can open the breaker.",
    "breaker_open_seconds": "Seconds an open breaker fails fast before it lets probe calls through (half-open).",
    "breaker_probes": "Probe calls allowed while half-open; their success closes the breaker.",
    "retry_attempts": "Attempts for idempotent backend calls on transient errors (1 = no retry).",
    "retry_base_delay": "First retry delay in seconds; doubles per attempt, with full jitter.",
    "retry_max_delay": "Longest delay between retries, in seconds.",
    "max_concurrent_requests": "HTTP requests served at once; more wait up to `request_queue_seconds`, then get 503 with `Retry-After`.",
    "request_queue_seconds": "Longest wait for a free request slot before answering 503.",
    "shutdown_drain_seconds": "On SIGTERM, seconds in-flight requests get to finish before the server exits.",
    "profile": "`development` or `production`; production refuses introspection and serves no GraphiQL (docs/hardening.md).",
    "max_query_depth": "Deepest field nesting of a GraphQL document; deeper is refused before validation.",
    "max_query_aliases": "Most aliased fields in one document.",
    "max_query_tokens": "Most lexical tokens in one document; the parser stops there.",
    "max_root_fields": "Most top-level fields in one operation.",
    "default_list_size": "Assumed length of a list field without `first`/`limit`, for query cost.",
    "cost_budgets": "Largest static query cost per role, `role=cost,...`; over budget is `BAD_USER_INPUT` with the cost and budget.",
    "max_body_bytes": "Largest request body; more is 413, refused while streaming.",
    "persisted_queries": "Accept Automatic Persisted Queries (hash-only requests, registration in the cache).",
    "persisted_query_ttl_seconds": "How long a registered persisted query is kept.",
    "persisted_queries_only": "Allow-list mode: only documents in `persisted_queries_file` run, on every transport.",
    "persisted_queries_file": "JSON allow-list: an Apollo persisted-query manifest, `{sha256: document}` or a list of documents.",
    "rate_limits": "Per-principal token buckets in cost units, `role=per_second/burst,...`, in Redis when `redis_url` is set; `off` disables.",
    "cors_origins": "Comma-separated browser origins allowed by CORS, or `*`; unset: no CORS headers.",
    "cors_allow_credentials": "Let browsers send credentials cross-site (not with `*`).",
    "cors_max_age": "Seconds a browser may cache a CORS preflight answer.",
    "log_format": "`json` (one object per line, with request and trace ids) or `text`; personal data is redacted in both.",
    "readiness_cache_seconds": "Seconds `/readyz` reuses its last dependency check (0: check on every call).",
    "jwt_secret": "HS256 shared secret: accept JWTs signed with it (docs/authentication.md).",
    "jwt_jwks_url": "Accept RS256/ES256 JWTs signed by the keys of this JWKS URL (refetched for unknown `kid`s).",
    "jwt_issuer": "Required `iss` of JWTs; with no JWKS URL, its OpenID discovery document names the keys.",
    "jwt_audience": "Required `aud` of JWTs.",
    "jwt_leeway_seconds": "Clock skew allowed when checking `exp` and `nbf`.",
    "jwt_jwks_refresh_seconds": "Least time between two fetches of the JWKS (an unknown `kid` triggers one).",
    "jwt_tenant_claim": "JWT claim naming the tenant.",
    "jwt_roles_claim": "JWT claim listing the roles (a list or a space-separated string).",
    "jwt_scope_claim": "JWT claim listing the scopes.",
    "jwt_agent_claim": "JWT claim that limits the caller to one agent's memories.",
    "jwt_user_claim": "JWT claim that limits the caller to memories about one user.",
    "jwt_default_tenant": "Tenant of JWTs without a tenant claim; unset, such tokens are refused.",
    "auth_recheck_seconds": "How often a live WebSocket re-checks its credentials (expiry, revocation).",
    "insecure_dev": "Anonymous requests act as admin of `tenant` (`--insecure-dev`); loopback only.",
}
"""One line per setting: what it does, in the operator's words."""

HEADER = """# Configuration reference

<!-- Generated by `python -m graphql_api.settings_reference > docs/configuration.md`;
     do not edit by hand (a test compares). -->

Settings come from their defaults, then a TOML file named by
`AGENTMEM_SETTINGS_FILE` (keys are the setting names), then `AGENTMEM_*`
environment variables, then command-line flags; each overrides the last.
Secrets are never logged or printed.

| setting | environment variable | default | description |
| --- | --- | --- | --- |
"""


def _default(field: dataclasses.Field[object]) -> str:
    if field.default is not dataclasses.MISSING:
        value: object = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        return ""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        return f"`./{value}`"
    if isinstance(value, tuple | list | frozenset):
        return f"`{','.join(str(v) for v in value)}`" if value else ""
    return f"`{value}`"


def undocumented() -> list[str]:
    """Settings without a description (a test keeps this empty)."""
    return [f.name for f in dataclasses.fields(Settings) if f.name not in DESCRIPTIONS]


def reference() -> str:
    rows = []
    for field in dataclasses.fields(Settings):
        description = DESCRIPTIONS.get(field.name, "")
        if not field.repr:
            description += " **Secret.**"
        env = f"`{ENV_PREFIX}{field.name.upper()}`"
        rows.append(f"| `{field.name}` | {env} | {_default(field)} | {description.strip()} |")
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
