"""The :class:`graph.vault.rotation.VaultRows` of an opened graph store."""

from __future__ import annotations

from graph.adapters.sqlite.store import SqliteGraphStore
from graph.adapters.sqlite.vault_rows import SqliteVaultRows
from graph.ports import GraphStore
from graph.resilience.guard import unwrap
from graph.vault.rotation import VaultRows


def vault_rows(store: GraphStore) -> VaultRows:
    """Raw vault rows beside ``store`` (SQLite or Neo4j)."""
    inner = unwrap(store)
    if isinstance(inner, SqliteGraphStore):
        return SqliteVaultRows(inner._db)
    from graph.adapters.neo4j.runner import Neo4jRunner
    from graph.adapters.neo4j.vault_rows import Neo4jVaultRows

    assert isinstance(inner, Neo4jRunner)
    return Neo4jVaultRows.sharing(inner)
