"""Fuzzing the HTTP API with operations generated from the live schema
(hypothesis-graphql): valid queries and mutations, and operations with one
schema violation each. Whatever comes in, the server answers without a 5xx
or an INTERNAL error, every error carries a code, and an operation it
rejects changes no stored row.

Runs against the real app in process (Starlette TestClient, lifespan and
all) on the embedded store, whose every table is counted before and after
each operation. Derandomized with a fixed example count, so CI runs the same
operations every time in well under a minute.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from starlette.testclient import TestClient

from graph.adapters.sets import DATABASE_FILE
from graphql_api.app import create_app
from graphql_api.settings import Settings
from schema.build import build_schema

SCHEMA = build_schema()._schema

SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "DateTime": st.one_of(
        st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
        ).map(lambda d: nodes.String(d.isoformat())),
        st.text(max_size=30).map(nodes.String),
    ),
    "JSON": st.one_of(
        st.text(max_size=30).map(nodes.String),
        st.integers().map(nodes.Int),
        st.booleans().map(nodes.Boolean),
    ),
}

WRITES = tuple(SCHEMA.mutation_type.fields) if SCHEMA.mutation_type else ()
"""Every mutation, in a run of its own so that writes are well represented."""

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def table_counts(database: Path) -> dict[str, int]:
    """Rows in every table of the embedded store (a snapshot of its data)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                # a refused mutation is recorded in the audit trail by design
                " AND name NOT IN ('audit_log', 'audit_chains')"
            )
        ]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def rejected(document: str, body: dict[str, Any]) -> bool:
    """Nothing of the operation was carried out: it was refused before it ran
    (errors without a path), or every root field failed. (A mutation whose
    first field succeeded and second failed rightly keeps the first's change.)"""
    errors = body.get("errors") or []
    if not errors:
        return False
    if all(not e.get("path") for e in errors):
        return True
    failed = {e["path"][0] for e in errors if e.get("path")}
    return root_keys(document) <= failed


def root_keys(document: str) -> set[str]:
    """Response keys of the operation's root fields (generated documents use no fragments)."""
    operation = graphql.parse(document).definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    return {
        (s.alias or s.name).value
        for s in operation.selection_set.selections
        if isinstance(s, graphql.FieldNode)
    }


def check(client: TestClient, database: Path, document: str) -> None:
    before = table_counts(database)
    response = client.post(
        "/graphql",
        json={"query": document},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code < 500, (document, response.text)
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert None not in codes, (document, body)
    assert "INTERNAL" not in codes, (document, body)
    if rejected(document, body):
        assert table_counts(database) == before, (document, body)


def test_generated_operations_never_break_the_server(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))
    database = tmp_path / "data" / DATABASE_FILE
    with TestClient(app) as client:
        key = (tmp_path / "data" / "bootstrap-admin.key").read_text().strip()
        client.headers["authorization"] = f"Bearer {key}"
        seed = 'mutation { addMemory(input: {content: "Ada likes tea", tags: ["t"]}) { id } }'
        assert client.post("/graphql", json={"query": seed}).status_code == 200

        @FUZZ
        @given(document=from_schema(SCHEMA, custom_scalars=SCALARS))
        def valid(document: str) -> None:
            check(client, database, document)

        @FUZZ
        @given(document=from_schema(SCHEMA, fields=WRITES, custom_scalars=SCALARS))
        def writes(document: str) -> None:
            check(client, database, document)

        @FUZZ
        @given(document=from_schema(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
        def invalid(document: str) -> None:
            check(client, database, document)

        valid()
        writes()
        invalid()
