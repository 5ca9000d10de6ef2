-- Re-anchoring: where each passage stands in the later versions of its source.

-- Browsers count DOM offsets in UTF-16 code units. Filled in for older rows by
-- `claimtrail migrate` (it needs the version's text).
ALTER TABLE passages ADD COLUMN start_utf16 BIGINT;
ALTER TABLE passages ADD COLUMN end_utf16 BIGINT;

CREATE TABLE placements (
    passage_id  UUID NOT NULL REFERENCES passages (id),
    source_id   UUID NOT NULL,
    version     BIGINT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('placed', 'changed', 'orphaned')),
    -- NULL when orphaned by the search; 'manual' when a person placed it (a confirmation
    -- keeps the method and sets reviewed_by)
    method      TEXT CHECK (method IN ('diff', 'quote', 'fuzzy', 'manual')),
    start_cp    BIGINT,
    end_cp      BIGINT,
    start_utf16 BIGINT,
    end_utf16   BIGINT,
    exact       TEXT,
    -- the text the placement is compared with: the passage's own, or the last one confirmed
    baseline    TEXT NOT NULL,
    score       DOUBLE PRECISION NOT NULL,
    change      JSONB,
    orphan      JSONB,
    reviewed_by TEXT,
    reviewed_at TIMESTAMPTZ,
    note        TEXT,
    placed_at   TIMESTAMPTZ NOT NULL,
    -- on the source's latest version (older placements are history)
    latest      BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (passage_id, version),
    FOREIGN KEY (source_id, version) REFERENCES source_versions (source_id, number),
    CHECK ((state = 'orphaned') = (start_cp IS NULL)),
    CHECK ((start_cp IS NULL) = (exact IS NULL))
);
CREATE INDEX placements_version ON placements (source_id, version);
-- The claims that need attention start from these few rows.
CREATE INDEX placements_attention ON placements (passage_id)
    WHERE latest AND state <> 'placed' AND reviewed_at IS NULL;
-- Lets every start find (usually no) passages still without UTF-16 offsets at once.
CREATE INDEX passages_without_utf16 ON passages (source_id, version) WHERE start_utf16 IS NULL;
CREATE INDEX claim_appearances_passage ON claim_appearances (passage_id);
CREATE INDEX evidence_passage ON evidence (passage_id);
