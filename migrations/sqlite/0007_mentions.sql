-- Numeric mentions of each version (the statistics an auditor traces), extracted when the
-- version is stored.

CREATE TABLE mentions (
    source_id   BLOB NOT NULL,
    version     INTEGER NOT NULL,
    ordinal     INTEGER NOT NULL,
    start_cp    INTEGER NOT NULL,
    end_cp      INTEGER NOT NULL,
    start_utf16 INTEGER NOT NULL,
    end_utf16   INTEGER NOT NULL,
    exact       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    -- 'count', 'percent', 'percentage_points' or 'currency:<code>'
    unit        TEXT NOT NULL,
    -- exact values as text ("4000000000", "0.1", "2/3"); the keys sort as the values do
    value       TEXT NOT NULL,
    high        TEXT,
    value_key   TEXT NOT NULL,
    -- the unit again, only on ranges: their index serves no other query
    range_unit  TEXT,
    high_key    TEXT,
    scale       TEXT,
    qualifier   TEXT NOT NULL,
    of_text     TEXT,
    attribution TEXT,
    -- context for the trace, so that it reads no version text
    prefix      TEXT NOT NULL,
    suffix      TEXT NOT NULL,
    sentence    TEXT NOT NULL,
    -- the version's capture time: the trace orders by it without reading version rows
    captured_at TEXT NOT NULL,
    PRIMARY KEY (source_id, version, ordinal),
    FOREIGN KEY (source_id, version) REFERENCES source_versions (source_id, number)
);
-- The trace: quantities of one unit by value, and ranges by their low end.
CREATE INDEX mentions_value ON mentions (unit, value_key) WHERE kind = 'quantity';
CREATE INDEX mentions_approximate ON mentions (unit, value_key)
    WHERE kind = 'quantity' AND qualifier = 'approximate';
CREATE INDEX mentions_range ON mentions (range_unit, value_key) WHERE range_unit IS NOT NULL;

-- Which versions have had their mentions extracted, and by which extractor revision, so that
-- a version with no figure is not extracted again at every start.
CREATE TABLE mention_extractions (
    source_id BLOB NOT NULL,
    version   INTEGER NOT NULL,
    extractor INTEGER NOT NULL,
    PRIMARY KEY (source_id, version),
    FOREIGN KEY (source_id, version) REFERENCES source_versions (source_id, number)
);
