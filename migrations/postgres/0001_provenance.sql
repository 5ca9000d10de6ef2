-- Provenance core: sources, their immutable versions, passages, claims and evidence.

CREATE TABLE sources (
    id             UUID PRIMARY KEY,
    title          TEXT NOT NULL,
    url            TEXT UNIQUE,
    publisher      TEXT,
    authors        JSONB NOT NULL DEFAULT '[]',
    published_at   TEXT,
    -- where an import found it (e.g. "file:003_x.txt"), so re-imports add no duplicate
    import_key     TEXT UNIQUE,
    latest_version BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE source_versions (
    source_id   UUID NOT NULL REFERENCES sources (id),
    number      BIGINT NOT NULL CHECK (number >= 1),
    sha256      TEXT NOT NULL,
    length      BIGINT NOT NULL,
    text        TEXT NOT NULL,
    captured_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source_id, number)
);
CREATE INDEX source_versions_sha256 ON source_versions (source_id, sha256);

-- A version's text is evidence: it is never changed or removed once stored.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER source_versions_immutable BEFORE UPDATE OR DELETE ON source_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE passages (
    id         UUID PRIMARY KEY,
    source_id  UUID NOT NULL,
    version    BIGINT NOT NULL,
    start_cp   BIGINT NOT NULL,
    end_cp     BIGINT NOT NULL,
    exact      TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    suffix     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK (0 <= start_cp AND start_cp < end_cp),
    UNIQUE (source_id, version, start_cp, end_cp),
    FOREIGN KEY (source_id, version) REFERENCES source_versions (source_id, number)
);

CREATE TABLE claims (
    id         UUID PRIMARY KEY,
    text       TEXT NOT NULL,
    claimant   TEXT,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE claim_appearances (
    claim_id   UUID NOT NULL REFERENCES claims (id),
    passage_id UUID NOT NULL REFERENCES passages (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (claim_id, passage_id)
);

CREATE TABLE evidence (
    id         UUID PRIMARY KEY,
    claim_id   UUID NOT NULL REFERENCES claims (id),
    passage_id UUID NOT NULL REFERENCES passages (id),
    stance     TEXT NOT NULL CHECK (stance IN ('supports', 'contradicts', 'context')),
    note       TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (claim_id, passage_id)
);
