//! Reading the audit trail (entries are appended by every write; see `append_audit!`).

use crate::domain::audit::Entry;

use super::{Result, Store};

type EntryRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn entry_from_row(r: EntryRow) -> Entry {
    Entry {
        seq: r.0,
        at: r.1,
        actor: r.2,
        action: r.3,
        entity: r.4,
        entity_id: r.5,
        changes: r.6,
        prev_hash: r.7,
        hash: r.8,
    }
}

const ENTRY_COLUMNS: &str = "seq, at, actor, action, entity, entity_id, changes, prev_hash, hash";

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    /// Inclusive lower bound, as [`timestamp_text`].
    pub since: Option<String>,
    /// Exclusive upper bound, as [`timestamp_text`].
    pub until: Option<String>,
}

impl Store {
    /// Audit entries in `seq` order after `after`, filtered.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Entry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2) \
             AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
             AND seq > $6 ORDER BY seq LIMIT $7"
        );
        let rows: Vec<EntryRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&filter.entity)
            .bind(&filter.entity_id)
            .bind(&filter.actor)
            .bind(&filter.since)
            .bind(&filter.until)
            // A plain range on `seq` (no `IS NULL OR`), so that each page seeks to its
            // cursor instead of scanning from the first entry.
            .bind(after.unwrap_or(i64::MIN))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(entry_from_row).collect())
    }
}
