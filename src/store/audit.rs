//! The audit trail: appending an entry (every write's last step) and reading entries.

use super::exec::{Cols, FromRow, Head, Tx, stmt};
use super::{Constraint, Result, StoreError, now, timestamp_text, tlog};
use crate::domain::access::Who;
use crate::domain::audit::{Entry, Event, GENESIS, seal};
use crate::domain::tlog::leaf_hash;

mod sql {
    /// The newest entry's sequence number and hash, which the next entry links to.
    pub const HEAD: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

    /// Appends the entry only if it links to the newest entry: the one before it (`$1 - 1`)
    /// exists with hash `$8` (or the log is empty and this is entry 1), and `$1` is free.
    /// Zero rows means another writer appended first, or the head it linked to was never
    /// committed.
    pub const INSERT: &str = "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, changes, prev_hash, hash, key_id) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
         WHERE EXISTS (SELECT 1 FROM audit_log WHERE seq = $1 - 1 AND hash = $8) \
            OR ($1 = 1 AND NOT EXISTS (SELECT 1 FROM audit_log)) \
         ON CONFLICT (seq) DO NOTHING";

    /// Entry hashes in order after `$1`: the transparency log's leaves.
    pub const HASHES_AFTER: &str =
        "SELECT hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";
    pub const GET: &str = "SELECT seq, at, actor, key_id, action, entity, entity_id, changes, prev_hash, hash FROM audit_log WHERE seq = $1";

    /// [`INSERT`] with the entry's transparency-log row in the same statement, for PostgreSQL:
    /// appends run one after another under the write lock, so a round trip saved there is
    /// throughput won (a second statement cost 13 % of review transitions). `$11` is the
    /// row's hashes; zero rows when the entry was not appended.
    pub const INSERT_WITH_TREE: &str = "WITH entry AS (\
         INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, changes, prev_hash, hash, key_id) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
         WHERE EXISTS (SELECT 1 FROM audit_log WHERE seq = $1 - 1 AND hash = $8) \
            OR ($1 = 1 AND NOT EXISTS (SELECT 1 FROM audit_log)) \
         ON CONFLICT (seq) DO NOTHING RETURNING seq) \
         INSERT INTO audit_tree (seq, hashes) SELECT seq, $11 FROM entry";

    /// A plain range on `seq` (no `IS NULL OR`), so that each page seeks to its cursor
    /// instead of scanning from the first entry.
    pub const LIST: &str = "SELECT seq, at, actor, key_id, action, entity, entity_id, changes, prev_hash, hash FROM audit_log \
         WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2) \
         AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
         AND seq > $6 ORDER BY seq LIMIT $7";
    /// Newest first: `seq < $6`.
    pub const LIST_DESC: &str = "SELECT seq, at, actor, key_id, action, entity, entity_id, changes, prev_hash, hash FROM audit_log \
         WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2) \
         AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
         AND seq < $6 ORDER BY seq DESC LIMIT $7";
}

#[cfg(test)]
pub(super) use sql::LIST as LIST_SQL;

impl FromRow for Entry {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(Entry {
            seq: c.get()?,
            at: c.get()?,
            actor: c.get()?,
            key_id: c.get()?,
            action: c.get()?,
            entity: c.get()?,
            entity_id: c.get()?,
            changes: c.get()?,
            prev_hash: c.get()?,
            hash: c.get()?,
        })
    }
}

/// Appends the entry for `event` by `actor`: the last step of every write. Takes the write
/// lock first (see [`Tx::lock_writes`]), so writers append one after another.
///
/// The entry links to the head this process last appended (no read), and the insert itself
/// checks that link ([`sql::INSERT`]); when another node appended since, or that head was
/// rolled back, the head is read and the entry sealed again. So the chain stays linear
/// whatever the hint says, and a write usually costs one statement for its entry and one for
/// its transparency-log hashes, computed from the tree's right edge kept with the hint.
pub async fn append(tx: &mut Tx, who: &Who, event: Event) -> Result<()> {
    tx.lock_writes().await?;
    let mut hint = tx.audit_head_hint();
    for _ in 0..3 {
        let head = match hint.take() {
            Some(h) => h,
            None => read_head(tx).await?,
        };
        let e = seal(
            Some((head.seq, head.hash)),
            timestamp_text(now()),
            who,
            event.clone(),
        );
        let mut frontier = head.frontier;
        let leaf = leaf_hash(&e.hash).expect("a sealed hash is 64 hex digits");
        let hashes = frontier.push(leaf);
        let mut insert = stmt!(
            sql::INSERT,
            e.seq,
            e.at,
            e.actor,
            e.action,
            e.entity,
            e.entity_id,
            e.changes,
            e.prev_hash,
            &e.hash,
            e.key_id
        );
        let with_tree = tx.is_postgres();
        if with_tree {
            let row: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
            insert.sql = std::borrow::Cow::Borrowed(sql::INSERT_WITH_TREE);
            insert.args.push(super::exec::Arg::value(row));
        }
        let appended = tx.execute(insert).await?;
        // In process (SQLite), a second statement costs little.
        if appended == 1 && !with_tree {
            tlog::store(tx, e.seq, &hashes).await?;
        }
        if appended == 1 {
            tx.note_audit_head(Head {
                seq: e.seq,
                hash: e.hash,
                frontier,
            });
            return Ok(());
        }
    }
    // Holding the write lock, a fresh head cannot move: only a rival writer that ignores the
    // lock gets here.
    Err(StoreError::Conflict(Constraint::AuditSeq))
}

/// The chain's head as stored, with the tree's right edge after it (the tree brought up to
/// the head first, should entries lack their hashes).
async fn read_head(tx: &mut Tx) -> Result<Head> {
    let (seq, hash) = tx
        .fetch_optional(stmt!(sql::HEAD))
        .await?
        .unwrap_or((0, GENESIS.to_owned()));
    let frontier = tlog::catch_up(tx, seq, i64::MAX).await?;
    Ok(Head {
        seq,
        hash,
        frontier,
    })
}

/// The newest entry's sequence number (0 for an empty log). Every write to the records appends
/// an entry, so an unchanged head means unchanged records.
pub async fn head_seq(tx: &mut Tx) -> Result<i64> {
    let head: Option<(i64, String)> = tx.fetch_optional(stmt!(sql::HEAD)).await?;
    Ok(head.map_or(0, |h| h.0))
}

/// The hashes of at most `limit` entries after `after`, in order.
pub async fn hashes_after(tx: &mut Tx, after: i64, limit: i64) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = tx.fetch_all(stmt!(sql::HASHES_AFTER, after, limit)).await?;
    Ok(rows.into_iter().map(|(h,)| h).collect())
}

/// Entry `seq`, if it exists.
pub async fn get(tx: &mut Tx, seq: i64) -> Result<Option<Entry>> {
    tx.fetch_optional(stmt!(sql::GET, seq)).await
}

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

/// Entries after `after` in the given order, filtered.
pub async fn list_ordered(
    tx: &mut Tx,
    filter: &AuditFilter,
    after: Option<i64>,
    limit: u32,
    order: crate::domain::Order,
) -> Result<Vec<Entry>> {
    if !order.is_desc() {
        return list(tx, filter, after, limit).await;
    }
    tx.fetch_all(stmt!(
        sql::LIST_DESC,
        filter.entity.clone(),
        filter.entity_id.clone(),
        filter.actor.clone(),
        filter.since.clone(),
        filter.until.clone(),
        after.unwrap_or(i64::MAX),
        i64::from(limit)
    ))
    .await
}

/// Entries in `seq` order after `after`, filtered.
pub async fn list(
    tx: &mut Tx,
    filter: &AuditFilter,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<Entry>> {
    tx.fetch_all(stmt!(
        sql::LIST,
        filter.entity.clone(),
        filter.entity_id.clone(),
        filter.actor.clone(),
        filter.since.clone(),
        filter.until.clone(),
        after.unwrap_or(i64::MIN),
        i64::from(limit)
    ))
    .await
}
