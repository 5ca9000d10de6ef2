-- Columns every release has filled, made required: a passage's UTF-16 offsets and a key's
-- person. The partial index that found passages without offsets goes.
DROP INDEX passages_without_utf16;
ALTER TABLE passages ALTER COLUMN start_utf16 SET NOT NULL, ALTER COLUMN end_utf16 SET NOT NULL;
ALTER TABLE api_keys ALTER COLUMN person_id SET NOT NULL;
