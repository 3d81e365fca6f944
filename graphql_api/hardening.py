"""Turns the hardening settings into the objects that enforce them: the query
guard's configuration (limits, cost budgets, introspection, rate limits) and
the HTTP middleware (CORS, CSRF content types, body size) and persisted queries.
Every setting is described in ``docs/hardening.md``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from graph.adapters.rate_limit import InProcessRateLimiter
from graph.ports import Cache, RateLimiter
from graphql_api.persisted import PersistedQueries, load_allow_list
from graphql_api.request_guard import RequestGuard
from graphql_api.settings import Settings, SettingsError
from schema.cost import CostModel
from schema.guard import GuardConfig, Rate
from schema.limits import QueryLimits

PROFILES = ("development", "production")

T = TypeVar("T")


def is_production(settings: Settings) -> bool:
    return settings.profile == "production"


def validate_settings(settings: Settings) -> None:
    """Raise ``SettingsError`` naming the first hardening setting the server cannot use."""
    if settings.profile not in PROFILES:
        raise SettingsError(
            f"setting profile must be one of {', '.join(PROFILES)}, got {settings.profile!r}"
        )
    for name in (
        "max_query_depth",
        "max_query_aliases",
        "max_query_tokens",
        "max_root_fields",
        "default_list_size",
        "max_body_bytes",
    ):
        if getattr(settings, name) < 1:
            raise SettingsError(f"setting {name} must be at least 1")
    cost_budgets(settings)
    rates(settings)
    allow_list(settings)
    if "*" in cors_origins(settings) and settings.cors_allow_credentials:
        raise SettingsError("cors_allow_credentials cannot be used with cors_origins '*'")


def cost_budgets(settings: Settings) -> Mapping[str, int]:
    return parse_role_map("cost_budgets", settings.cost_budgets, _positive_int)


def rates(settings: Settings) -> Mapping[str, Rate] | None:
    """Per-role token buckets (``role=per_second/burst``); ``None`` when ``off``."""
    if settings.rate_limits.strip().lower() == "off":
        return None
    return parse_role_map("rate_limits", settings.rate_limits, _rate)


def make_rate_limiter(settings: Settings) -> RateLimiter | None:
    """Redis buckets when Redis is configured (shared by every process),
    in-process ones otherwise; ``None`` when rate limits are off."""
    if rates(settings) is None:
        return None
    if settings.redis_url:
        from graph.adapters.redis.rate_limit import RedisRateLimiter

        return RedisRateLimiter(settings.redis_url)
    return InProcessRateLimiter()


def allow_list(settings: Settings) -> dict[str, str] | None:
    """Hash -> document of the allow-list in ``persisted_queries_only`` mode, else ``None``."""
    if not settings.persisted_queries_only:
        return None
    if not settings.persisted_queries_file:
        raise SettingsError("persisted_queries_only needs persisted_queries_file")
    try:
        return load_allow_list(Path(settings.persisted_queries_file))
    except (OSError, ValueError) as exc:
        raise SettingsError(
            f"cannot use persisted_queries_file {settings.persisted_queries_file}: {exc}"
        ) from None


def persisted_queries(
    settings: Settings, cache: Cache, allowed: Mapping[str, str] | None
) -> PersistedQueries:
    """How HTTP requests that name a document by hash are resolved."""
    return PersistedQueries(
        cache if settings.persisted_queries else None,
        settings.persisted_query_ttl_seconds,
        allowed,
    )


def guard_config(
    settings: Settings,
    rate_limiter: RateLimiter | None = None,
    allowed: Mapping[str, str] | None = None,
) -> GuardConfig:
    validate_settings(settings)
    return GuardConfig(
        limits=QueryLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_query_aliases,
            max_root_fields=settings.max_root_fields,
            max_tokens=settings.max_query_tokens,
        ),
        cost=CostModel(default_list_size=settings.default_list_size),
        budgets=cost_budgets(settings),
        introspection=not is_production(settings),
        rate_limiter=rate_limiter,
        rates=rates(settings) or {},
        allowed_documents=None if allowed is None else frozenset(allowed),
    )


def cors_origins(settings: Settings) -> list[str]:
    return [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]


def middleware(settings: Settings) -> list[Middleware]:
    """CORS outermost (so refusals carry its headers too), then the request guard."""
    stack: list[Middleware] = []
    origins = cors_origins(settings)
    if origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=origins,
                allow_credentials=settings.cors_allow_credentials,
                allow_methods=["GET", "POST"],
                allow_headers=["accept", "authorization", "content-type", "x-api-key"],
                max_age=settings.cors_max_age,
            )
        )
    stack.append(Middleware(RequestGuard, max_body_bytes=settings.max_body_bytes))
    return stack


def parse_role_map(name: str, text: str, parse: Callable[[str], T]) -> Mapping[str, T]:
    """``"admin=50000, reader=5000"`` as ``{"admin": 50000, "reader": 5000}``."""
    values: dict[str, T] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        role, sep, raw = item.partition("=")
        if not sep or not role.strip():
            raise SettingsError(f"setting {name} must look like 'role=value,...', got {item!r}")
        try:
            values[role.strip()] = parse(raw.strip())
        except ValueError as exc:
            raise SettingsError(f"setting {name}: {role.strip()}: {exc}") from None
    if not values:
        raise SettingsError(f"setting {name} must name at least one role")
    return values


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(f"must be a positive integer, got {raw!r}")
    return value


def _rate(raw: str) -> Rate:
    per_second, sep, burst = raw.partition("/")
    if not sep:
        raise ValueError(f"must be per_second/burst, got {raw!r}")
    rate = Rate(float(per_second), float(burst))
    if rate.per_second <= 0 or rate.burst < 1:
        raise ValueError(f"needs a positive rate and a burst of at least 1, got {raw!r}")
    return rate


def http_status(errors: list[dict[str, Any]]) -> tuple[int, dict[str, str]] | None:
    """The HTTP status and headers a response with these (formatted) errors
    must have beyond the GraphQL-over-HTTP defaults: 429 and ``Retry-After``
    when rate limited."""
    for error in errors:
        extensions = error.get("extensions") or {}
        if extensions.get("code") == "RATE_LIMITED":
            return 429, {"Retry-After": str(extensions.get("retryAfter", 1))}
    return None
