//! Responses kept for idempotent POSTs (see `http::idempotency`).

use time::OffsetDateTime;

use super::Result;
use super::exec::{Cols, FromRow, Json, Tx, stmt};
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

/// A kept response: status, headers (name, value) and body.
#[derive(Debug, Clone)]
pub struct Kept {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What a request with an idempotency key meets.
#[derive(Debug, Clone)]
pub enum Begin {
    /// First use: run the request, then `finish` (or `forget`).
    First,
    /// The first request with this key is still running.
    Running,
    /// The key was used with another request.
    Mismatch,
    /// The first request's response.
    Done(Kept),
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

/// Claims `key` for this request, or says what the earlier use of it left. A first attempt
/// started before `abandoned_before` and never finished is taken over.
pub async fn begin(
    tx: &mut Tx,
    key_id: KeyId,
    key: &str,
    fingerprint: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
    abandoned_before: OffsetDateTime,
) -> Result<Begin> {
    tx.execute(stmt!(sql::PURGE, now)).await?;
    let claimed = tx
        .execute(stmt!(sql::CLAIM, key_id, key, fingerprint, now, expires_at))
        .await?;
    if claimed == 1 {
        return Ok(Begin::First);
    }
    let Some(row) = tx
        .fetch_optional::<Row>(stmt!(sql::GET, key_id, key))
        .await?
    else {
        return Ok(Begin::Running);
    };
    if row.fingerprint != fingerprint {
        return Ok(Begin::Mismatch);
    }
    match row.status {
        Some(status) => Ok(Begin::Done(Kept {
            status: u16::try_from(status).unwrap_or(500),
            headers: row.headers.map(|h| h.0).unwrap_or_default(),
            body: row.body.unwrap_or_default(),
        })),
        None if row.started_at < abandoned_before => {
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
            Ok(if taken == 1 {
                Begin::First
            } else {
                Begin::Running
            })
        }
        None => Ok(Begin::Running),
    }
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
