"""The embedded backend set: everything in one data folder, no servers."""

from __future__ import annotations

from pathlib import Path

from graph.adapters.inprocess import InProcessCache, InProcessEventBus
from graph.adapters.sqlite.database import SqliteDatabase
from graph.adapters.sqlite.search import SqliteSearchIndex
from graph.adapters.sqlite.store import SqliteGraphStore
from graph.ports import Backends, Embedder

DATABASE_FILE = "agentmem.db"


async def open_embedded(data_dir: Path, embedder: Embedder) -> Backends:
    """Open (creating if needed) the embedded backends in ``data_dir``.

    The graph and the search index share ``data_dir / "agentmem.db"``; the
    database closes when both have been closed (``Backends.close`` does that).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    db = await SqliteDatabase.open(data_dir / DATABASE_FILE)
    store = SqliteGraphStore(db)
    index = SqliteSearchIndex(db, embedder.dimensions)
    return Backends(
        store=store,
        index=index,
        embedder=embedder,
        bus=InProcessEventBus(),
        cache=InProcessCache(),
    )
