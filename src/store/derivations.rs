//! Citation chains between passages.

use time::OffsetDateTime;

use super::Result;
use super::exec::{Tx, stmt};
use crate::domain::ids::PassageId;

mod sql {
    pub const INSERT: &str = "INSERT INTO derivations (passage_id, from_passage_id, relation, created_at) \
         VALUES ($1, $2, $3, $4)";
    pub const PARENTS: &str = "SELECT from_passage_id, relation FROM derivations WHERE passage_id = $1 \
         ORDER BY from_passage_id";
    pub const IS_PRIMARY: &str = "SELECT from_passage_id FROM derivations \
         WHERE from_passage_id = $1 AND relation = 'primary_source' LIMIT 1";
}

/// Records that `passage_id` derives from `from` (a [`super::Constraint`] conflict if it does
/// already).
pub async fn insert(
    tx: &mut Tx,
    passage_id: PassageId,
    from: PassageId,
    relation: &str,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(sql::INSERT, passage_id, from, relation, at))
        .await
        .map(drop)
}

/// The passages `passage_id` derives from, with the relation.
pub async fn parents(tx: &mut Tx, passage_id: PassageId) -> Result<Vec<(PassageId, String)>> {
    tx.fetch_all(stmt!(sql::PARENTS, passage_id)).await
}

/// Whether some passage names this one as its primary source.
pub async fn is_primary(tx: &mut Tx, passage_id: PassageId) -> Result<bool> {
    Ok(tx
        .scalar::<PassageId>(stmt!(sql::IS_PRIMARY, passage_id))
        .await?
        .is_some())
}
