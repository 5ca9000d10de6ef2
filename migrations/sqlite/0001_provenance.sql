-- Provenance core: sources, their immutable versions, passages, claims and evidence.
-- Ids are UUIDv7 stored as 16-byte blobs; times are RFC 3339 text in UTC.

CREATE TABLE sources (
    id             BLOB PRIMARY KEY,
    title          TEXT NOT NULL,
    url            TEXT UNIQUE,
    publisher      TEXT,
    authors        TEXT NOT NULL DEFAULT '[]',
    published_at   TEXT,
    -- where an import found it (e.g. "file:003_x.txt"), so re-imports add no duplicate
    import_key     TEXT UNIQUE,
    latest_version INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE source_versions (
    source_id   BLOB NOT NULL REFERENCES sources (id),
    number      INTEGER NOT NULL CHECK (number >= 1),
    sha256      TEXT NOT NULL,
    length      INTEGER NOT NULL,
    text        TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    PRIMARY KEY (source_id, number)
);
CREATE INDEX source_versions_sha256 ON source_versions (source_id, sha256);

-- A version's text is evidence: it is never changed or removed once stored.
CREATE TRIGGER source_versions_no_update BEFORE UPDATE ON source_versions
BEGIN SELECT RAISE(ABORT, 'source versions are immutable'); END;
CREATE TRIGGER source_versions_no_delete BEFORE DELETE ON source_versions
BEGIN SELECT RAISE(ABORT, 'source versions are immutable'); END;

CREATE TABLE passages (
    id         BLOB PRIMARY KEY,
    source_id  BLOB NOT NULL,
    version    INTEGER NOT NULL,
    start_cp   INTEGER NOT NULL,
    end_cp     INTEGER NOT NULL,
    exact      TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    suffix     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (0 <= start_cp AND start_cp < end_cp),
    UNIQUE (source_id, version, start_cp, end_cp),
    FOREIGN KEY (source_id, version) REFERENCES source_versions (source_id, number)
);

CREATE TABLE claims (
    id         BLOB PRIMARY KEY,
    text       TEXT NOT NULL,
    claimant   TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE claim_appearances (
    claim_id   BLOB NOT NULL REFERENCES claims (id),
    passage_id BLOB NOT NULL REFERENCES passages (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (claim_id, passage_id)
);

CREATE TABLE evidence (
    id         BLOB PRIMARY KEY,
    claim_id   BLOB NOT NULL REFERENCES claims (id),
    passage_id BLOB NOT NULL REFERENCES passages (id),
    stance     TEXT NOT NULL CHECK (stance IN ('supports', 'contradicts', 'context')),
    note       TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (claim_id, passage_id)
);
