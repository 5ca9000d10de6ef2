-- Reading a review looks up the correction that superseded it, and publishing checks the
-- claim's published verdict: without these, both scanned every review (of the claim).
CREATE INDEX reviews_corrects ON reviews (corrects);
DROP INDEX reviews_claim;
CREATE INDEX reviews_claim_state ON reviews (claim_id, state);
