//! Webhook endpoints and the outbox of their deliveries.

use time::OffsetDateTime;
use uuid::Uuid;

use super::Result;
use super::exec::{Cols, FromRow, Tx, stmt};

mod sql {
    pub const INSERT_ENDPOINT: &str = "INSERT INTO webhook_endpoints (id, url, description, secret, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const INSERT_SUBSCRIPTION: &str =
        "INSERT INTO webhook_subscriptions (endpoint_id, event) VALUES ($1, $2)";
    macro_rules! endpoint_select {
        () => {
            "SELECT e.id, e.url, e.description, e.secret, e.old_secret, e.old_secret_until, \
             e.disabled_at, e.disabled_reason, e.created_at, \
             (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending') \
             FROM webhook_endpoints e WHERE e.deleted_at IS NULL"
        };
    }
    pub const ENDPOINT: &str = concat!(endpoint_select!(), " AND e.id = $1");
    pub const ENDPOINTS: &str = concat!(endpoint_select!(), " ORDER BY e.id");
    pub const SUBSCRIPTIONS: &str =
        "SELECT event FROM webhook_subscriptions WHERE endpoint_id = $1 ORDER BY event";
    pub const DELETE: &str =
        "UPDATE webhook_endpoints SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL";
    pub const CANCEL_PENDING: &str = "UPDATE webhook_deliveries SET state = 'cancelled', next_attempt_at = NULL, lease_until = NULL \
         WHERE endpoint_id = $1 AND state = 'pending'";
    pub const ROTATE: &str = "UPDATE webhook_endpoints SET old_secret = secret, old_secret_until = $3, secret = $2 \
         WHERE id = $1 AND deleted_at IS NULL";
    pub const ENABLE: &str = "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL \
         WHERE id = $1 AND deleted_at IS NULL";
    pub const DISABLE: &str = "UPDATE webhook_endpoints SET disabled_at = $2, disabled_reason = $3 \
         WHERE id = $1 AND disabled_at IS NULL";
    /// The outbox: one delivery per enabled endpoint subscribed to the event.
    pub const FAN_OUT: &str = "INSERT INTO webhook_deliveries \
         (endpoint_id, message_id, event_type, payload, state, attempts, next_attempt_at, created_at) \
         SELECT s.endpoint_id, $1, $2, $3, 'pending', 0, $4, $4 FROM webhook_subscriptions s \
         JOIN webhook_endpoints e ON e.id = s.endpoint_id \
         WHERE s.event = $2 AND e.disabled_at IS NULL AND e.deleted_at IS NULL";
    pub const ENQUEUE_ONE: &str = "INSERT INTO webhook_deliveries \
         (endpoint_id, message_id, event_type, payload, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)";
    pub const REPLAY: &str = "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $3, lease_until = NULL \
         WHERE endpoint_id = $1 AND message_id = $2";
    /// Due deliveries, leased to this node until `$2`; on PostgreSQL rows another node holds
    /// are skipped.
    pub const CLAIM_DUE: &str = "UPDATE webhook_deliveries SET lease_until = $2 \
         WHERE (endpoint_id, message_id) IN ( \
           SELECT endpoint_id, message_id FROM webhook_deliveries \
           WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
           ORDER BY next_attempt_at LIMIT $3 /*skip-locked*/) \
         RETURNING endpoint_id, message_id, event_type, payload, attempts";
    pub const INSERT_ATTEMPT: &str = "INSERT INTO webhook_attempts (endpoint_id, message_id, number, at, status, latency_ms, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    /// Settles a delivery this node leased (`lease_until = $7`): a lost lease changes nothing.
    pub const SETTLE: &str = "UPDATE webhook_deliveries SET state = $3, attempts = $4, next_attempt_at = $5, lease_until = NULL \
         WHERE endpoint_id = $1 AND message_id = $2 AND state = 'pending' AND lease_until = $6";
    /// Newest first: message ids (`msg_` and a UUIDv7) sort by time. `$2` is the cursor's
    /// message, or `msg_g` (after every id) for the first page.
    pub const DELIVERIES: &str = "SELECT endpoint_id, message_id, event_type, state, attempts, next_attempt_at, created_at \
         FROM webhook_deliveries WHERE endpoint_id = $1 AND message_id < $2 ORDER BY message_id DESC LIMIT $3";
    pub const ATTEMPTS: &str = "SELECT message_id, number, at, status, latency_ms, error FROM webhook_attempts \
         WHERE endpoint_id = $1 AND message_id >= $2 AND message_id <= $3 ORDER BY message_id, number";
}

/// An endpoint row (without its subscriptions).
#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub secret: String,
    pub old_secret: Option<String>,
    pub old_secret_until: Option<OffsetDateTime>,
    pub disabled_at: Option<OffsetDateTime>,
    pub disabled_reason: Option<String>,
    pub created_at: OffsetDateTime,
    pub pending: i64,
}

impl FromRow for EndpointRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(EndpointRow {
            id: c.get()?,
            url: c.get()?,
            description: c.get()?,
            secret: c.get()?,
            old_secret: c.get()?,
            old_secret_until: c.get()?,
            disabled_at: c.get()?,
            disabled_reason: c.get()?,
            created_at: c.get()?,
            pending: c.get()?,
        })
    }
}

/// A delivery leased for an attempt.
#[derive(Debug, Clone)]
pub struct Due {
    pub endpoint_id: Uuid,
    pub message_id: String,
    pub event_type: String,
    pub payload: String,
    pub attempts: i64,
}

impl FromRow for Due {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(Due {
            endpoint_id: c.get()?,
            message_id: c.get()?,
            event_type: c.get()?,
            payload: c.get()?,
            attempts: c.get()?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub endpoint_id: Uuid,
    pub message_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

impl FromRow for DeliveryRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(DeliveryRow {
            endpoint_id: c.get()?,
            message_id: c.get()?,
            event_type: c.get()?,
            state: c.get()?,
            attempts: c.get()?,
            next_attempt_at: c.get()?,
            created_at: c.get()?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub message_id: String,
    pub number: i64,
    pub at: OffsetDateTime,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl FromRow for AttemptRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(AttemptRow {
            message_id: c.get()?,
            number: c.get()?,
            at: c.get()?,
            status: c.get()?,
            latency_ms: c.get()?,
            error: c.get()?,
        })
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_endpoint(
    tx: &mut Tx,
    id: Uuid,
    url: &str,
    description: Option<&str>,
    secret: &str,
    events: &[String],
    by: &str,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_ENDPOINT,
        id,
        url,
        description,
        secret,
        by,
        at
    ))
    .await?;
    for e in events {
        tx.execute(stmt!(sql::INSERT_SUBSCRIPTION, id, e.as_str()))
            .await?;
    }
    Ok(())
}

pub async fn endpoint(tx: &mut Tx, id: Uuid) -> Result<Option<EndpointRow>> {
    tx.fetch_optional(stmt!(sql::ENDPOINT, id)).await
}

pub async fn endpoints(tx: &mut Tx) -> Result<Vec<EndpointRow>> {
    tx.fetch_all(stmt!(sql::ENDPOINTS)).await
}

pub async fn subscriptions(tx: &mut Tx, id: Uuid) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = tx.fetch_all(stmt!(sql::SUBSCRIPTIONS, id)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Deletes an endpoint (kept for its deliveries' history) and cancels what it still had to
/// receive; false when there is no such endpoint.
pub async fn delete(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<bool> {
    if tx.execute(stmt!(sql::DELETE, id, at)).await? == 0 {
        return Ok(false);
    }
    tx.execute(stmt!(sql::CANCEL_PENDING, id)).await?;
    Ok(true)
}

pub async fn rotate(
    tx: &mut Tx,
    id: Uuid,
    secret: &str,
    old_until: OffsetDateTime,
) -> Result<bool> {
    Ok(tx
        .execute(stmt!(sql::ROTATE, id, secret, old_until))
        .await?
        == 1)
}

pub async fn enable(tx: &mut Tx, id: Uuid) -> Result<bool> {
    Ok(tx.execute(stmt!(sql::ENABLE, id)).await? == 1)
}

pub async fn disable(tx: &mut Tx, id: Uuid, at: OffsetDateTime, reason: &str) -> Result<bool> {
    Ok(tx.execute(stmt!(sql::DISABLE, id, at, reason)).await? == 1)
}

/// Writes a change's deliveries to every endpoint subscribed to it, in the change's own
/// transaction.
pub async fn fan_out(
    tx: &mut Tx,
    message_id: &str,
    event: &str,
    payload: &str,
    at: OffsetDateTime,
) -> Result<u64> {
    tx.execute(stmt!(sql::FAN_OUT, message_id, event, payload, at))
        .await
}

pub async fn enqueue_one(
    tx: &mut Tx,
    endpoint_id: Uuid,
    message_id: &str,
    event: &str,
    payload: &str,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(
        sql::ENQUEUE_ONE,
        endpoint_id,
        message_id,
        event,
        payload,
        at
    ))
    .await?;
    Ok(())
}

pub async fn replay(
    tx: &mut Tx,
    endpoint_id: Uuid,
    message_id: &str,
    at: OffsetDateTime,
) -> Result<bool> {
    Ok(tx
        .execute(stmt!(sql::REPLAY, endpoint_id, message_id, at))
        .await?
        == 1)
}

pub async fn claim_due(
    tx: &mut Tx,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Due>> {
    tx.fetch_all(stmt!(sql::CLAIM_DUE, now, lease_until, limit))
        .await
}

#[allow(clippy::too_many_arguments)]
pub async fn record_attempt(
    tx: &mut Tx,
    due: &Due,
    at: OffsetDateTime,
    status: Option<u16>,
    latency_ms: i64,
    error: Option<&str>,
    state: &str,
    next_attempt_at: Option<OffsetDateTime>,
    leased_until: OffsetDateTime,
) -> Result<bool> {
    let number = due.attempts + 1;
    let settled = tx
        .execute(stmt!(
            sql::SETTLE,
            due.endpoint_id,
            due.message_id.as_str(),
            state,
            number,
            next_attempt_at,
            leased_until
        ))
        .await?;
    if settled == 0 {
        return Ok(false);
    }
    tx.execute(stmt!(
        sql::INSERT_ATTEMPT,
        due.endpoint_id,
        due.message_id.as_str(),
        number,
        at,
        status.map(i64::from),
        latency_ms,
        error
    ))
    .await?;
    Ok(true)
}

/// An endpoint's deliveries before the message `before` (all, when `None`), newest first.
pub async fn deliveries(
    tx: &mut Tx,
    endpoint_id: Uuid,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>> {
    let before = before.unwrap_or("msg_g");
    tx.fetch_all(stmt!(sql::DELIVERIES, endpoint_id, before, limit))
        .await
}

/// The attempts at the messages from `low` to `high` (inclusive).
pub async fn attempts(
    tx: &mut Tx,
    endpoint_id: Uuid,
    low: &str,
    high: &str,
) -> Result<Vec<AttemptRow>> {
    tx.fetch_all(stmt!(sql::ATTEMPTS, endpoint_id, low, high))
        .await
}
