"""Tracing and metric hooks for the domain, free of any exporter or server.

The domain and its adapters report what they do through two seams, both
inert until the transport switches them on:

- **Spans** (OpenTelemetry API only). :func:`enable_tracing` installs a tracer;
  until then :func:`span` and :func:`instrument` take a fast path that creates
  nothing, so tracing that is off costs a flag test per call.
- **Measurements** through a :class:`Recorder`. The default records nothing;
  ``graphql_api.metrics`` installs one that feeds Prometheus.

:func:`instrument` wraps a port object (a ``GraphStore``, ``SearchIndex``,
``Embedder``, ``EventBus`` or ``Cache``) so every coroutine method call gets a
span ``<backend>.<method>`` and a latency measurement, without touching the
adapter. Spans carry the backend and method names only: never arguments,
which may hold personal data.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

T = TypeVar("T")

TRACER_NAME = "agentmem"


class Recorder(Protocol):
    """Where measurements go. Every method must be cheap and never raise."""

    def backend_call(self, backend: str, operation: str, seconds: float, ok: bool) -> None: ...

    def cache_lookup(self, level: str, hit: bool) -> None: ...

    def batch(self, loader: str, size: int) -> None: ...

    def operation(self, name: str, kind: str, seconds: float, error_codes: Sequence[str]) -> None:
        """One GraphQL operation ended; ``error_codes`` lists its errors' codes."""
        ...

    def resolver(self, field: str, seconds: float, ok: bool) -> None: ...

    def subscriptions(self, delta: int) -> None:
        """Subscriptions streaming went up or down by ``delta``."""
        ...


class NullRecorder:
    """Records nothing (the default until a metrics backend is installed)."""

    def backend_call(self, backend: str, operation: str, seconds: float, ok: bool) -> None:
        return None

    def cache_lookup(self, level: str, hit: bool) -> None:
        return None

    def batch(self, loader: str, size: int) -> None:
        return None

    def operation(self, name: str, kind: str, seconds: float, error_codes: Sequence[str]) -> None:
        return None

    def resolver(self, field: str, seconds: float, ok: bool) -> None:
        return None

    def subscriptions(self, delta: int) -> None:
        return None


Link = trace.Link
"""A reference from a span to another trace's span (re-exported for the domain)."""

ROOT = otel_context.Context()
"""An empty context: a span started with ``parent=ROOT`` begins a new trace."""

_QUIET: contextvars.ContextVar[bool] = contextvars.ContextVar("agentmem_quiet", default=False)


class _State:
    tracer: trace.Tracer | None = None
    recorder: Recorder = NullRecorder()


def enable_tracing(provider: trace.TracerProvider | None) -> None:
    """Create spans with ``provider`` from now on; ``None`` switches tracing off."""
    _State.tracer = None if provider is None else provider.get_tracer(TRACER_NAME)


def tracing_enabled() -> bool:
    return _State.tracer is not None


def tracer() -> trace.Tracer | None:
    """The tracer in use, or ``None`` while tracing is off."""
    return None if _QUIET.get() else _State.tracer


def set_recorder(recorder: Recorder | None) -> None:
    """Send measurements to ``recorder`` (``None``: record nothing)."""
    _State.recorder = NullRecorder() if recorder is None else recorder


def recorder() -> Recorder:
    return _State.recorder


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No spans inside the block (measurements still happen)."""
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


@contextlib.contextmanager
def span(
    name: str,
    attributes: Mapping[str, str | int | float | bool] | None = None,
    *,
    links: Sequence[trace.Link] = (),
    parent: otel_context.Context | None = None,
) -> Iterator[trace.Span | None]:
    """A span around the block, current inside it; yields ``None`` when tracing is off."""
    tracer = _State.tracer
    if tracer is None or _QUIET.get():
        yield None
        return
    with tracer.start_as_current_span(
        name,
        context=parent,
        attributes=attributes,
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            mark_failed(current, exc)
            raise


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers, to hand to work that runs
    elsewhere (another task, process or subscriber); empty when tracing is off."""
    if _State.tracer is None:
        return {}
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def context_from(headers: Mapping[str, str] | None) -> otel_context.Context | None:
    """The trace context a :func:`carrier` described, or ``None``."""
    if not headers:
        return None
    return propagate.extract(dict(headers))


def current_link() -> trace.Link | None:
    """A link to the current span, to connect later work to it; ``None`` when
    tracing is off or no span is current."""
    if _State.tracer is None:
        return None
    span_context = trace.get_current_span().get_span_context()
    return trace.Link(span_context) if span_context.is_valid else None


def instrument(port: T, backend: str) -> T:
    """``port`` with a span and a latency measurement around each coroutine
    method call (``backend`` names the system, e.g. ``neo4j``)."""
    return _Instrumented(port, backend)  # type: ignore[return-value]


class _Instrumented:
    """A transparent proxy: attributes and plain methods pass through, and
    ``isinstance`` still sees the wrapped adapter's class."""

    def __init__(self, target: object, backend: str) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_backend", backend)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(object.__getattribute__(self, "_target"))

    def __getattr__(self, name: str) -> Any:
        value = getattr(object.__getattribute__(self, "_target"), name)
        if name.startswith("_") or not inspect.iscoroutinefunction(value):
            return value
        wrapped = _timed(value, object.__getattribute__(self, "_backend"), name)
        object.__setattr__(self, name, wrapped)  # bound once, reused
        return wrapped

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_target"), name, value)

    def __repr__(self) -> str:
        return f"instrumented({object.__getattribute__(self, '_target')!r})"


def _timed(method: Callable[..., Any], backend: str, operation: str) -> Callable[..., Any]:
    span_name = f"{backend}.{operation}"
    attributes = {"db.system.name": backend, "db.operation.name": operation}

    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> Any:
        tracer = _State.tracer
        started = time.perf_counter()
        ok = False
        try:
            if tracer is None or _QUIET.get():
                result = await method(*args, **kwargs)
            else:
                with _client_span(tracer, span_name, attributes):
                    result = await method(*args, **kwargs)
            ok = True
            return result
        finally:
            _State.recorder.backend_call(backend, operation, time.perf_counter() - started, ok)

    return call


@contextlib.contextmanager
def _client_span(tracer: trace.Tracer, name: str, attributes: Mapping[str, str]) -> Iterator[None]:
    """A client span that notes a failure by its exception type only: an
    exception's message may quote data, so it is never recorded."""
    with tracer.start_as_current_span(
        name,
        kind=trace.SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield
        except BaseException as exc:
            mark_failed(current, exc)
            raise


def mark_failed(current: trace.Span, exc: BaseException) -> None:
    """Set the error status and ``error.type`` (the exception's class name or
    domain error code) without the message."""
    kind = getattr(exc, "code", None) or type(exc).__name__
    current.set_attribute("error.type", str(kind))
    current.set_status(trace.Status(trace.StatusCode.ERROR, str(kind)))
