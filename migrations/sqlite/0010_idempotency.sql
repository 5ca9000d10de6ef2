-- Idempotent POSTs (IETF httpapi Idempotency-Key): the first response to a key, replayed to
-- retries of the same request by the same API key until it expires.
CREATE TABLE idempotency_keys (
    key_id      BLOB NOT NULL,
    idem_key    TEXT NOT NULL,
    -- SHA-256 of method, path and body: the same key with another request is refused
    fingerprint TEXT NOT NULL,
    -- NULL while the first request runs
    status      INTEGER,
    headers     TEXT,
    body        TEXT,
    started_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
