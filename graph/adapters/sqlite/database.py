"""One SQLite file used from asyncio without blocking the event loop.

Writes go through one dedicated writer thread and connection, one
transaction per call (``BEGIN IMMEDIATE`` ... ``COMMIT``, ``ROLLBACK`` on any
exception). Reads run on a small pool of reader threads, each with its own
read-only connection; WAL mode lets them proceed while a write is going on.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from graph.adapters.sqlite.migrations import MIGRATIONS

T = TypeVar("T")


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of this program."""


class SqliteDatabase:
    """A SQLite database file with a writer thread and a pool of reader threads.

    Open with :meth:`open`, which applies pending schema migrations. Components
    that share the database call :meth:`retain` when they start using it and
    :meth:`release` when they are done; the last release closes it.
    """

    def __init__(self, path: Path, readers: int, busy_timeout_ms: int) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(
            max_workers=max(1, readers), thread_name_prefix="sqlite-reader"
        )
        self._writer_conn: sqlite3.Connection | None = None
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        self._users = 0

    @classmethod
    async def open(
        cls, path: Path, *, readers: int = 4, busy_timeout_ms: int = 10_000
    ) -> SqliteDatabase:
        """Open (creating if needed) and migrate the database at ``path``."""
        db = cls(path, readers, busy_timeout_ms)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(db._writer, db._start_writer)
        except BaseException:
            await db.close()
            raise
        return db

    # -- lifecycle ---------------------------------------------------------

    def retain(self) -> None:
        """Register one more user of this database."""
        self._users += 1

    async def release(self) -> None:
        """Drop one user; the database closes when none is left."""
        self._users -= 1
        if self._users <= 0:
            await self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Finish queued work, then close every connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._writer_conn is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._writer, self._optimize)
        await asyncio.to_thread(self._writer.shutdown, True)
        await asyncio.to_thread(self._readers.shutdown, True)
        with self._conns_lock:
            conns = list(self._reader_conns)
            self._reader_conns.clear()
        if self._writer_conn is not None:
            conns.append(self._writer_conn)
            self._writer_conn = None
        for conn in conns:
            conn.close()

    def _optimize(self) -> None:
        """Let SQLite refresh planner statistics it finds stale (cheap)."""
        if self._writer_conn is not None:
            with contextlib.suppress(sqlite3.Error):  # only an optimisation
                self._writer_conn.execute("PRAGMA optimize")

    # -- running work ------------------------------------------------------

    async def write(
        self,
        fn: Callable[[sqlite3.Connection], T],
        after_commit: Callable[[T], None] | None = None,
    ) -> T:
        """Run ``fn(conn)`` in one write transaction on the writer thread.

        Any exception rolls the whole transaction back and is re-raised.
        ``after_commit(result)``, if given, runs on the writer thread right
        after the commit, so such callbacks run in commit order.
        """
        self._check_open()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._write_sync, fn, after_commit)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on a reader thread inside one read transaction.

        The snapshot starts at the first statement ``fn`` runs, not before.
        """
        self._check_open()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read_sync, fn)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"The database {self.path} is closed.")

    def _write_sync(
        self,
        fn: Callable[[sqlite3.Connection], T],
        after_commit: Callable[[T], None] | None,
    ) -> T:
        conn = self._writer_conn
        if conn is None:  # pragma: no cover - open() always starts the writer
            raise RuntimeError("The writer connection is not open.")
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if after_commit is not None:
            after_commit(result)
        return result

    def _read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._reader_conn()
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    # -- connections -------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,  # transactions are explicit
            check_same_thread=False,  # closed from another thread by close()
            timeout=self._busy_timeout_ms / 1000,
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -16000")
        return conn

    def _start_writer(self) -> None:
        conn = self._connect()
        self._writer_conn = conn
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # pragma: no cover - e.g. a read-only medium
            raise RuntimeError(f"SQLite refused WAL mode for {self.path} (got {mode}).")
        migrate(conn)

    def _reader_conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._conns_lock:
                self._reader_conns.append(conn)
        return conn


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply the pending migrations in one transaction; returns their versions.

    Idempotent, and safe against another process migrating at the same time:
    the check and the changes happen under one write lock.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    conn.execute("BEGIN IMMEDIATE")
    try:
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        known = {version for version, _, _ in MIGRATIONS}
        if applied - known:
            raise SchemaTooNew(
                f"The database has schema versions {sorted(applied - known)} that this "
                "program does not know; use a newer version of the program."
            )
        done: list[int] = []
        for version, description, script in MIGRATIONS:
            if version in applied:
                continue
            for statement in split_statements(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, description, applied_at)"
                " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (version, description),
            )
            done.append(version)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return done


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (trigger bodies stay whole)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"Incomplete SQL statement in migration: {pending.strip()[:80]!r}")
    return statements
