-- Reviews gain the `withdrawn` state (a draft given up before publication, with a note).
-- SQLite keeps the state list in a CHECK constraint, so `reviews` is rebuilt. Foreign keys are
-- on and this runs inside a transaction, so `review_events`, the only table that refers to
-- reviews, is rebuilt with it: both new tables refer to `reviews_new`, which the final rename
-- turns into `reviews`. Nothing refers to the old tables when they are dropped.
CREATE TABLE reviews_new (
    id                BLOB PRIMARY KEY,
    claim_id          BLOB NOT NULL REFERENCES claims (id),
    author            TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'changes_requested', 'approved', 'published', 'retracted', 'superseded', 'withdrawn')),
    scale_id          TEXT NOT NULL,
    rating            TEXT NOT NULL,
    summary           TEXT NOT NULL,
    evidence_ids      TEXT NOT NULL DEFAULT '[]',
    corrects          BLOB REFERENCES reviews_new (id),
    revision          INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    published_at      TEXT,
    published_url     TEXT,
    published_url_key TEXT,
    FOREIGN KEY (scale_id, rating) REFERENCES ratings (scale_id, key)
);
INSERT INTO reviews_new (id, claim_id, author, state, scale_id, rating, summary, evidence_ids,
                         corrects, revision, created_at, updated_at, published_at, published_url,
                         published_url_key)
SELECT id, claim_id, author, state, scale_id, rating, summary, evidence_ids, corrects, revision,
       created_at, updated_at, published_at, published_url, published_url_key
FROM reviews ORDER BY id;

CREATE TABLE review_events_new (
    id                 BLOB PRIMARY KEY,
    review_id          BLOB NOT NULL REFERENCES reviews_new (id),
    from_state         TEXT,
    to_state           TEXT NOT NULL,
    actor              TEXT NOT NULL,
    note               TEXT,
    second_person_rule INTEGER NOT NULL,
    at                 TEXT NOT NULL
);
INSERT INTO review_events_new (id, review_id, from_state, to_state, actor, note,
                               second_person_rule, at)
SELECT id, review_id, from_state, to_state, actor, note, second_person_rule, at
FROM review_events ORDER BY id;

DROP TABLE review_events;
DROP TABLE reviews;
ALTER TABLE reviews_new RENAME TO reviews;
ALTER TABLE review_events_new RENAME TO review_events;

CREATE INDEX review_events_review ON review_events (review_id);
CREATE INDEX reviews_corrects ON reviews (corrects);
CREATE INDEX reviews_claim_state ON reviews (claim_id, state);
CREATE INDEX reviews_published_url ON reviews (published_url_key) WHERE published_url_key IS NOT NULL;
CREATE INDEX reviews_claim_newest ON reviews (claim_id, id);
