//! Figures an operator watches (read at each metrics scrape): the audit log's length, the
//! change feed's head, the webhook outbox, the connection pool.

use std::time::Duration;

use time::OffsetDateTime;

use super::exec::stmt;
use super::{Backend, Result, Store};

/// What the metrics endpoint reports of the database.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Entries in the audit log (its last `seq`: the chain has no gaps).
    pub audit_entries: i64,
    /// The change feed's head (`seq` of the newest change; 0 when none).
    pub changes_head: i64,
    /// Webhook deliveries still to be made.
    pub pending_deliveries: i64,
    /// How long the oldest of them has waited.
    pub oldest_pending_age: Option<Duration>,
    /// PostgreSQL's pool: connections in use and idle (`None` on SQLite).
    pub pool: Option<(u32, u32)>,
}

impl Store {
    /// The figures of [`Figures`], each one statement on an index.
    pub async fn figures(&self) -> Result<Figures> {
        let mut figures = self
            .fetch(|tx| {
                Box::pin(async move {
                    let audit_entries = tx
                        .scalar::<i64>(stmt!(
                            "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM audit_log"
                        ))
                        .await?
                        .unwrap_or(0);
                    let changes_head = tx
                        .scalar::<i64>(stmt!(
                            "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM changes"
                        ))
                        .await?
                        .unwrap_or(0);
                    let pending_deliveries = tx
                        .scalar::<i64>(stmt!(
                            "SELECT CAST(COUNT(*) AS BIGINT) FROM webhook_deliveries \
                             WHERE state = 'pending'"
                        ))
                        .await?
                        .unwrap_or(0);
                    let oldest = tx
                        .scalar::<Option<OffsetDateTime>>(stmt!(
                            "SELECT MIN(created_at) FROM webhook_deliveries \
                             WHERE state = 'pending'"
                        ))
                        .await?
                        .flatten();
                    let oldest_pending_age = oldest.map(|at| {
                        let age = OffsetDateTime::now_utc() - at;
                        Duration::try_from(age).unwrap_or_default()
                    });
                    Ok(Figures {
                        audit_entries,
                        changes_head,
                        pending_deliveries,
                        oldest_pending_age,
                        pool: None,
                    })
                })
            })
            .await?;
        if let Backend::Postgres(pool) = &self.backend {
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
            figures.pool = Some((pool.size().saturating_sub(idle), idle));
        }
        Ok(figures)
    }
}
