"""Tracing setup from the standard ``OTEL_*`` environment variables.

Off by default. It is on when ``OTEL_TRACES_EXPORTER`` names an exporter
(``otlp``, ``console``; ``none`` keeps it off), or when an OTLP endpoint is set
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``)
without an exporter named. ``OTEL_SDK_DISABLED=true`` wins over everything.
The OTLP protocol is ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` or
``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf``, the default, or
``grpc``); the service name is ``OTEL_SERVICE_NAME`` (default ``agentmem``),
and the SDK reads the rest (``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_TRACES_SAMPLER``, headers, timeouts) itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from graph import telemetry
from graphql_api.settings import SettingsError

DEFAULT_SERVICE_NAME = "agentmem"


def exporters_named(environ: Mapping[str, str]) -> list[str]:
    """The trace exporters the environment asks for (empty: tracing off)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    raw = environ.get("OTEL_TRACES_EXPORTER", "")
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not names and endpoint:
        names = ["otlp"]
    return [name for name in names if name != "none"]


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise SettingsError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r} (otlp, console)")
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        return HttpExporter()
    raise SettingsError(f"OTLP protocol {protocol!r} is not supported (http/protobuf, grpc)")


def start_tracing(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Switch tracing on if the environment asks for it; returns the provider
    to shut down at exit, or ``None`` when tracing stays off."""
    env = os.environ if environ is None else environ
    names = exporters_named(env)
    if not names:
        return None
    service = env.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, env)))
    telemetry.enable_tracing(provider)
    return provider


def stop_tracing(provider: TracerProvider | None) -> None:
    """Export what is buffered and switch tracing off."""
    if provider is None:
        return
    telemetry.enable_tracing(None)
    provider.shutdown()
