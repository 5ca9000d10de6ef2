-- The desk's daily path (issue 19): a passage keeps the quote as the person pasted it (with
-- its ellipses and quote marks); `exact` stays the source's own text. NULL for passages
-- selected by positions and for passages stored before this migration.
ALTER TABLE passages ADD COLUMN pasted TEXT;

-- Search words are now stemmed (English Snowball) and unaccented (`domain::search::words`):
-- the index is emptied here and `App::backfill_search` indexes every source and claim again
-- at the next start (`claimtrail migrate` or `serve`), with the words of the new rule.
DELETE FROM source_search;
DELETE FROM claim_search;
