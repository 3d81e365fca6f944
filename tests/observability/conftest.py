"""Fixtures for the observability tests: in-process span capture, and the
``gql`` helpers of the API tests (the same schema and request context the
HTTP endpoint uses)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graph import telemetry
from tests.api.conftest import gql, memory_graph

__all__ = ["gql", "memory_graph", "spans"]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for one test; every ended span lands in the exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.enable_tracing(provider)
    try:
        yield exporter
    finally:
        telemetry.enable_tracing(None)
        provider.shutdown()
