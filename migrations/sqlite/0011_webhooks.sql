-- Webhooks (Standard Webhooks): endpoints, what each subscribes to, and the outbox of
-- deliveries with every attempt. Deliveries are written in the same transaction as the change
-- they announce.

CREATE TABLE webhook_endpoints (
    id               BLOB PRIMARY KEY,
    url              TEXT NOT NULL,
    description      TEXT,
    -- whsec_ + base64 of the signing key; the previous one stays valid until old_secret_until
    secret           TEXT NOT NULL,
    old_secret       TEXT,
    old_secret_until TEXT,
    disabled_at      TEXT,
    disabled_reason  TEXT,
    deleted_at       TEXT,
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

CREATE TABLE webhook_subscriptions (
    endpoint_id BLOB NOT NULL REFERENCES webhook_endpoints (id),
    event       TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, event)
);
CREATE INDEX webhook_subscriptions_event ON webhook_subscriptions (event);

CREATE TABLE webhook_deliveries (
    endpoint_id     BLOB NOT NULL REFERENCES webhook_endpoints (id),
    -- webhook-id: the same for every attempt
    message_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    -- the exact body sent (signed as it is)
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT,
    lease_until     TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    endpoint_id BLOB NOT NULL,
    message_id  TEXT NOT NULL,
    number      INTEGER NOT NULL,
    at          TEXT NOT NULL,
    status      INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT,
    PRIMARY KEY (endpoint_id, message_id, number),
    FOREIGN KEY (endpoint_id, message_id) REFERENCES webhook_deliveries (endpoint_id, message_id)
);
