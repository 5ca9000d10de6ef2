//! Responses kept for idempotent POSTs (see `http::idempotency`).

use time::OffsetDateTime;

use super::Result;
use super::exec::{Cols, FromRow, Json, Tx, stmt};
use crate::domain::idempotency::{Earlier, Kept};
use crate::domain::ids::KeyId;

mod sql {
    pub const PURGE: &str = "DELETE FROM idempotency_keys WHERE expires_at < $1";
    pub const CLAIM: &str = "INSERT INTO idempotency_keys (key_id, idem_key, fingerprint, started_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id, idem_key) DO NOTHING";
    pub const GET: &str = "SELECT fingerprint, status, headers, body, started_at FROM idempotency_keys \
         WHERE key_id = $1 AND idem_key = $2";
    /// Takes over a first attempt that never finished (its process died).
    pub const TAKE_OVER: &str = "UPDATE idempotency_keys SET started_at = $4, expires_at = $5 \
         WHERE key_id = $1 AND idem_key = $2 AND status IS NULL AND started_at < $3";
    pub const FINISH: &str = "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 \
         WHERE key_id = $1 AND idem_key = $2";
    pub const FORGET: &str = "DELETE FROM idempotency_keys WHERE key_id = $1 AND idem_key = $2";
}

struct Row {
    fingerprint: String,
    status: Option<i64>,
    headers: Option<Json<Vec<(String, String)>>>,
    body: Option<String>,
    started_at: OffsetDateTime,
}

impl FromRow for Row {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(Row {
            fingerprint: c.get()?,
            status: c.get()?,
            headers: c.get()?,
            body: c.get()?,
            started_at: c.get()?,
        })
    }
}

/// Claims `key` for this request (after dropping expired keys); false when it was claimed
/// before.
pub async fn claim(
    tx: &mut Tx,
    key_id: KeyId,
    key: &str,
    fingerprint: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<bool> {
    tx.execute(stmt!(sql::PURGE, now)).await?;
    let claimed = tx
        .execute(stmt!(sql::CLAIM, key_id, key, fingerprint, now, expires_at))
        .await?;
    Ok(claimed == 1)
}

/// The earlier use of `key`, if it is still kept.
pub async fn earlier(tx: &mut Tx, key_id: KeyId, key: &str) -> Result<Option<Earlier>> {
    let row = tx
        .fetch_optional::<Row>(stmt!(sql::GET, key_id, key))
        .await?;
    Ok(row.map(|row| Earlier {
        fingerprint: row.fingerprint,
        kept: row.status.map(|status| Kept {
            status: u16::try_from(status).unwrap_or(500),
            headers: row.headers.map(|h| h.0).unwrap_or_default(),
            body: row.body.unwrap_or_default(),
        }),
        started_at: row.started_at,
    }))
}

/// Takes over a first attempt that started before `abandoned_before` and never finished;
/// false when another request took it first.
pub async fn take_over(
    tx: &mut Tx,
    key_id: KeyId,
    key: &str,
    abandoned_before: OffsetDateTime,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<bool> {
    let taken = tx
        .execute(stmt!(
            sql::TAKE_OVER,
            key_id,
            key,
            abandoned_before,
            now,
            expires_at
        ))
        .await?;
    Ok(taken == 1)
}

pub async fn finish(tx: &mut Tx, key_id: KeyId, key: &str, kept: &Kept) -> Result<()> {
    tx.execute(stmt!(
        sql::FINISH,
        key_id,
        key,
        i64::from(kept.status),
        Json(&kept.headers),
        kept.body.as_str()
    ))
    .await?;
    Ok(())
}

pub async fn forget(tx: &mut Tx, key_id: KeyId, key: &str) -> Result<()> {
    tx.execute(stmt!(sql::FORGET, key_id, key)).await?;
    Ok(())
}
