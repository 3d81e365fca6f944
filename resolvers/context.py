"""What every resolver receives: the domain, the caller, and the request's
dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.access.masking import Masker, default_masker
from graph.access.policy import Policy
from graph.access.principal import Principal
from graph.access.scope import RowScope
from graph.memory_graph import MemoryGraph
from resolvers.loaders import Loaders
from resolvers.reveal import Reveal


@dataclass(slots=True)
class RequestContext:
    graph: MemoryGraph
    principal: Principal
    loaders: Loaders
    request: Any = None
    response: Any = None
    degraded: set[str] = field(default_factory=set)
    """Features answered in a degraded way (reported in the response's extensions)."""
    policy: Policy = field(default_factory=Policy)
    connection_params: dict[str, Any] | None = None
    """A WebSocket's ``connection_init`` payload (set by Strawberry)."""
    masker: Masker = field(default_factory=default_masker)
    _reveal: Reveal | None = field(default=None, repr=False)

    @property
    def reveal(self) -> Reveal:
        """Field decisions and PII masking for this request's principal."""
        if self._reveal is None:
            self._reveal = Reveal(self.policy.view(self.principal), self.masker)
        return self._reveal

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    @property
    def scope(self) -> RowScope:
        """The caller's row-level scope (agent and/or user), for every memory read."""
        return RowScope.of(self.principal)

    @classmethod
    def create(
        cls,
        graph: MemoryGraph,
        principal: Principal | str,
        request: Any = None,
        response: Any = None,
        policy: Policy | None = None,
        masker: Masker | None = None,
    ) -> RequestContext:
        """A context for one operation; a bare tenant name means the system principal."""
        if isinstance(principal, str):
            principal = Principal.system(principal)
        loaders = Loaders(graph, principal.tenant, RowScope.of(principal))
        return cls(
            graph,
            principal,
            loaders,
            request,
            response,
            policy=policy or Policy(),
            masker=masker or default_masker(),
        )

    def become(self, principal: Principal) -> None:
        """Act for ``principal`` from now on (a WebSocket authenticates after
        its context exists); loaders are rebuilt for its tenant and scope."""
        self.principal = principal
        self.loaders = Loaders(self.graph, principal.tenant, RowScope.of(principal))
        self._reveal = None  # decisions and masking follow the new principal
