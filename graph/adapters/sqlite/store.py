"""The embedded graph store: the whole knowledge graph in one SQLite file.

Every statement filters by tenant in its SQL. Batch reads take their ids as
one JSON array parameter, so each is a single statement however many ids a
dataloader sends. Memory writes append to ``index_outbox`` in the same
transaction.
"""

from __future__ import annotations

from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.store_archive import ArchiveStoreMixin
from graph.adapters.sqlite.store_forget import ForgetStoreMixin
from graph.adapters.sqlite.store_graph import GraphStoreMixin
from graph.adapters.sqlite.store_memories import MemoryStoreMixin


class SqliteGraphStore(MemoryStoreMixin, GraphStoreMixin, ForgetStoreMixin, ArchiveStoreMixin):
    """:class:`graph.ports.GraphStore` on SQLite.

    Tables: ``agents``, ``memories`` (the current version), ``memory_versions``
    (every version with both time axes), ``memory_tags``, ``entities`` (unique
    per tenant, kind and normalised name), ``relations`` (soft-deleted),
    ``facts`` and ``index_outbox``. Closing the store releases its hold on the
    shared :class:`SqliteDatabase`.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._open = True
        db.retain()

    async def close(self) -> None:
        if self._open:
            self._open = False
            await self._db.release()
