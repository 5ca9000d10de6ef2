-- Full-text search over sources (title and the text of the latest version) and claims.
-- The index holds the words `domain::search` finds (lowercased, NFC, space-separated), not the
-- raw text: SQLite never tokenizes text itself ('ascii' splits only on those spaces), so it
-- finds exactly what PostgreSQL does. Contentless FTS5 tables (the texts are in
-- source_versions and claims already); a plain table maps each FTS row to its source or claim.
-- Rows stored before this migration are indexed at the next start (`claimtrail migrate`).

CREATE TABLE source_search (
    doc       INTEGER PRIMARY KEY,
    source_id BLOB NOT NULL UNIQUE REFERENCES sources (id),
    -- the version whose text is indexed (the latest)
    version   INTEGER NOT NULL
);
CREATE VIRTUAL TABLE source_search_fts USING fts5 (
    title, body, content = '', contentless_delete = 1, tokenize = 'ascii'
);
-- A word in the title weighs four times one in the body.
INSERT INTO source_search_fts (source_search_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0)');

CREATE TABLE claim_search (
    doc      INTEGER PRIMARY KEY,
    claim_id BLOB NOT NULL UNIQUE REFERENCES claims (id)
);
CREATE VIRTUAL TABLE claim_search_fts USING fts5 (
    text, content = '', contentless_delete = 1, tokenize = 'ascii'
);

-- The source list filtered by publisher (`GET /v1/sources?publisher=`), in id order.
CREATE INDEX sources_publisher ON sources (publisher, id);
