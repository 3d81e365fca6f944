"""The caller, as the transport resolved it from credentials.

The domain trusts a :class:`Principal`; it never sees tokens or keys. The
tenant is always set; ``agent_id`` / ``user_id`` narrow the rows the caller
may touch further (row-level scope, compiled into store queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    """Stable name of the caller: ``apikey:<id>``, a JWT ``sub``, ``system``."""
    tenant: str
    roles: frozenset[str]
    scopes: frozenset[str] = frozenset()
    agent_id: str | None = None
    """When set, only this agent's memories exist for the caller."""
    user_id: str | None = None
    """When set, only memories about this user exist for the caller."""
    kind: str = "apikey"
    """How the caller authenticated: ``apikey``, ``jwt``, ``anonymous``, ``system``."""
    credential_id: str | None = None
    """The API key id (for revocation checks); ``None`` for other kinds."""
    expires_at: datetime | None = None

    @classmethod
    def system(cls, tenant: str, roles: frozenset[str] = frozenset({"admin"})) -> Principal:
        """The server itself (CLI, background work, tests that bypass transport)."""
        return cls(subject="system", tenant=tenant, roles=roles, kind="system")

    @property
    def scoped(self) -> bool:
        return self.agent_id is not None or self.user_id is not None
