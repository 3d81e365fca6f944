"""Cypher for erasure (right to be forgotten): hard deletes, built as pure
``(query, params)`` functions under the rules of :mod:`graph.adapters.neo4j.cypher`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graph.access.scope import RowScope
from graph.adapters.neo4j.cypher_base import OUTBOX_APPEND, Statement, distinct, outbox_params
from graph.adapters.neo4j.cypher_scope import memory_where


def user_memory_ids(tenant: str, user_id: str, scope: RowScope) -> Statement:
    """Ids of every memory (live or deleted) of a user inside ``scope``."""
    params: dict[str, Any] = {"tenant": tenant, "user_id": user_id}
    query = (
        "MATCH (m:Memory) WHERE m.tenant = $tenant AND m.user_id = $user_id"
        + memory_where("m", scope, params)
        + " RETURN collect(m.id) AS rows"
    )
    return query, params


def facts_sourced_from(tenant: str, memory_ids: Sequence[str]) -> Statement:
    query = (
        "MATCH (f:Fact) WHERE f.tenant = $tenant AND f.source_memory_id IN $ids"
        " RETURN collect(f.id) AS rows"
    )
    return query, {"tenant": tenant, "ids": distinct(memory_ids)}


def facts_about(tenant: str, entity_id: str) -> Statement:
    query = (
        "MATCH (f:Fact) WHERE f.tenant = $tenant AND (f.subject_id = $id OR f.object_id = $id)"
        " RETURN collect(f.id) AS rows"
    )
    return query, {"tenant": tenant, "id": entity_id}


def entity_exists(tenant: str, entity_id: str) -> Statement:
    query = "MATCH (e:Entity {id: $id}) WHERE e.tenant = $tenant RETURN collect(e.id) AS rows"
    return query, {"tenant": tenant, "id": entity_id}


def delete_relations_of(tenant: str, node_ids: Sequence[str]) -> Statement:
    """Every ``RELATES`` relationship (live or soft-deleted) touching the nodes."""
    query = (
        "UNWIND $ids AS node_id MATCH (n:Node {id: node_id})-[r:RELATES]-()"
        " WHERE n.tenant = $tenant WITH DISTINCT r DELETE r RETURN count(*) AS n"
    )
    return query, {"tenant": tenant, "ids": distinct(node_ids)}


def delete_versions(tenant: str, memory_ids: Sequence[str]) -> Statement:
    query = (
        "UNWIND $ids AS memory_id"
        " MATCH (m:Memory {id: memory_id})-[:HAS_VERSION]->(v:MemoryVersion)"
        " WHERE m.tenant = $tenant DETACH DELETE v RETURN count(*) AS n"
    )
    return query, {"tenant": tenant, "ids": distinct(memory_ids)}


def delete_nodes(tenant: str, node_ids: Sequence[str]) -> Statement:
    """Memories, facts or entities (all ``:Node``) with whatever still touches them."""
    query = (
        "UNWIND $ids AS node_id MATCH (n:Node {id: node_id}) WHERE n.tenant = $tenant"
        " DETACH DELETE n RETURN count(*) AS n"
    )
    return query, {"tenant": tenant, "ids": distinct(node_ids)}


def replace_index_work(tenant: str, memory_ids: Sequence[str], at: datetime) -> Statement:
    """Drop pending outbox entries of the memories and append one ``delete`` each."""
    ids = distinct(memory_ids)
    query = (
        "OPTIONAL MATCH (e:OutboxEntry) WHERE e.tenant = $tenant AND e.memory_id IN $ids"
        f" DELETE e WITH count(*) AS removed {OUTBOX_APPEND} RETURN removed"
    )
    entries = [(tenant, memory_id, "delete") for memory_id in ids]
    return query, {"tenant": tenant, "ids": ids, **outbox_params(entries, at)}
