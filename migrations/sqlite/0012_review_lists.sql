-- Lists of claims show each claim's newest review: its reviews by id, without a sort.
CREATE INDEX reviews_claim_newest ON reviews (claim_id, id);
