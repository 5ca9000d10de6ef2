-- Columns every release has filled, made required: a passage's UTF-16 offsets and a key's
-- person. SQLite cannot add NOT NULL to a column in place, so triggers hold the rule; the
-- partial index that found passages without offsets goes.
DROP INDEX passages_without_utf16;
CREATE TRIGGER passages_utf16_required BEFORE INSERT ON passages
    WHEN NEW.start_utf16 IS NULL OR NEW.end_utf16 IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a passage needs its UTF-16 offsets');
END;
CREATE TRIGGER passages_utf16_kept BEFORE UPDATE OF start_utf16, end_utf16 ON passages
    WHEN NEW.start_utf16 IS NULL OR NEW.end_utf16 IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a passage needs its UTF-16 offsets');
END;
CREATE TRIGGER api_keys_person_required BEFORE INSERT ON api_keys
    WHEN NEW.person_id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a key belongs to a person');
END;
CREATE TRIGGER api_keys_person_kept BEFORE UPDATE OF person_id ON api_keys
    WHEN NEW.person_id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a key belongs to a person');
END;
