"""Backup export and restore import of the Neo4j graph store.

Neo4j (Community) reads at read-committed isolation: one read transaction
is not a snapshot. The export therefore runs in one read transaction and the
backup service cuts every record off at the backup's instant by the time
axes the records carry (see :mod:`graph.backup.cutoff`), which gives a
point-in-time view of everything time-stamped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import neo4j

from graph.adapters.neo4j import cypher_archive
from graph.adapters.neo4j.records import from_db_time_opt
from graph.adapters.neo4j.runner import (
    UNAVAILABLE_ERRORS,
    UNAVAILABLE_MESSAGE,
    Neo4jRunner,
    run_records,
)
from graph.backup import records as rec
from graph.errors import NotFound, Unavailable
from graph.model import utcnow

_JSON_FIELDS = frozenset({"metadata", "properties"})


def _to_record(values: dict[str, Any], fields: Sequence[str]) -> rec.Record:
    out: rec.Record = {}
    for name in fields:
        value = values.get(name)
        if name in rec.TIME_FIELDS:
            value = rec.time_text_opt(from_db_time_opt(value))
        elif name in _JSON_FIELDS:
            value = None if value is None else json.loads(value)
        elif name in ("tags", "aliases"):
            value = list(value or ())
        out[name] = value
    return out


def _to_props(record: rec.Record, fields: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = record[name]
        if name in rec.TIME_FIELDS:
            value = rec.parse_time_opt(value)
        elif name in _JSON_FIELDS:
            value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        out[name] = value
    return out


def _import_row(kind: str, record: rec.Record) -> dict[str, Any]:
    if kind == rec.MEMORY:
        return {
            "memory": _to_props(record, rec.FIELDS[kind]),
            "versions": [_to_props(v, rec.VERSION_FIELDS) for v in record["versions"]],
        }
    props = _to_props(record, rec.FIELDS[kind])
    if kind == rec.RELATION:
        source, target = props.pop("source_id"), props.pop("target_id")
        return {"source_id": source, "target_id": target, "props": props}
    return props


class ArchiveStoreMixin(Neo4jRunner):
    """Export/import for :class:`graph.adapters.neo4j.store.Neo4jGraphStore`."""

    async def export_graph(self, tenants: Sequence[str] | None, sink: rec.ExportSink) -> None:
        """Every record of ``tenants`` (all when ``None``) to ``sink``, streamed
        from one read transaction; facts grouped by (tenant, subject, predicate)."""
        try:
            async with self._driver.session(
                database=self._database, default_access_mode=neo4j.READ_ACCESS
            ) as session:
                tx = await session.begin_transaction()
                try:
                    for kind in rec.KINDS:
                        query, params = cypher_archive.export(kind, tenants)
                        result = await tx.run(query, params)
                        async for row in result:
                            record = _to_record(row["record"], rec.FIELDS[kind])
                            if kind == rec.MEMORY:
                                record["versions"] = [
                                    _to_record(v, rec.VERSION_FIELDS) for v in row["versions"]
                                ]
                            sink(kind, record)
                finally:
                    await tx.close()
        except UNAVAILABLE_ERRORS as exc:
            raise Unavailable(UNAVAILABLE_MESSAGE) from exc

    async def import_records(self, kind: str, records: Sequence[rec.Record]) -> None:
        """Upsert one batch of records of one kind in one transaction; a
        relation whose endpoint is missing raises ``NotFound``, writing nothing."""
        if not records:
            return
        rows = [_import_row(kind, r) for r in records]
        statement = cypher_archive.import_batch(kind, rows, utcnow())

        async def work(tx: neo4j.AsyncManagedTransaction) -> None:
            result = await run_records(tx, statement)
            if kind == rec.RELATION and int(result[0]["written"]) != len(rows):
                raise NotFound("A restored relation's source or target is missing.")

        await self._transact(True, work, f"A restored {kind} clashes with a stored one.")

    async def is_empty(self) -> bool:
        """True when no tenant has any agent, memory, entity or fact (and so
        no relation, which always joins two of them)."""

        async def work(tx: neo4j.AsyncManagedTransaction) -> bool:
            [row] = await run_records(tx, cypher_archive.is_empty())
            return bool(row["empty"])

        return await self._transact(False, work)
