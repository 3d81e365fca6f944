"""Running Cypher on Neo4j: one managed transaction per store call.

:class:`Neo4jRunner` owns the driver and turns driver failures into domain
errors: lost connections become :class:`graph.errors.Unavailable` and
constraint violations :class:`graph.errors.Conflict`, with messages that name
no driver internals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    Record,
    unit_of_work,
)
from neo4j.api import AsyncBookmarkManager
from neo4j.exceptions import (
    AuthError,
    ConstraintError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph.adapters.neo4j.cypher import Statement
from graph.errors import Conflict, Unavailable

T = TypeVar("T")
Work = Callable[[AsyncManagedTransaction], Awaitable[T]]

log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "The graph database is unavailable; try again shortly."
TIMEOUT_MESSAGE = "The graph database did not answer in time; try again shortly."

UNAVAILABLE_ERRORS = (ServiceUnavailable, SessionExpired, TransientError, AuthError, OSError)
"""Driver failures that mean "the store cannot answer now" (after the
driver's own retries, for the transient ones)."""


@dataclass(frozen=True, slots=True)
class Neo4jSettings:
    """Where and how to reach Neo4j."""

    uri: str
    user: str
    password: str = field(repr=False)
    database: str | None = None
    """``None`` is the server's default database."""
    connect_timeout: float = 5.0
    retry_seconds: float = 10.0
    """How long the driver retries a transaction on transient errors."""
    ping_timeout: float = 2.0
    timeout: float = 15.0
    """Seconds one store call may take in all (driver retries included);
    also the server-side timeout of each transaction attempt."""


async def run_records(tx: AsyncManagedTransaction, statement: Statement) -> list[Record]:
    query, params = statement
    result = await tx.run(query, params)
    return [record async for record in result]


class Neo4jRunner:
    """A driver plus the one way store calls use it (see the module docstring)."""

    def __init__(self, driver: AsyncDriver, settings: Neo4jSettings) -> None:
        self._driver = driver
        self._settings = settings
        self._database = settings.database
        self._bookmarks: AsyncBookmarkManager = AsyncGraphDatabase.bookmark_manager()

    # -- running statements ---------------------------------------------------

    async def _transact(self, write: bool, work: Work[T], conflict: str | None = None) -> T:
        """Run ``work`` in one managed transaction, bounded by the settings'
        ``timeout`` (client side for the whole call, server side for each
        attempt); a timeout is ``Unavailable`` like a lost connection."""
        timeout = self._settings.timeout

        @unit_of_work(timeout=timeout)
        async def bounded(tx: AsyncManagedTransaction) -> T:
            return await work(tx)

        try:
            async with asyncio.timeout(timeout + 1.0):
                async with self._driver.session(
                    database=self._database, bookmark_manager=self._bookmarks
                ) as session:
                    if write:
                        return await session.execute_write(bounded)
                    return await session.execute_read(bounded)
        except ConstraintError as exc:
            raise Conflict(conflict or "The change conflicts with stored data.") from exc
        except TimeoutError as exc:
            log.warning("Neo4j call timed out after %.1f s", timeout)
            raise Unavailable(TIMEOUT_MESSAGE) from exc
        except UNAVAILABLE_ERRORS as exc:
            log.warning("Neo4j unavailable: %s", type(exc).__name__)
            raise Unavailable(UNAVAILABLE_MESSAGE) from exc
        except Neo4jError as exc:
            if "TransactionTimedOut" not in (exc.code or ""):
                raise
            log.warning("Neo4j transaction timed out after %.1f s", timeout)
            raise Unavailable(TIMEOUT_MESSAGE) from TimeoutError(exc.code)

    async def _read(self, statement: Statement) -> list[Any]:
        """The ``rows`` list of a read statement's single record."""

        async def work(tx: AsyncManagedTransaction) -> list[Any]:
            [record] = await run_records(tx, statement)
            rows: list[Any] = record["rows"]
            return rows

        return await self._transact(False, work)

    async def _write(self, statement: Statement, conflict: str | None = None) -> list[Record]:
        return await self._transact(True, lambda tx: run_records(tx, statement), conflict)
