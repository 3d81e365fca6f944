"""The seam between credentials and the domain: an :class:`Authenticator`
turns an HTTP request or a WebSocket ``connection_init`` payload into a
:class:`~graph.access.principal.Principal`, or refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from graph.access.principal import Principal


class Authenticator(Protocol):
    async def authenticate(
        self, connection: HTTPConnection, init_payload: Mapping[str, Any] | None = None
    ) -> Principal:
        """The caller of ``connection``; raises ``DomainError(UNAUTHENTICATED)`` if unknown.

        For WebSockets, ``init_payload`` is the ``connection_init`` payload.
        """
        ...

    async def still_valid(self, principal: Principal) -> bool:
        """Whether credentials accepted earlier still hold (a live WebSocket
        asks this periodically: expiry, revocation)."""
        ...


class TrustedTenant:
    """Every caller is an admin of one tenant: the behaviour before authentication."""

    def __init__(self, tenant: str) -> None:
        self._tenant = tenant

    async def authenticate(
        self, connection: HTTPConnection, init_payload: Mapping[str, Any] | None = None
    ) -> Principal:
        return Principal.system(self._tenant)

    async def still_valid(self, principal: Principal) -> bool:
        return True
