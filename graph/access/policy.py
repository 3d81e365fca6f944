"""Which role may do what: roles map to permissions (pure code).

The default roles are ``admin``, ``writer``, ``reader`` and ``auditor``.
Permission names are ``<area>:<verb>``; ``*`` grants every permission.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graph.access.principal import Principal
from graph.errors import Forbidden

MEMORY_READ = "memory:read"
MEMORY_WRITE = "memory:write"
AGENT_READ = "agent:read"
AGENT_WRITE = "agent:write"
GRAPH_WRITE = "graph:write"
"""Relations and facts."""
SEARCH = "search"
SUBSCRIBE = "subscribe"
METADATA_READ = "metadata:read"
VAULT_READ = "vault:read"
"""Clear content of KNOWLEDGE_VAULT memories."""
PII_READ = "pii:read"
"""Personal data unmasked (every such read is audited)."""
APIKEY_ADMIN = "apikey:admin"
AUDIT_READ = "audit:read"
FORGET = "forget"
ALL = "*"

_READ = frozenset({MEMORY_READ, AGENT_READ, SEARCH, SUBSCRIBE})
DEFAULT_ROLES: Mapping[str, frozenset[str]] = {
    "admin": frozenset({ALL}),
    "writer": _READ | {MEMORY_WRITE, AGENT_WRITE, GRAPH_WRITE, METADATA_READ, VAULT_READ},
    "reader": _READ,
    "auditor": frozenset({AUDIT_READ, AGENT_READ}),
}


@dataclass(frozen=True, slots=True)
class Policy:
    roles: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_ROLES))

    def permissions(self, principal: Principal) -> frozenset[str]:
        granted: set[str] = set()
        for role in principal.roles:
            granted |= self.roles.get(role, frozenset())
        return frozenset(granted)

    def allows(self, principal: Principal, permission: str) -> bool:
        granted = self.permissions(principal)
        return ALL in granted or permission in granted

    def require(self, principal: Principal, permission: str) -> None:
        """Raise ``FORBIDDEN`` unless ``principal`` holds ``permission``."""
        if not self.allows(principal, permission):
            raise Forbidden(f"This operation needs the {permission!r} permission.")
