"""Backup export and restore import of the SQLite graph store.

The export reads every table inside one read transaction, so it is one
point in time even while the server keeps writing (WAL). The import upserts
by primary key, so applying a full backup and then its incrementals in order
converges on the last snapshot.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, Final

from graph.adapters.sqlite.codec import json_list, to_db_time, to_json
from graph.adapters.sqlite.database import SqliteDatabase
from graph.backup import records as rec
from graph.errors import Conflict
from graph.model import utcnow

_TABLES: Final = {
    rec.AGENT: "agents",
    rec.ENTITY: "entities",
    rec.MEMORY: "memories",
    rec.FACT: "facts",
    rec.RELATION: "relations",
}
_JSON_COLUMNS: Final = frozenset({"metadata", "properties", "tags", "aliases"})
_ORDER: Final = {
    rec.MEMORY: "id",
    rec.FACT: "tenant, subject_id, predicate, recorded_at, id",
}
_SCOPE: Final = "(:all_tenants OR tenant IN (SELECT value FROM json_each(:tenants)))"


def _upsert(table: str, columns: Sequence[str], key: str) -> str:
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key.split(", "))
    return (
        f"INSERT INTO {table} ({names}) VALUES ({values})"
        f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


_UPSERT: Final = {kind: _upsert(table, rec.FIELDS[kind], "id") for kind, table in _TABLES.items()}
_UPSERT_VERSION: Final = _upsert("memory_versions", rec.VERSION_FIELDS, "memory_id, version")


def _record(row: sqlite3.Row, fields: Sequence[str]) -> rec.Record:
    return {f: json.loads(row[f]) if f in _JSON_COLUMNS else row[f] for f in fields}


def _params(record: rec.Record, fields: Sequence[str]) -> dict[str, Any]:
    return {f: to_json(record[f]) if f in _JSON_COLUMNS else record[f] for f in fields}


class ArchiveStoreMixin:
    """Export/import for :class:`graph.adapters.sqlite.store.SqliteGraphStore`."""

    _db: SqliteDatabase

    async def export_graph(self, tenants: Sequence[str] | None, sink: rec.ExportSink) -> None:
        """Every record of ``tenants`` (all when ``None``) to ``sink``, from one
        read transaction; facts grouped by (tenant, subject, predicate)."""
        scope = {"all_tenants": tenants is None, "tenants": json_list(tenants or ())}

        def run(conn: sqlite3.Connection) -> None:
            for kind, table in _TABLES.items():
                order = _ORDER.get(kind, "tenant, created_at, id")
                rows = conn.execute(f"SELECT * FROM {table} WHERE {_SCOPE} ORDER BY {order}", scope)
                if kind == rec.MEMORY:
                    for record in _with_versions(conn, rows, scope):
                        sink(kind, record)
                    continue
                for row in rows:
                    sink(kind, _record(row, rec.FIELDS[kind]))

        await self._db.read(run)

    async def import_records(self, kind: str, records: Sequence[rec.Record]) -> None:
        """Upsert one batch of records of one kind in one transaction. Memories
        bring their versions and tags and queue their (re)indexing."""
        if not records:
            return
        rows = [_params(r, rec.FIELDS[kind]) for r in records]

        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(_UPSERT[kind], rows)
            if kind != rec.MEMORY:
                return
            conn.executemany(
                _UPSERT_VERSION,
                [_params(v, rec.VERSION_FIELDS) for r in records for v in r["versions"]],
            )
            ids = json_list(r["id"] for r in records)
            conn.execute(
                "DELETE FROM memory_tags WHERE memory_id IN (SELECT value FROM json_each(?))",
                (ids,),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO memory_tags (memory_id, tag, tenant) VALUES (?, ?, ?)",
                [(r["id"], tag, r["tenant"]) for r in records for tag in r["tags"]],
            )
            now = to_db_time(utcnow())
            conn.executemany(
                "INSERT INTO index_outbox (tenant, memory_id, operation, created_at)"
                " VALUES (?, ?, ?, ?)",
                [
                    (r["tenant"], r["id"], "upsert" if r["deleted_at"] is None else "delete", now)
                    for r in records
                ],
            )

        try:
            await self._db.write(run)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"A restored {kind} clashes with a stored one.") from exc

    async def is_empty(self) -> bool:
        """True when no tenant has any agent, memory, entity, fact or relation."""
        sql = "SELECT " + " + ".join(f"EXISTS (SELECT 1 FROM {t})" for t in _TABLES.values())
        sql += " AS n"
        row = await self._db.read(lambda conn: conn.execute(sql).fetchone())
        return int(row["n"]) == 0


def _with_versions(
    conn: sqlite3.Connection, memories: sqlite3.Cursor, scope: dict[str, Any]
) -> Iterator[rec.Record]:
    """Memory records with their versions nested: a merge of two id-ordered cursors."""
    versions = conn.execute(
        f"SELECT * FROM memory_versions WHERE {_SCOPE} ORDER BY memory_id, version", scope
    )
    pending = versions.fetchone()
    for row in memories:
        record = _record(row, rec.FIELDS[rec.MEMORY])
        nested: list[rec.Record] = []
        while pending is not None and pending["memory_id"] <= row["id"]:
            if pending["memory_id"] == row["id"]:
                nested.append(_record(pending, rec.VERSION_FIELDS))
            pending = versions.fetchone()
        record["versions"] = nested
        yield record
