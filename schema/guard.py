"""The query guard: a schema extension that refuses expensive operations
before they run.

In order, for every operation (HTTP and WebSocket alike):

0. in allow-list mode, a document not on the list is refused unparsed;
1. the parser stops at ``max_tokens`` tokens (parsed documents are cached);
2. the document's shape limits (:mod:`schema.limits`) are checked before the
   standard validation rules run, so a hostile document never reaches the
   quadratic ones; then standard validation (and, when introspection is off,
   the no-introspection rule) runs; both results are cached per document;
3. the static cost (:mod:`schema.cost`) is compared with the caller's role
   budget: over budget is ``BAD_USER_INPUT`` with ``limit: "cost"``, ``cost``
   and ``budget`` in extensions (retrying cannot help, so not RATE_LIMITED);
4. the cost is taken from the caller's token bucket (:class:`RateLimiter`):
   an empty bucket is ``RATE_LIMITED`` with ``retryAfter`` (whole seconds).

A request whose ``extensions`` contain ``"cost": true`` gets
``extensions.cost = {"requested": N, "budget": B}`` in its response.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.access.principal import Principal
from graph.errors import BadInput, RateLimited
from graph.ports import RateLimiter
from schema.cost import CostModel, operation_cost
from schema.limits import LIMIT_EXTENSION, QueryLimits, check_document, limit_error

DEFAULT_BUDGETS: Mapping[str, int] = {
    "admin": 50_000,
    "writer": 10_000,
    "reader": 5_000,
    "auditor": 5_000,
}


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's refill (cost units per second) and size (cost units)."""

    per_second: float
    burst: float


DEFAULT_RATES: Mapping[str, Rate] = {
    "admin": Rate(5_000, 50_000),
    "writer": Rate(2_000, 20_000),
    "reader": Rate(1_000, 10_000),
    "auditor": Rate(1_000, 10_000),
}


def for_roles(values: Mapping[str, Any], roles: frozenset[str]) -> Any:
    """The most generous value among ``roles``; a caller with no configured
    role gets the least generous one."""
    known = [values[role] for role in roles if role in values]
    pick = known or list(values.values())
    chooser = max if known else min
    return chooser(pick, key=_generosity)


def _generosity(value: Any) -> float:
    return float(value.burst if isinstance(value, Rate) else value)


@dataclass(frozen=True, slots=True)
class GuardConfig:
    limits: QueryLimits = field(default_factory=QueryLimits)
    cost: CostModel = field(default_factory=CostModel)
    budgets: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    introspection: bool = True
    rate_limiter: RateLimiter | None = None
    """``None``: no rate limits (the in-process test schema)."""
    rates: Mapping[str, Rate] = field(default_factory=lambda: dict(DEFAULT_RATES))
    allowed_documents: frozenset[str] | None = None
    """SHA-256 hex digests of the only documents that may run (allow-list
    mode), on every transport; ``None``: any document."""


class QueryGuard(SchemaExtension):
    def __init__(self, config: GuardConfig) -> None:
        super().__init__()
        self.config = config
        self.cost: int | None = None
        self.budget: int | None = None
        self._refusal: GraphQLError | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        if not self.config.introspection:
            context.validation_rules = (*context.validation_rules, NoSchemaIntrospectionCustomRule)
        yield

    def on_parse(self) -> Iterator[None]:
        """Parse through the cache with the token limit. A refusal is kept for
        ``on_validate`` to report (errors raised from a hook escape
        Strawberry's handling on streaming transports), with a placeholder
        document so that nothing is parsed twice."""
        context = self.execution_context
        allowed = self.config.allowed_documents
        if allowed is not None and _digest(context.query or "") not in allowed:
            self._refusal = GraphQLError(
                "Only persisted queries from the allow-list may run on this server.",
                extensions={"code": "BAD_USER_INPUT", LIMIT_EXTENSION: "allow_list"},
            )
        elif context.graphql_document is None and context.query:
            max_tokens = self.config.limits.max_tokens
            try:
                context.graphql_document = _parse(context.query, max_tokens)
            except GraphQLError as error:
                # Other syntax errors: Strawberry parses again and reports them.
                if "Document contains more than" in error.message:
                    self._refusal = limit_error(
                        "tokens",
                        f"The query has more than {max_tokens} tokens.",
                        max_tokens,
                        max_tokens + 1,
                    )
        if self._refusal is not None:
            allowed_types = set(context.allowed_operations)
            kind = next(k for k in OperationType if k in allowed_types)
            context.graphql_document = _REFUSED[kind]
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        if self._refusal is not None:
            context.pre_execution_errors = [self._refusal]
        else:
            large = len(context.query or "") > MAX_CACHED_QUERY_CHARS
            validate_document = _validate_uncached if large else _validate
            context.pre_execution_errors = validate_document(
                context.schema._schema,
                context.graphql_document,
                context.validation_rules,
                self.config.limits,
            )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        principal = getattr(context.context, "principal", None)
        roles = principal.roles if isinstance(principal, Principal) else frozenset()
        self.cost = operation_cost(
            context.schema._schema,
            context.graphql_document,
            context.operation_name,
            context.variables,
            self.config.cost,
        )
        self.budget = int(for_roles(self.config.budgets, roles))
        if self.cost > self.budget:
            raise BadInput(
                f"The query's cost {self.cost} exceeds your budget of {self.budget}; "
                "ask for fewer items (first/limit) or fewer nested lists.",
                limit="cost",
                cost=self.cost,
                budget=self.budget,
            )
        if self.config.rate_limiter is not None and isinstance(principal, Principal):
            await self._take_tokens(principal, self.config.rate_limiter)
        yield

    async def _take_tokens(self, principal: Principal, limiter: RateLimiter) -> None:
        rate: Rate = for_roles(self.config.rates, principal.roles)
        key = f"{principal.tenant}:{principal.subject}"
        wait = await limiter.acquire(key, max(1, self.cost or 0), rate.per_second, rate.burst)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise RateLimited(f"Too many requests; retry after {seconds} s.", retryAfter=seconds)

    def get_results(self) -> dict[str, Any]:
        asked = (self.execution_context.operation_extensions or {}).get("cost") is True
        if not asked or self.cost is None:
            return {}
        return {"cost": {"requested": self.cost, "budget": self.budget}}


_REFUSED = {kind: parse(f"{kind.value} {{ __typename }}") for kind in OperationType}
"""Stand in for a refused document (of an operation type the transport
allows) until validation reports the refusal."""


def _digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


MAX_CACHED_QUERY_CHARS = 16_384
"""Longer documents are parsed and validated every time: caching them would
let 512 large distinct bodies pin hundreds of megabytes."""


def _parse(query: str, max_tokens: int) -> DocumentNode:
    if len(query) > MAX_CACHED_QUERY_CHARS:
        return parse(query, max_tokens=max_tokens)
    return _parse_cached(query, max_tokens)


@functools.lru_cache(maxsize=512)
def _parse_cached(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def _validate_uncached(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    limits: QueryLimits,
) -> list[GraphQLError]:
    """Shape limits first (cheap, and they keep hostile documents away from
    the standard rules), then the standard rules."""
    return check_document(document, limits) or validate(schema, document, rules)


_validate = functools.lru_cache(maxsize=512)(_validate_uncached)
