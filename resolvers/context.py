"""What every resolver receives: the domain, the caller's tenant, and the
request's dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.memory_graph import MemoryGraph
from resolvers.loaders import Loaders


@dataclass(slots=True)
class RequestContext:
    graph: MemoryGraph
    tenant: str
    loaders: Loaders
    request: Any = None
    response: Any = None
    degraded: set[str] = field(default_factory=set)
    """Features answered in a degraded way (reported in the response's extensions)."""

    @classmethod
    def create(
        cls, graph: MemoryGraph, tenant: str, request: Any = None, response: Any = None
    ) -> RequestContext:
        return cls(graph, tenant, Loaders(graph, tenant), request, response)
