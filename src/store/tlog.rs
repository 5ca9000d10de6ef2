//! The transparency log's stored hashes (see `domain::tlog`): one row per audit entry with the
//! hashes its append stored, written by `audit::append` in the entry's transaction.

use std::collections::{BTreeSet, HashMap};

use super::exec::{Cols, FromRow, Json, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::tlog::{Frontier, Hash, Known, leaf_hash, stored_at};

mod sql {
    pub const INSERT: &str = "INSERT INTO audit_tree (seq, hashes) VALUES ($1, $2)";
    /// Entries with their tree hashes; `seq` is the primary key, so this is one index read.
    pub const SIZE: &str = "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM audit_tree";
    /// The rows of the entries in a JSON array, in one statement whatever their number.
    pub const ROWS_SQLITE: &str =
        "SELECT seq, hashes FROM audit_tree WHERE seq IN (SELECT value FROM json_each($1))";
    pub const ROWS_POSTGRES: &str = "SELECT seq, hashes FROM audit_tree \
         WHERE seq IN (SELECT jsonb_array_elements_text($1)::bigint)";
    /// Entry hashes in order with their tree hashes, for checking every stored hash.
    pub const WITH_TREE: &str = "SELECT l.seq, l.hash, t.hashes FROM audit_log l \
         LEFT JOIN audit_tree t ON t.seq = l.seq WHERE l.seq > $1 ORDER BY l.seq LIMIT $2";
    /// Entry hashes in order, for the leaves written before the tree existed.
    pub const ENTRY_HASHES: &str =
        "SELECT seq, hash FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
}

/// Stores the tree hashes of entry `seq` (what [`Frontier::push`] returned for it).
pub async fn store(tx: &mut Tx, seq: i64, hashes: &[Hash]) -> Result<()> {
    let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
    tx.execute(stmt!(sql::INSERT, seq, bytes)).await?;
    Ok(())
}

/// The number of entries the tree holds (entries 1 to this one).
pub async fn size(tx: &mut Tx) -> Result<i64> {
    Ok(tx.scalar(stmt!(sql::SIZE)).await?.unwrap_or(0))
}

/// The stored hashes at `indexes`, read in one statement.
pub async fn read(tx: &mut Tx, indexes: &[u64]) -> Result<Known> {
    let places: Vec<(u64, (i64, usize))> = indexes.iter().map(|&i| (i, stored_at(i))).collect();
    let seqs: BTreeSet<i64> = places.iter().map(|(_, (seq, _))| *seq).collect();
    if seqs.is_empty() {
        return Ok(Known(HashMap::new()));
    }
    let sql = if tx.is_postgres() {
        sql::ROWS_POSTGRES
    } else {
        sql::ROWS_SQLITE
    };
    let seqs: Vec<i64> = seqs.into_iter().collect();
    let rows: Vec<(i64, Vec<u8>)> = tx.fetch_all(stmt!(sql, Json(seqs))).await?;
    let rows: HashMap<i64, Vec<u8>> = rows.into_iter().collect();
    let mut known = HashMap::with_capacity(places.len());
    for (index, (seq, pos)) in places {
        let hash = rows
            .get(&seq)
            .and_then(|bytes| bytes.get(pos * 32..pos * 32 + 32))
            .and_then(|b| b.try_into().ok())
            .map(Hash)
            .ok_or_else(|| {
                StoreError::other(format!(
                    "the transparency log lacks the tree hashes of audit entry {seq}"
                ))
            })?;
        known.insert(index, hash);
    }
    Ok(Known(known))
}

/// At most `limit` entries after `after`, in order: `seq`, `hash` and the tree hashes stored
/// with it (none for an entry the tree lacks).
pub async fn entries_with_tree(
    tx: &mut Tx,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String, Option<Vec<u8>>)>> {
    let rows: Vec<EntryRow> = tx.fetch_all(stmt!(sql::WITH_TREE, after, limit)).await?;
    Ok(rows.into_iter().map(|r| (r.0, r.1, r.2)).collect())
}

struct EntryRow(i64, String, Option<Vec<u8>>);

impl FromRow for EntryRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(EntryRow(c.get()?, c.get()?, c.get()?))
    }
}

/// The right edge of the tree of entries 1 to `size` (which the tree must hold).
pub async fn frontier(tx: &mut Tx, size: u64) -> Result<Frontier> {
    let indexes = Frontier::indexes(size);
    let known = read(tx, &indexes).await?;
    let roots = indexes.iter().map(|i| known.0[i]).collect();
    Ok(Frontier::from_hashes(size, roots))
}

/// Adds the tree hashes of at most `limit` entries up to `head` that lack them (entries
/// written before the log existed) and returns the tree's right edge after them. Takes the
/// write lock: appends must not interleave.
pub async fn catch_up(tx: &mut Tx, head: i64, limit: i64) -> Result<Frontier> {
    tx.lock_writes().await?;
    let held = size(tx).await?;
    let mut frontier = frontier(tx, held as u64).await?;
    if held >= head {
        return Ok(frontier);
    }
    let entries: Vec<(i64, String)> = tx
        .fetch_all(stmt!(sql::ENTRY_HASHES, held, head, limit))
        .await?;
    for (seq, hash) in entries {
        if seq != frontier.size() as i64 + 1 {
            return Err(StoreError::other(format!(
                "the audit trail has no entry {} (the next is {seq})",
                frontier.size() + 1
            )));
        }
        let leaf = leaf_hash(&hash)
            .ok_or_else(|| StoreError::other(format!("audit entry {seq} has a malformed hash")))?;
        let stored = frontier.push(leaf);
        store(tx, seq, &stored).await?;
    }
    Ok(frontier)
}
