-- People: every key belongs to one; the workflow's second-person rule compares people.
CREATE TABLE people (
    id           BLOB PRIMARY KEY,
    handle       TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
-- NULL only for keys made before people existed, until `App::adopt_keys` gives each its own
-- person (at every start).
ALTER TABLE api_keys ADD COLUMN person_id BLOB REFERENCES people (id);
CREATE INDEX api_keys_person ON api_keys (person_id);
-- The key used for an entry, covered by its hash when present (src/domain/audit.rs).
ALTER TABLE audit_log ADD COLUMN key_id TEXT;
