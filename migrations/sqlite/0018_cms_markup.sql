-- CMS markup (issue 16): the lookup-form rule whose keys are stored, who a claimant is, and
-- which source titles an import made up.

-- The fingerprint of the URL rule (`domain::urls::UrlRule::fingerprint`: rule revision and
-- the extra tracking parameters) that `source_urls.url_key` and `reviews.published_url_key`
-- were computed with. At every start (`App::recompute_url_keys`) a different fingerprint
-- recomputes every stored key in one write, then is recorded here. One row at most.
CREATE TABLE url_rule (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint   TEXT NOT NULL,
    recomputed_at TEXT NOT NULL
);

-- A claimant is a person or an organization (ClaimReview types the claim's author with it).
ALTER TABLE claims ADD COLUMN claimant_kind TEXT NOT NULL DEFAULT 'person'
    CHECK (claimant_kind IN ('person', 'organization'));

-- 1 when an import made the title up from the text's first sentence (the manifest had none):
-- ClaimReview then leaves an appearance's `headline` out. A title a person sets clears it.
ALTER TABLE sources ADD COLUMN title_derived INTEGER NOT NULL DEFAULT 0
    CHECK (title_derived IN (0, 1));
