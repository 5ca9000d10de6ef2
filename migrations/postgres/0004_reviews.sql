-- Reviews of claims, their workflow history and rating scales.

CREATE TABLE rating_scales (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    best_rating  DOUBLE PRECISION NOT NULL,
    worst_rating DOUBLE PRECISION NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE ratings (
    scale_id TEXT NOT NULL REFERENCES rating_scales (id),
    key      TEXT NOT NULL,
    label    TEXT NOT NULL,
    -- NULL for ratings outside the numeric range (e.g. Misleading, Unproven)
    value    DOUBLE PRECISION,
    position INTEGER NOT NULL,
    PRIMARY KEY (scale_id, key)
);

-- The default scale; schema.org ClaimReview takes `value` as ratingValue.
INSERT INTO rating_scales (id, name, best_rating, worst_rating, created_by, created_at)
VALUES ('default', 'True to False', 5, 1, 'migration', '2026-01-01T00:00:00Z');
INSERT INTO ratings (scale_id, key, label, value, position) VALUES
    ('default', 'true', 'True', 5, 1),
    ('default', 'mostly_true', 'Mostly true', 4, 2),
    ('default', 'half_true', 'Half true', 3, 3),
    ('default', 'mostly_false', 'Mostly false', 2, 4),
    ('default', 'false', 'False', 1, 5),
    ('default', 'misleading', 'Misleading', NULL, 6),
    ('default', 'unproven', 'Unproven', NULL, 7);

CREATE TABLE reviews (
    id           UUID PRIMARY KEY,
    claim_id     UUID NOT NULL REFERENCES claims (id),
    author       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'changes_requested', 'approved', 'published', 'retracted', 'superseded')),
    scale_id     TEXT NOT NULL,
    rating       TEXT NOT NULL,
    summary      TEXT NOT NULL,
    evidence_ids JSONB NOT NULL DEFAULT '[]',
    corrects     UUID REFERENCES reviews (id),
    revision     BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ,
    FOREIGN KEY (scale_id, rating) REFERENCES ratings (scale_id, key)
);
CREATE INDEX reviews_claim ON reviews (claim_id);

CREATE TABLE review_events (
    id                 UUID PRIMARY KEY,
    review_id          UUID NOT NULL REFERENCES reviews (id),
    from_state         TEXT,
    to_state           TEXT NOT NULL,
    actor              TEXT NOT NULL,
    note               TEXT,
    second_person_rule BOOLEAN NOT NULL,
    at                 TIMESTAMPTZ NOT NULL
);
CREATE INDEX review_events_review ON review_events (review_id);
