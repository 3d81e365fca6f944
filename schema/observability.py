"""The GraphQL side of tracing and metrics: a span and a measurement per
operation and per non-trivial resolver.

The operation span is named ``<type> <name>`` (e.g. ``query AgentMemories``)
and carries the operation's name, type and the SHA-256 of its document; never
the document itself nor any variable value, which may hold personal data.
Resolver spans (``resolve <Type>.<field>``) exist only for root fields and the
fields in :data:`TRACED_FIELDS`, the ones that reach a store; plain attribute
fields run untouched.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator
from inspect import isawaitable
from typing import Any

from graphql import GraphQLError
from opentelemetry import context as otel_context
from opentelemetry import trace
from strawberry.extensions import SchemaExtension

from graph import telemetry
from graph.errors import DomainError

ANONYMOUS = "anonymous"
"""The operation name reported for operations without one."""

TRACED_ROOTS = frozenset({"Query", "Mutation"})
TRACED_FIELDS = frozenset(
    {
        ("Agent", "memories"),
        ("Memory", "agent"),
        ("Memory", "history"),
        ("Memory", "relations"),
        ("Memory", "related"),
        ("Memory", "entities"),
        ("Entity", "memories"),
        ("Entity", "facts"),
        ("Fact", "subject"),
        ("Fact", "object"),
        ("Fact", "source"),
        ("Relation", "source"),
        ("Relation", "target"),
        ("MemoryConnection", "totalCount"),
    }
)
"""Non-root fields whose resolvers load data: each gets a span and a latency."""


def error_code(error: GraphQLError) -> str:
    """The ``extensions.code`` a client sees for ``error`` (see ``schema.errors``)."""
    if error.extensions and "code" in error.extensions:
        return str(error.extensions["code"])
    if isinstance(error.original_error, DomainError):
        return error.original_error.code
    if error.original_error is None or error.path is None:
        return "BAD_USER_INPUT"
    return "INTERNAL"


def document_hash(document: str | None) -> str:
    return hashlib.sha256((document or "").encode()).hexdigest()


class Observability(SchemaExtension):
    """Operation and resolver spans and measurements (see the module doc)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        started = time.perf_counter()
        tracer = telemetry.tracer()
        span: trace.Span | None = None
        token: object | None = None
        if tracer is not None:
            span = tracer.start_span(
                "graphql.operation",
                kind=trace.SpanKind.SERVER,
                attributes={"graphql.document.sha256": document_hash(context.query)},
                record_exception=False,
                set_status_on_exception=False,
            )
            token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            name = context.operation_name or ANONYMOUS
            kind = _operation_type(context)
            errors = getattr(context.result, "errors", None) or []
            codes = [error_code(e) for e in errors]
            telemetry.recorder().operation(name, kind, time.perf_counter() - started, codes)
            if span is not None:
                span.update_name(f"{kind} {name}")
                span.set_attribute("graphql.operation.name", name)
                span.set_attribute("graphql.operation.type", kind)
                if codes:
                    span.set_attribute("graphql.error.codes", sorted(set(codes)))
                    span.set_status(trace.Status(trace.StatusCode.ERROR, codes[0]))
                otel_context.detach(token)  # type: ignore[arg-type]
                span.end()

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        parent = info.parent_type.name
        if parent not in TRACED_ROOTS and (parent, info.field_name) not in TRACED_FIELDS:
            return _next(root, info, *args, **kwargs)
        return _timed_resolver(f"{parent}.{info.field_name}", _next, root, info, args, kwargs)


async def _timed_resolver(
    field: str,
    _next: Callable[..., Any],
    root: Any,
    info: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    started = time.perf_counter()
    ok = False
    try:
        with telemetry.span(f"resolve {field}", {"graphql.field.path": field}):
            result = _next(root, info, *args, **kwargs)
            if isawaitable(result):
                result = await _awaited(result)
        ok = True
        return result
    finally:
        telemetry.recorder().resolver(field, time.perf_counter() - started, ok)


async def _awaited(result: Awaitable[Any]) -> Any:
    return await result


def _operation_type(context: Any) -> str:
    if context.graphql_document is None:
        return "unknown"
    try:
        return str(context.operation_type.value)
    except Exception:  # no such operation in the document
        return "unknown"
