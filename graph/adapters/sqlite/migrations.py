"""The embedded database schema as an ordered list of migrations.

Each migration is applied once, in order, inside one transaction together
with its row in ``schema_migrations``. Append new migrations at the end;
never edit one that has shipped.
"""

from __future__ import annotations

from typing import Final

_GRAPH: Final = """
CREATE TABLE agents (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    metadata    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX agents_by_tenant_created ON agents (tenant, created_at, id);

CREATE TABLE memories (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    agent_id     TEXT,
    user_id      TEXT,
    session_id   TEXT,
    type         TEXT NOT NULL,
    level        TEXT NOT NULL,
    content      TEXT NOT NULL,
    importance   REAL NOT NULL,
    tags         TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    sensitivity  TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    valid_from   TEXT,
    valid_to     TEXT,
    recorded_at  TEXT NOT NULL,
    expired_at   TEXT,
    deleted_at   TEXT
);
-- Listing indexes carry deleted_at (and the main ones type and level) so that
-- counting and filtering read only the index.
CREATE INDEX memories_by_tenant_created
    ON memories (tenant, created_at, id, deleted_at, type, level);
CREATE INDEX memories_by_tenant_agent
    ON memories (tenant, agent_id, created_at, id, deleted_at, type, level);
CREATE INDEX memories_by_tenant_user ON memories (tenant, user_id, created_at, id, deleted_at);
CREATE INDEX memories_by_tenant_session
    ON memories (tenant, session_id, created_at, id, deleted_at);
CREATE INDEX memories_by_tenant_hash ON memories (tenant, content_hash);

CREATE TABLE memory_versions (
    memory_id    TEXT NOT NULL REFERENCES memories (id),
    version      INTEGER NOT NULL,
    tenant       TEXT NOT NULL,
    content      TEXT NOT NULL,
    importance   REAL NOT NULL,
    tags         TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    level        TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    valid_from   TEXT,
    valid_to     TEXT,
    recorded_at  TEXT NOT NULL,
    expired_at   TEXT,
    PRIMARY KEY (memory_id, version)
) WITHOUT ROWID;

CREATE TABLE memory_tags (
    memory_id TEXT NOT NULL REFERENCES memories (id),
    tag       TEXT NOT NULL,
    tenant    TEXT NOT NULL,
    PRIMARY KEY (memory_id, tag)
) WITHOUT ROWID;
CREATE INDEX memory_tags_by_tag ON memory_tags (tenant, tag, memory_id);

CREATE TABLE entities (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    name       TEXT NOT NULL,
    norm_name  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    summary    TEXT,
    aliases    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant, kind, norm_name)
);
CREATE INDEX entities_by_name ON entities (tenant, norm_name);

CREATE TABLE relations (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    type       TEXT NOT NULL,
    source_id  TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    weight     REAL NOT NULL,
    properties TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    created_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX relations_by_source ON relations (tenant, source_id, created_at);
CREATE INDEX relations_by_target ON relations (tenant, target_id, created_at);

CREATE TABLE facts (
    id               TEXT PRIMARY KEY,
    tenant           TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    predicate        TEXT NOT NULL,
    object_id        TEXT NOT NULL,
    valid_from       TEXT,
    valid_to         TEXT,
    source_memory_id TEXT,
    recorded_at      TEXT NOT NULL
);
CREATE INDEX facts_by_subject ON facts (tenant, subject_id, predicate);
CREATE INDEX facts_by_object ON facts (tenant, object_id);

CREATE TABLE index_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant     TEXT NOT NULL,
    memory_id  TEXT NOT NULL,
    operation  TEXT NOT NULL CHECK (operation IN ('upsert', 'delete')),
    created_at TEXT NOT NULL
);
"""

_SEARCH: Final = """
CREATE TABLE search_docs (
    doc        INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id  TEXT NOT NULL UNIQUE,
    tenant     TEXT NOT NULL,
    agent_id   TEXT,
    user_id    TEXT,
    session_id TEXT,
    type       TEXT NOT NULL,
    level      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    content    TEXT NOT NULL,
    vector     BLOB NOT NULL
);
CREATE INDEX search_docs_by_tenant_agent ON search_docs (tenant, agent_id);
CREATE INDEX search_docs_by_tenant_user ON search_docs (tenant, user_id);
CREATE INDEX search_docs_by_tenant_session ON search_docs (tenant, session_id);
CREATE INDEX search_docs_by_tenant_created ON search_docs (tenant, created_at);

CREATE TABLE search_tags (
    doc    INTEGER NOT NULL REFERENCES search_docs (doc) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    tenant TEXT NOT NULL,
    PRIMARY KEY (doc, tag)
) WITHOUT ROWID;
CREATE INDEX search_tags_by_tag ON search_tags (tenant, tag, doc);

CREATE VIRTUAL TABLE search_fts USING fts5 (
    content,
    content = 'search_docs',
    content_rowid = 'doc',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER search_docs_after_insert AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, content) VALUES (new.doc, new.content);
END;

CREATE TRIGGER search_docs_after_delete AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, content) VALUES ('delete', old.doc, old.content);
END;

CREATE TRIGGER search_docs_after_update AFTER UPDATE OF content ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, content) VALUES ('delete', old.doc, old.content);
    INSERT INTO search_fts (rowid, content) VALUES (new.doc, new.content);
END;
"""

_SEARCH_VERSIONS: Final = """
ALTER TABLE search_docs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
"""

_API_KEYS: Final = """
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    name        TEXT NOT NULL,
    roles       TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    agent_id    TEXT,
    user_id     TEXT,
    secret_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at);
"""

_AUDIT: Final = """
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    at            TEXT NOT NULL,
    at_utc        TEXT NOT NULL,
    targets       TEXT NOT NULL,
    detail        TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant, seq);
CREATE INDEX audit_log_by_action ON audit_log (tenant, action, seq);
CREATE INDEX audit_log_by_time ON audit_log (tenant, at_utc);

-- Each tenant's chain: its last record (head) and the last record retention
-- removed (anchor), which the first kept record must link to.
CREATE TABLE audit_chains (
    tenant      TEXT PRIMARY KEY,
    anchor_seq  INTEGER NOT NULL,
    anchor_hash TEXT NOT NULL,
    head_seq    INTEGER NOT NULL,
    head_hash   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;

CREATE TRIGGER audit_log_no_early_delete BEFORE DELETE ON audit_log
WHEN old.seq > COALESCE((SELECT anchor_seq FROM audit_chains WHERE tenant = old.tenant), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit records are removed only by retention');
END;
"""

MIGRATIONS: Final[tuple[tuple[int, str, str], ...]] = (
    (1, "graph tables", _GRAPH),
    (2, "search index tables", _SEARCH),
    (3, "memory version of each search document", _SEARCH_VERSIONS),
    (4, "API keys (hashes only)", _API_KEYS),
    (5, "hash-chained audit log", _AUDIT),
)
"""(version, description, SQL script), in the order they apply."""
