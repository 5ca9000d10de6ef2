//! Placements: where passages stand in later versions of their source.

use time::OffsetDateTime;

use super::exec::{Cols, FromRow, Json, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::anchor::reanchor::{PlacementMethod, PlacementState};
use crate::domain::ids::{ClaimId, PassageId, SourceId};
use crate::domain::{Attention, PassageRole, Placement};

mod sql {
    macro_rules! placement_columns {
        () => {
            "pl.passage_id, pl.source_id, pl.version, pl.state, pl.method, pl.start_cp, pl.end_cp, \
             pl.start_utf16, pl.end_utf16, pl.exact, pl.baseline, pl.score, pl.change, pl.orphan, \
             pl.reviewed_by, pl.reviewed_at, pl.note, pl.placed_at"
        };
    }
    /// Changed or orphaned on the source's latest version, and not confirmed since.
    macro_rules! needs_attention {
        () => {
            "WHERE pl.latest AND pl.state <> 'placed' AND pl.reviewed_at IS NULL"
        };
    }

    pub const INSERT: &str = "INSERT INTO placements (passage_id, source_id, version, state, method, start_cp, end_cp, \
         start_utf16, end_utf16, exact, baseline, score, change, orphan, reviewed_by, reviewed_at, note, placed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";
    pub const UPDATE: &str = "UPDATE placements SET state = $3, method = $4, start_cp = $5, end_cp = $6, \
         start_utf16 = $7, end_utf16 = $8, exact = $9, score = $10, change = $11, orphan = $12, \
         reviewed_by = $13, reviewed_at = $14, note = $15 WHERE passage_id = $1 AND version = $2";
    pub const OF_PASSAGE: &str = concat!(
        "SELECT ",
        placement_columns!(),
        " FROM placements pl WHERE pl.passage_id = $1 ORDER BY pl.version"
    );
    pub const ONE: &str = concat!(
        "SELECT ",
        placement_columns!(),
        " FROM placements pl WHERE pl.passage_id = $1 AND pl.version = $2"
    );
    pub const OF_VERSION: &str = concat!(
        "SELECT ",
        placement_columns!(),
        " FROM placements pl WHERE pl.source_id = $1 AND pl.version = $2 ORDER BY pl.passage_id"
    );
    /// Every passage of a source made on version `$2` or before, with its placement there.
    pub const PRIORS: &str = concat!(
        "SELECT p.id, p.version, p.start_cp, p.end_cp, p.exact, p.prefix, p.suffix, ",
        placement_columns!(),
        " FROM passages p LEFT JOIN placements pl ON pl.passage_id = p.id AND pl.version = $2 \
         WHERE p.source_id = $1 AND p.version <= $2 ORDER BY p.id"
    );
    /// Placements on versions before `$2` are history once `$2` is the latest.
    pub const RETIRE: &str =
        "UPDATE placements SET latest = FALSE WHERE source_id = $1 AND version < $2 AND latest";
    /// What people decided on a version: changes when anyone confirms or places by hand.
    pub const DECISIONS: &str = "SELECT COUNT(*), MAX(reviewed_at) FROM placements \
         WHERE source_id = $1 AND version = $2 AND reviewed_at IS NOT NULL";
    pub const PASSAGE_COUNT: &str = "SELECT COUNT(*) FROM passages WHERE source_id = $1";
    pub const CLAIM_ATTENTION: &str = concat!(
        "SELECT x.role, ",
        placement_columns!(),
        " FROM (SELECT passage_id, 'appearance' AS role FROM claim_appearances WHERE claim_id = $1 \
                UNION ALL SELECT passage_id, 'evidence' AS role FROM evidence WHERE claim_id = $1) x \
         JOIN placements pl ON pl.passage_id = x.passage_id ",
        needs_attention!()
    );
}

impl FromRow for Placement {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let passage_id = c.get()?;
        let source_id = c.get()?;
        let version = c.get()?;
        let state: String = c.get()?;
        let method: Option<String> = c.get()?;
        Ok(Placement {
            passage_id,
            source_id,
            version,
            state: PlacementState::parse(&state)
                .ok_or_else(|| StoreError::other(format!("unknown placement state {state:?}")))?,
            method: method
                .map(|m| {
                    PlacementMethod::parse(&m)
                        .ok_or_else(|| StoreError::other(format!("unknown method {m:?}")))
                })
                .transpose()?,
            start: c.get()?,
            end: c.get()?,
            start_utf16: c.get()?,
            end_utf16: c.get()?,
            exact: c.get()?,
            baseline: c.get()?,
            score: c.get()?,
            change: c.get::<Option<Json<_>>>()?.map(|j| j.0),
            orphan: c.get::<Option<Json<_>>>()?.map(|j| j.0),
            reviewed_by: c.get()?,
            reviewed_at: c.get()?,
            note: c.get()?,
            placed_at: c.get()?,
        })
    }
}

/// A passage as the placing of a new version needs it.
#[derive(Debug, Clone)]
pub struct Prior {
    pub passage_id: PassageId,
    pub version: i64,
    pub start: i64,
    pub end: i64,
    pub exact: String,
    pub prefix: String,
    pub suffix: String,
    /// Its placement on the version asked for, unless it was made there.
    pub placement: Option<Placement>,
}

impl FromRow for Prior {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let passage_id = c.get()?;
        let version = c.get()?;
        let start = c.get()?;
        let end = c.get()?;
        let exact = c.get()?;
        let prefix = c.get()?;
        let suffix = c.get()?;
        // The LEFT JOIN leaves every placement column NULL when there is none.
        let placement = match c.next_is_null()? {
            true => None,
            false => Some(Placement::from_row(c)?),
        };
        Ok(Prior {
            passage_id,
            version,
            start,
            end,
            exact,
            prefix,
            suffix,
            placement,
        })
    }
}

pub async fn insert(tx: &mut Tx, p: &Placement) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT,
        p.passage_id,
        p.source_id,
        p.version,
        p.state.as_str(),
        p.method.map(PlacementMethod::as_str),
        p.start,
        p.end,
        p.start_utf16,
        p.end_utf16,
        p.exact.as_deref(),
        &p.baseline,
        p.score,
        p.change.as_ref().map(Json),
        p.orphan.as_ref().map(Json),
        p.reviewed_by.as_deref(),
        p.reviewed_at,
        p.note.as_deref(),
        p.placed_at
    ))
    .await
    .map(drop)
}

/// Replaces a placement's outcome (a person's decision); `false` if there is none.
pub async fn update(tx: &mut Tx, p: &Placement) -> Result<bool> {
    let changed = tx
        .execute(stmt!(
            sql::UPDATE,
            p.passage_id,
            p.version,
            p.state.as_str(),
            p.method.map(PlacementMethod::as_str),
            p.start,
            p.end,
            p.start_utf16,
            p.end_utf16,
            p.exact.as_deref(),
            p.score,
            p.change.as_ref().map(Json),
            p.orphan.as_ref().map(Json),
            p.reviewed_by.as_deref(),
            p.reviewed_at,
            p.note.as_deref()
        ))
        .await?;
    Ok(changed == 1)
}

pub async fn of_passage(tx: &mut Tx, id: PassageId) -> Result<Vec<Placement>> {
    tx.fetch_all(stmt!(sql::OF_PASSAGE, id)).await
}

pub async fn get(tx: &mut Tx, id: PassageId, version: i64) -> Result<Option<Placement>> {
    tx.fetch_optional(stmt!(sql::ONE, id, version)).await
}

pub async fn of_version(tx: &mut Tx, source_id: SourceId, version: i64) -> Result<Vec<Placement>> {
    tx.fetch_all(stmt!(sql::OF_VERSION, source_id, version))
        .await
}

/// Every passage of the source made on `version` or before, with its placement there.
pub async fn priors(tx: &mut Tx, source_id: SourceId, version: i64) -> Result<Vec<Prior>> {
    tx.fetch_all(stmt!(sql::PRIORS, source_id, version)).await
}

/// Marks placements on versions before `latest` as history.
pub async fn retire(tx: &mut Tx, source_id: SourceId, latest: i64) -> Result<()> {
    tx.execute(stmt!(sql::RETIRE, source_id, latest))
        .await
        .map(drop)
}

/// How many placements of a version people decided, and the last time one did.
pub async fn decisions(
    tx: &mut Tx,
    source_id: SourceId,
    version: i64,
) -> Result<(i64, Option<OffsetDateTime>)> {
    let row: Option<(i64, Option<OffsetDateTime>)> = tx
        .fetch_optional(stmt!(sql::DECISIONS, source_id, version))
        .await?;
    Ok(row.unwrap_or((0, None)))
}

pub async fn passage_count(tx: &mut Tx, source_id: SourceId) -> Result<i64> {
    Ok(tx
        .scalar(stmt!(sql::PASSAGE_COUNT, source_id))
        .await?
        .unwrap_or(0))
}

/// The claim's passages that need a person's attention.
pub async fn claim_attention(tx: &mut Tx, claim_id: ClaimId) -> Result<Vec<Attention>> {
    struct Row(Attention);
    impl FromRow for Row {
        fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
            let role: String = c.get()?;
            let placement = Placement::from_row(c)?;
            Ok(Row(Attention {
                passage_id: placement.passage_id,
                role: match role.as_str() {
                    "appearance" => PassageRole::Appearance,
                    _ => PassageRole::Evidence,
                },
                placement,
            }))
        }
    }
    let rows: Vec<Row> = tx.fetch_all(stmt!(sql::CLAIM_ATTENTION, claim_id)).await?;
    // Sorted here rather than by the statement: they are few (usually none), and an
    // `ORDER BY` made SQLite open a sorter on every claim view (issue 17).
    let mut attention: Vec<Attention> = rows.into_iter().map(|r| r.0).collect();
    attention.sort_by_key(|a| (a.role, a.passage_id));
    Ok(attention)
}

#[cfg(test)]
mod plans {
    /// A claim view reads its attention without opening a sorter (issue 17).
    #[test]
    fn claim_attention_needs_no_sort() {
        let plan = crate::store::sqlite_plan(super::sql::CLAIM_ATTENTION);
        assert!(plan.contains("placements_attention"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
