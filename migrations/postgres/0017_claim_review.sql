-- Each claim names its current review (the published one, else the newest not ended), kept
-- by every review write (`store::reviews::refresh_current`), so that the claim list joins one
-- row per claim instead of searching each claim's reviews.
ALTER TABLE claims ADD COLUMN review_id UUID;
UPDATE claims SET review_id = COALESCE(
    (SELECT r2.id FROM reviews r2 WHERE r2.claim_id = claims.id AND r2.state = 'published' LIMIT 1),
    (SELECT r3.id FROM reviews r3 WHERE r3.claim_id = claims.id
     AND r3.state NOT IN ('superseded', 'retracted', 'withdrawn') ORDER BY r3.id DESC LIMIT 1));
