"""The Neo4j adapter: :class:`Neo4jGraphStore` and its schema migrations."""

from graph.adapters.neo4j.store import (
    Neo4jGraphStore,
    Neo4jSettings,
    migrate,
    open_neo4j_store,
    open_store,
)

__all__ = ["Neo4jGraphStore", "Neo4jSettings", "migrate", "open_neo4j_store", "open_store"]
