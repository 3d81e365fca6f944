"""Turns the hardening settings into the objects that enforce them: the query
guard's configuration (limits, cost budgets, introspection, rate limits) and
the HTTP middleware (CORS, CSRF content types, body size).
Every setting is described in ``docs/hardening.md``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from graph.ports import RateLimiter
from graphql_api.request_guard import RequestGuard
from graphql_api.settings import Settings, SettingsError
from schema.cost import CostModel
from schema.guard import GuardConfig
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
    if "*" in cors_origins(settings) and settings.cors_allow_credentials:
        raise SettingsError("cors_allow_credentials cannot be used with cors_origins '*'")


def cost_budgets(settings: Settings) -> Mapping[str, int]:
    return parse_role_map("cost_budgets", settings.cost_budgets, _positive_int)


def guard_config(settings: Settings, rate_limiter: RateLimiter | None = None) -> GuardConfig:
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
