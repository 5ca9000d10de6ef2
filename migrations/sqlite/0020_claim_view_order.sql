-- The claim view reads a claim's appearances by position and its evidence in id order. With
-- these indexes each read comes in order, where before every view sorted both (issue 17:
-- SQLite opened a sorter per read).
CREATE INDEX claim_appearances_order ON claim_appearances (claim_id, position);
CREATE INDEX evidence_claim ON evidence (claim_id, id);
