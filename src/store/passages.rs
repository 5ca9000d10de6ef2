//! Passages: exact spans of one version of a source.

use uuid::Uuid;

use super::exec::{Cols, FromRow, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::ids::{PassageId, SourceId};
use crate::domain::{Passage, SourceRef, SourcedPassage};

pub(super) mod sql {
    macro_rules! passage_columns {
        () => {
            "p.id, p.source_id, p.version, p.start_cp, p.end_cp, p.exact, p.prefix, p.suffix, \
             p.start_utf16, p.end_utf16, p.created_at, p.pasted"
        };
    }
    pub(in crate::store) use passage_columns;

    pub const INSERT_PASSAGE: &str = "INSERT INTO passages (id, source_id, version, start_cp, end_cp, exact, prefix, suffix, \
         start_utf16, end_utf16, created_at, pasted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (source_id, version, start_cp, end_cp) DO NOTHING";
    pub const PASSAGE_AT: &str = concat!(
        "SELECT ",
        passage_columns!(),
        " FROM passages p WHERE p.source_id = $1 AND p.version = $2 AND p.start_cp = $3 AND p.end_cp = $4"
    );
    pub const PASSAGE_BY_ID: &str = concat!(
        "SELECT ",
        passage_columns!(),
        " FROM passages p WHERE p.id = $1"
    );
    pub const SOURCED_PASSAGE: &str = concat!(
        "SELECT ",
        passage_columns!(),
        ", s.title, s.url, s.publisher FROM passages p JOIN sources s ON s.id = p.source_id WHERE p.id = $1"
    );
    pub const PASSAGE_EXISTS: &str = "SELECT id FROM passages WHERE id = $1";
    pub const SOURCE_PASSAGES: &str = concat!(
        "SELECT ",
        passage_columns!(),
        " FROM passages p WHERE p.source_id = $1 AND p.id > $2 ORDER BY p.id LIMIT $3"
    );
    pub const SOURCE_PASSAGES_DESC: &str = concat!(
        "SELECT ",
        passage_columns!(),
        " FROM passages p WHERE p.source_id = $1 AND p.id < $2 ORDER BY p.id DESC LIMIT $3"
    );
}

impl FromRow for Passage {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(Passage {
            id: c.get()?,
            source_id: c.get()?,
            version: c.get()?,
            start: c.get()?,
            end: c.get()?,
            exact: c.get()?,
            prefix: c.get()?,
            suffix: c.get()?,
            start_utf16: c.get()?,
            end_utf16: c.get()?,
            created_at: c.get()?,
            pasted: c.get()?,
        })
    }
}

impl FromRow for SourcedPassage {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let passage = Passage::from_row(c)?;
        let source = SourceRef {
            id: passage.source_id,
            title: c.get()?,
            url: c.get()?,
            publisher: c.get()?,
        };
        Ok(SourcedPassage { passage, source })
    }
}

/// Stores a passage unless the same span is stored; the stored one, and whether it is new.
pub async fn insert_passage(tx: &mut Tx, p: &Passage) -> Result<(Passage, bool)> {
    let inserted = tx
        .execute(stmt!(
            sql::INSERT_PASSAGE,
            p.id,
            p.source_id,
            p.version,
            p.start,
            p.end,
            &p.exact,
            &p.prefix,
            &p.suffix,
            p.start_utf16,
            p.end_utf16,
            p.created_at,
            p.pasted.as_deref()
        ))
        .await?;
    if inserted == 1 {
        return Ok((p.clone(), true));
    }
    let stored = tx
        .fetch_optional(stmt!(
            sql::PASSAGE_AT,
            p.source_id,
            p.version,
            p.start,
            p.end
        ))
        .await?
        .ok_or_else(|| StoreError::other("a passage vanished after it was written"))?;
    Ok((stored, false))
}

/// A passage with its source, in short.
pub async fn sourced_passage(tx: &mut Tx, id: PassageId) -> Result<Option<SourcedPassage>> {
    tx.fetch_optional(stmt!(sql::SOURCED_PASSAGE, id)).await
}

pub async fn get_passage(tx: &mut Tx, id: PassageId) -> Result<Option<Passage>> {
    tx.fetch_optional(stmt!(sql::PASSAGE_BY_ID, id)).await
}

/// Which of `ids` name no stored passage.
pub async fn missing_passages(tx: &mut Tx, ids: &[PassageId]) -> Result<Vec<PassageId>> {
    let mut missing = Vec::new();
    for &id in ids {
        if tx
            .scalar::<PassageId>(stmt!(sql::PASSAGE_EXISTS, id))
            .await?
            .is_none()
        {
            missing.push(id);
        }
    }
    Ok(missing)
}

/// A source's passages (on any version) in id order after `after`.
pub async fn source_passages(
    tx: &mut Tx,
    source_id: SourceId,
    after: Option<Uuid>,
    limit: u32,
    order: crate::domain::Order,
) -> Result<Vec<Passage>> {
    let sql = if order.is_desc() {
        sql::SOURCE_PASSAGES_DESC
    } else {
        sql::SOURCE_PASSAGES
    };
    tx.fetch_all(stmt!(
        sql,
        source_id,
        after.unwrap_or(order.start()),
        i64::from(limit)
    ))
    .await
}
