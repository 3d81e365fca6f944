"""Cypher for agents, relations, entities, facts and the index outbox.

Pure builders of ``(query, params)``, following the rules in
:mod:`graph.adapters.neo4j.cypher` (which re-exports them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.neo4j.cypher_base import (
    AGENT,
    ENTITY,
    FACT,
    OUTBOX,
    RELATION,
    RELATION_PATTERNS,
    Statement,
    db_time,
    db_time_opt,
    distinct,
    keyset,
    micros,
    relation_props,
    to_json,
)
from graph.adapters.neo4j.cypher_scope import relation_ends
from graph.model import Agent, Direction, Fact, Relation
from graph.ports import Position

# -- agents -----------------------------------------------------------------------


def create_agent(agent: Agent) -> Statement:
    props = {
        "id": agent.id,
        "tenant": agent.tenant,
        "name": agent.name,
        "description": agent.description,
        "metadata": to_json(agent.metadata),
        "created_at": db_time(agent.created_at),
    }
    return "CREATE (a:Agent:Node) SET a = $agent", {"agent": props}


def get_agents(tenant: str, ids: Sequence[str]) -> Statement:
    query = (
        "UNWIND $ids AS agent_id MATCH (a:Agent {id: agent_id}) WHERE a.tenant = $tenant"
        f" RETURN collect({AGENT}) AS rows"
    )
    return query, {"tenant": tenant, "ids": distinct(ids)}


def list_agents(tenant: str, first: int, after: Position | None) -> Statement:
    params: dict[str, Any] = {"tenant": tenant, "limit": max(first, 0) + 1}
    after_clause = keyset("a", after, params)
    query = (
        f"MATCH (a:Agent) WHERE a.tenant = $tenant AND {after_clause}"
        " WITH a ORDER BY a.tenant DESC, a.created_at DESC, a.id DESC LIMIT $limit"
        f" RETURN collect({AGENT}) AS rows"
    )
    return query, params


# -- relations ----------------------------------------------------------------------


def insert_relations(relations: Sequence[Relation]) -> Statement:
    """``RELATES`` relationships between existing nodes of the relation's
    tenant; returns how many were written (fewer means a missing endpoint)."""
    query = (
        "UNWIND $relations AS rel"
        " MATCH (s:Node {id: rel.source_id}) WHERE s.tenant = rel.props.tenant"
        " MATCH (t:Node {id: rel.target_id}) WHERE t.tenant = rel.props.tenant"
        " CREATE (s)-[r:RELATES]->(t) SET r = rel.props"
        " RETURN count(r) AS written"
    )
    rows = [
        {"source_id": r.source_id, "target_id": r.target_id, "props": relation_props(r)}
        for r in relations
    ]
    return query, {"relations": rows}


def get_relations(tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED) -> Statement:
    params: dict[str, Any] = {"tenant": tenant, "ids": distinct(ids)}
    query = (
        "UNWIND $ids AS relation_id MATCH ()-[r:RELATES {id: relation_id}]->()"
        " WHERE r.tenant = $tenant AND r.deleted_at IS NULL"
        + relation_ends("r", scope, params)
        + f" RETURN collect({RELATION}) AS rows"
    )
    return query, params


def relations_of(
    tenant: str,
    node_ids: Sequence[str],
    direction: Direction,
    types: Sequence[str] | None,
    scope: RowScope = UNSCOPED,
) -> Statement:
    """Live relations touching each node, newest first, leaving out those
    whose other end is a deleted memory and those with an end outside
    ``scope``. A self-loop is listed once."""
    params: dict[str, Any] = {"tenant": tenant, "ids": distinct(node_ids)}
    type_filter = ""
    if types:
        type_filter = " AND r.type IN $types"
        params["types"] = distinct(types)
    type_filter += relation_ends("r", scope, params)
    query = (
        "UNWIND $ids AS node_id MATCH (n:Node {id: node_id}) WHERE n.tenant = $tenant"
        f" MATCH {RELATION_PATTERNS[direction]}"
        " WHERE r.tenant = $tenant AND r.deleted_at IS NULL"
        f" AND o.deleted_at IS NULL{type_filter}"
        " WITH DISTINCT node_id, r ORDER BY r.created_at DESC, r.id DESC"
        f" RETURN collect({{node_id: node_id, relation: {RELATION}}}) AS rows"
    )
    return query, params


def lock_relation(tenant: str, relation_id: str) -> Statement:
    query = (
        "MATCH ()-[r:RELATES {id: $id}]->() WHERE r.tenant = $tenant"
        " SET r._lock = true REMOVE r._lock RETURN r.deleted_at IS NULL AS live"
    )
    return query, {"tenant": tenant, "id": relation_id}


def delete_relation(tenant: str, relation_id: str, at: datetime) -> Statement:
    query = "MATCH ()-[r:RELATES {id: $id}]->() WHERE r.tenant = $tenant SET r.deleted_at = $at"
    return query, {"tenant": tenant, "id": relation_id, "at": db_time(at)}


# -- entities and facts -----------------------------------------------------------


def upsert_entity(
    tenant: str, entity_id: str, name: str, norm_name: str, kind: str, at: datetime
) -> Statement:
    """``MERGE`` on the (tenant, kind, norm_name) uniqueness constraint, which
    also makes concurrent upserts of one name meet on one node."""
    query = (
        "MERGE (e:Entity {tenant: $tenant, kind: $kind, norm_name: $norm_name})"
        " ON CREATE SET e:Node, e.id = $id, e.name = $name, e.aliases = [],"
        " e.created_at = $created_at"
        f" RETURN {ENTITY} AS entity"
    )
    params = {
        "tenant": tenant,
        "kind": kind,
        "norm_name": norm_name,
        "id": entity_id,
        "name": name,
        "created_at": db_time(at),
    }
    return query, params


def find_entities_by_name(tenant: str, norm_name: str) -> Statement:
    query = (
        "MATCH (e:Entity) WHERE e.tenant = $tenant AND e.norm_name = $norm_name"
        f" WITH e ORDER BY e.created_at, e.id RETURN collect({ENTITY}) AS rows"
    )
    return query, {"tenant": tenant, "norm_name": norm_name}


def get_entities(tenant: str, ids: Sequence[str]) -> Statement:
    query = (
        "UNWIND $ids AS entity_id MATCH (e:Entity {id: entity_id}) WHERE e.tenant = $tenant"
        f" RETURN collect({ENTITY}) AS rows"
    )
    return query, {"tenant": tenant, "ids": distinct(ids)}


def close_facts(fact: Fact) -> Statement:
    """Close (``valid_to``) the open facts with the fact's subject and
    predicate at ``coalesce(valid_from, recorded_at)``. The subject node's
    write lock is taken first, so concurrent exclusive facts serialise."""
    query = (
        "OPTIONAL MATCH (s:Node {id: $subject_id}) WHERE s.tenant = $tenant"
        " SET s._lock = true REMOVE s._lock"
        " WITH count(*) AS locked"
        " MATCH (f:Fact) WHERE f.tenant = $tenant AND f.subject_id = $subject_id"
        " AND f.predicate = $predicate AND (f.valid_to IS NULL OR f.valid_to > $cutoff)"
        " SET f.valid_to = $cutoff"
    )
    params = {
        "tenant": fact.tenant,
        "subject_id": fact.subject_id,
        "predicate": fact.predicate,
        "cutoff": db_time(fact.valid_from or fact.recorded_at),
    }
    return query, params


def insert_fact(fact: Fact) -> Statement:
    props = {
        "id": fact.id,
        "tenant": fact.tenant,
        "subject_id": fact.subject_id,
        "predicate": fact.predicate,
        "object_id": fact.object_id,
        "valid_from": db_time_opt(fact.valid_from),
        "valid_to": db_time_opt(fact.valid_to),
        "source_memory_id": fact.source_memory_id,
        "recorded_at": db_time(fact.recorded_at),
    }
    return "CREATE (f:Fact:Node) SET f = $fact", {"fact": props}


def get_facts(tenant: str, ids: Sequence[str]) -> Statement:
    query = (
        "UNWIND $ids AS fact_id MATCH (f:Fact {id: fact_id}) WHERE f.tenant = $tenant"
        f" RETURN collect({FACT}) AS rows"
    )
    return query, {"tenant": tenant, "ids": distinct(ids)}


def facts_for_entities(tenant: str, entity_ids: Sequence[str], as_of: datetime) -> Statement:
    """Facts valid at ``as_of`` per entity, as subject or object (a fact about
    an entity and itself once), oldest recorded first."""
    query = (
        "UNWIND $ids AS entity_id CALL (entity_id) {"
        " MATCH (f:Fact) WHERE f.tenant = $tenant AND f.subject_id = entity_id RETURN f"
        " UNION"
        " MATCH (f:Fact) WHERE f.tenant = $tenant AND f.object_id = entity_id RETURN f"
        " }"
        " WITH entity_id, f WHERE (f.valid_from IS NULL OR f.valid_from <= $as_of)"
        " AND (f.valid_to IS NULL OR f.valid_to > $as_of)"
        " WITH entity_id, f ORDER BY entity_id, f.recorded_at, f.id"
        f" RETURN collect({{entity_id: entity_id, fact: {FACT}}}) AS rows"
    )
    return query, {"tenant": tenant, "ids": distinct(entity_ids), "as_of": db_time(as_of)}


# -- index outbox -------------------------------------------------------------------


def pending_index_work(limit: int) -> Statement:
    query = (
        "MATCH (e:OutboxEntry) WHERE e.seq IS NOT NULL"
        f" WITH e ORDER BY e.seq LIMIT $limit RETURN collect({OUTBOX}) AS rows"
    )
    return query, {"limit": max(limit, 0)}


def ack_index_work(seqs: Sequence[int]) -> Statement:
    query = "UNWIND $seqs AS seq MATCH (e:OutboxEntry {seq: seq}) DELETE e"
    return query, {"seqs": distinct(int(s) for s in seqs)}


def outbox_stats() -> Statement:
    query = (
        "MATCH (e:OutboxEntry) WITH count(e) AS depth, min(e.created_at) AS oldest"
        f" RETURN depth, {micros('oldest')} AS oldest"
    )
    return query, {}
