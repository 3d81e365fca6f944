"""Cypher for backup export and restore import (pure builders, see
:mod:`graph.adapters.neo4j.cypher` for the rules they follow).

Exports stream one record per row instead of collecting into one list, so a
large graph never has to fit into one result value. Imports ``MERGE`` by id,
so replaying a batch (or an incremental backup over its parent) converges.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from graph.adapters.neo4j.cypher_base import (
    CURRENT_MEMORY,
    FACT,
    OUTBOX_APPEND,
    Statement,
    outbox_params,
    project,
)
from graph.backup import records as rec

_SCOPE: Final = "($all_tenants OR {alias}.tenant IN $tenants)"

EXPORT_AGENT: Final = project("a", "id tenant name description metadata", "created_at")
EXPORT_ENTITY: Final = project("e", "id tenant name norm_name kind summary aliases", "created_at")
EXPORT_VERSION: Final = project(
    "v",
    "memory_id tenant version content importance tags metadata level content_hash",
    "valid_from valid_to recorded_at expired_at",
)
EXPORT_RELATION: Final = project(
    "r",
    "id tenant type weight properties",
    "valid_from valid_to created_at deleted_at",
    ", source_id: startNode(r).id, target_id: endNode(r).id",
)

_EXPORTS: Final = {
    rec.AGENT: (
        f"MATCH (a:Agent) WHERE {_SCOPE.format(alias='a')}"
        f" RETURN {EXPORT_AGENT} AS record ORDER BY a.tenant, a.created_at, a.id"
    ),
    rec.ENTITY: (
        f"MATCH (e:Entity) WHERE {_SCOPE.format(alias='e')}"
        f" RETURN {EXPORT_ENTITY} AS record ORDER BY e.tenant, e.created_at, e.id"
    ),
    rec.MEMORY: (
        f"MATCH (m:Memory) WHERE {_SCOPE.format(alias='m')}"
        " CALL (m) { MATCH (m)-[:HAS_VERSION]->(v:MemoryVersion)"
        f" WITH v ORDER BY v.version RETURN collect({EXPORT_VERSION}) AS versions }}"
        f" RETURN {CURRENT_MEMORY} AS record, versions"
    ),
    rec.FACT: (
        f"MATCH (f:Fact) WHERE {_SCOPE.format(alias='f')}"
        f" RETURN {FACT} AS record"
        " ORDER BY f.tenant, f.subject_id, f.predicate, f.recorded_at, f.id"
    ),
    rec.RELATION: (
        f"MATCH ()-[r:RELATES]->() WHERE {_SCOPE.format(alias='r')}"
        f" RETURN {EXPORT_RELATION} AS record ORDER BY r.tenant, r.created_at, r.id"
    ),
}


def export(kind: str, tenants: Sequence[str] | None) -> Statement:
    """Every record of one kind, one row each (``record``; memories also
    ``versions``); facts grouped by (tenant, subject, predicate)."""
    return _EXPORTS[kind], {"all_tenants": tenants is None, "tenants": list(tenants or ())}


_MERGE_NODE: Final = "UNWIND $rows AS row MERGE (n:{label} {{id: row.id}}) SET n:Node, n = row"

_IMPORTS: Final = {
    rec.AGENT: _MERGE_NODE.format(label="Agent"),
    rec.ENTITY: _MERGE_NODE.format(label="Entity"),
    rec.FACT: _MERGE_NODE.format(label="Fact"),
    rec.MEMORY: (
        "UNWIND $rows AS row MERGE (m:Memory {id: row.memory.id}) SET m:Node, m = row.memory"
        " WITH m, row UNWIND row.versions AS version"
        " MERGE (m)-[:HAS_VERSION]->"
        "(v:MemoryVersion {memory_id: version.memory_id, version: version.version})"
        f" SET v = version WITH count(*) AS written {OUTBOX_APPEND} RETURN written"
    ),
    rec.RELATION: (
        "UNWIND $rows AS rel"
        " MATCH (s:Node {id: rel.source_id}) WHERE s.tenant = rel.props.tenant"
        " MATCH (t:Node {id: rel.target_id}) WHERE t.tenant = rel.props.tenant"
        " MERGE (s)-[r:RELATES {id: rel.props.id}]->(t) SET r = rel.props"
        " RETURN count(r) AS written"
    ),
}


def import_batch(kind: str, rows: list[dict[str, Any]], at: datetime) -> Statement:
    """Upsert one batch of rows (already in property form) of one kind.
    Memory rows are ``{memory, versions}`` and queue (re)indexing; relation
    rows are ``{source_id, target_id, props}`` and return how many were written."""
    params: dict[str, Any] = {"rows": rows}
    if kind == rec.MEMORY:
        entries = [
            (
                row["memory"]["tenant"],
                row["memory"]["id"],
                "upsert" if row["memory"].get("deleted_at") is None else "delete",
            )
            for row in rows
        ]
        params.update(outbox_params(entries, at))
    return _IMPORTS[kind], params


def is_empty() -> Statement:
    return "OPTIONAL MATCH (n:Node) WITH n LIMIT 1 RETURN n IS NULL AS empty", {}
