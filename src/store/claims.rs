//! Claims, where they appeared and the evidence for and against them.

use time::OffsetDateTime;
use uuid::Uuid;

use super::exec::{Cols, FromRow, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::filters::ClaimFilter;
use crate::domain::ids::{ClaimId, EvidenceId, PassageId};
use crate::domain::{Claim, ClaimItem, ClaimantKind, Evidence, SourcedPassage, Stance, Withdrawal};

pub(super) mod sql {
    use crate::store::claim_list::{claim_filters, claim_item_select};
    use crate::store::passages::sql::passage_columns;

    /// Evidence rows joined to their passages and sources ([`super::EvidenceWithPassage`]).
    macro_rules! evidence_select {
        () => {
            concat!(
                "SELECT e.id, e.stance, e.note, e.created_at, e.withdrawn_at, e.withdrawn_by, \
                 e.withdrawn_note, ",
                passage_columns!(),
                ", s.title, s.url, s.publisher FROM evidence e JOIN passages p ON p.id = e.passage_id \
                 JOIN sources s ON s.id = p.source_id"
            )
        };
    }
    pub const INSERT_CLAIM: &str = "INSERT INTO claims (id, text, claimant, created_at, claimant_kind) VALUES ($1, $2, $3, $4, $5)";
    pub const INSERT_APPEARANCE: &str =
        "INSERT INTO claim_appearances (claim_id, passage_id, position) VALUES ($1, $2, $3)";
    pub const CLAIM_BY_ID: &str =
        "SELECT id, text, claimant, created_at, claimant_kind FROM claims WHERE id = $1";
    /// The claim list, written once: `$1` the cursor (`c.id > $1`, or `<` newest first: a
    /// plain range that seeks to it), `$2` the page size, and in the filtered variants the
    /// filters of `claim_filters!`: appearing in or cited from a source (`$3`), with a
    /// published verdict or not (`$4`: 1 or 0), current review in a state (`$5`), needing
    /// attention (`$6`). Without filters the statement has none, so SQLite walks the primary
    /// key.
    macro_rules! list_claims {
        (plain, $after:literal, $order:literal) => {
            concat!(
                claim_item_select!(),
                " WHERE c.id ",
                $after,
                " $1 ORDER BY c.id",
                $order,
                " LIMIT $2"
            )
        };
        (filtered, $after:literal, $order:literal) => {
            concat!(
                claim_item_select!(),
                " WHERE c.id ",
                $after,
                " $1",
                claim_filters!(),
                " ORDER BY c.id",
                $order,
                " LIMIT $2"
            )
        };
    }
    pub const LIST_CLAIMS: &str = list_claims!(plain, ">", "");
    pub const LIST_CLAIMS_FILTERED: &str = list_claims!(filtered, ">", "");
    pub const LIST_CLAIMS_DESC: &str = list_claims!(plain, "<", " DESC");
    pub const LIST_CLAIMS_FILTERED_DESC: &str = list_claims!(filtered, "<", " DESC");
    pub const INSERT_EVIDENCE: &str = "INSERT INTO evidence (id, claim_id, passage_id, stance, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const EVIDENCE_FOR: &str =
        "SELECT id FROM evidence WHERE claim_id = $1 AND passage_id = $2";
    /// The claim (a row even without evidence) and its evidence ids.
    pub const CLAIM_EVIDENCE_IDS: &str = "SELECT c.id, e.id FROM claims c LEFT JOIN evidence e ON e.claim_id = c.id \
         WHERE c.id = $1 ORDER BY e.id";
    /// A claim's appearances with their passages and sources, in order; the index
    /// `claim_appearances_order` gives the order without a sort (issue 17).
    pub const CLAIM_APPEARANCES: &str = concat!(
        "SELECT ",
        passage_columns!(),
        ", s.title, s.url, s.publisher FROM claim_appearances a JOIN passages p ON p.id = a.passage_id \
         JOIN sources s ON s.id = p.source_id WHERE a.claim_id = $1 ORDER BY a.position"
    );
    /// A claim's evidence with its passages and sources, in id order (`evidence_claim`).
    pub const CLAIM_EVIDENCE: &str =
        concat!(evidence_select!(), " WHERE e.claim_id = $1 ORDER BY e.id");
    pub const EVIDENCE_BY_ID: &str =
        concat!(evidence_select!(), " WHERE e.id = $1 AND e.claim_id = $2");
    /// Evidence that new reviews may rest on: not withdrawn.
    pub const CLAIM_EVIDENCE_IDS_LIVE: &str = "SELECT c.id, e.id FROM claims c LEFT JOIN evidence e ON e.claim_id = c.id \
         AND e.withdrawn_at IS NULL WHERE c.id = $1 ORDER BY e.id";
    pub const WITHDRAW_EVIDENCE: &str = "UPDATE evidence SET withdrawn_at = $3, withdrawn_by = $4, withdrawn_note = $5 \
         WHERE id = $1 AND claim_id = $2 AND withdrawn_at IS NULL";
    pub const UPDATE_CLAIM: &str =
        "UPDATE claims SET text = $2, claimant = $3, claimant_kind = $4 WHERE id = $1";
    pub const APPEARANCE_POSITION: &str = "SELECT CAST(position AS BIGINT) FROM claim_appearances WHERE claim_id = $1 AND passage_id = $2";
    pub const NEXT_APPEARANCE: &str = "SELECT CAST(COALESCE(MAX(position) + 1, 0) AS BIGINT) FROM claim_appearances WHERE claim_id = $1";
}

impl FromRow for Claim {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let (id, text, claimant, created_at) = (c.get()?, c.get()?, c.get()?, c.get()?);
        let kind: String = c.get()?;
        Ok(Claim {
            id,
            text,
            claimant,
            claimant_kind: ClaimantKind::parse(&kind)
                .ok_or_else(|| StoreError::other(format!("unknown claimant kind {kind:?}")))?,
            created_at,
        })
    }
}

/// An evidence row, before its passage is joined in.
struct EvidenceRow {
    id: EvidenceId,
    stance: Stance,
    note: Option<String>,
    created_at: OffsetDateTime,
    withdrawn: Option<Withdrawal>,
}

impl FromRow for EvidenceRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let id = c.get()?;
        let stance: String = c.get()?;
        Ok(EvidenceRow {
            id,
            stance: Stance::parse(&stance)
                .ok_or_else(|| StoreError::other(format!("unknown stance {stance:?}")))?,
            note: c.get()?,
            created_at: c.get()?,
            withdrawn: {
                let at: Option<OffsetDateTime> = c.get()?;
                let by: Option<String> = c.get()?;
                let note: Option<String> = c.get()?;
                at.map(|at| Withdrawal {
                    at,
                    by: by.unwrap_or_default(),
                    note: note.unwrap_or_default(),
                })
            },
        })
    }
}

/// An evidence row with its passage and source ([`sql::evidence_select`]).
struct EvidenceWithPassage(EvidenceRow, SourcedPassage);

impl FromRow for EvidenceWithPassage {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(EvidenceWithPassage(
            EvidenceRow::from_row(c)?,
            SourcedPassage::from_row(c)?,
        ))
    }
}

impl EvidenceRow {
    fn with(self, claim_id: ClaimId, p: SourcedPassage) -> Evidence {
        Evidence {
            id: self.id,
            claim_id,
            stance: self.stance,
            note: self.note,
            created_at: self.created_at,
            passage: p.passage,
            source: p.source,
            withdrawn: self.withdrawn,
            warnings: None,
        }
    }
}

/// Writes a claim with the passages it appeared in (which must exist).
pub async fn insert_claim(tx: &mut Tx, claim: &Claim, appearances: &[PassageId]) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_CLAIM,
        claim.id,
        &claim.text,
        claim.claimant.as_deref(),
        claim.created_at,
        claim.claimant_kind.as_str()
    ))
    .await?;
    super::search::index_claim(tx, claim.id, &claim.text).await?;
    for (position, passage) in appearances.iter().enumerate() {
        tx.execute(stmt!(
            sql::INSERT_APPEARANCE,
            claim.id,
            *passage,
            position as i64
        ))
        .await?;
    }
    Ok(())
}

pub async fn get_claim(tx: &mut Tx, id: ClaimId) -> Result<Option<Claim>> {
    tx.fetch_optional(stmt!(sql::CLAIM_BY_ID, id)).await
}

/// Writes a claim's text and claimant, and indexes the text for search again.
pub async fn update_claim(tx: &mut Tx, claim: &Claim) -> Result<()> {
    tx.execute(stmt!(
        sql::UPDATE_CLAIM,
        claim.id,
        &claim.text,
        claim.claimant.as_deref(),
        claim.claimant_kind.as_str()
    ))
    .await?;
    super::search::index_claim(tx, claim.id, &claim.text).await
}

/// Adds an appearance after the claim's others; `false` when the passage is one already.
/// Whether the passage is one of the claim's appearances.
pub async fn is_appearance(tx: &mut Tx, claim_id: ClaimId, passage_id: PassageId) -> Result<bool> {
    let at: Option<i64> = tx
        .scalar(stmt!(sql::APPEARANCE_POSITION, claim_id, passage_id))
        .await?;
    Ok(at.is_some())
}

pub async fn add_appearance(tx: &mut Tx, claim_id: ClaimId, passage_id: PassageId) -> Result<bool> {
    let at: Option<i64> = tx
        .scalar(stmt!(sql::APPEARANCE_POSITION, claim_id, passage_id))
        .await?;
    if at.is_some() {
        return Ok(false);
    }
    let position: i64 = tx
        .scalar(stmt!(sql::NEXT_APPEARANCE, claim_id))
        .await?
        .unwrap_or(0);
    tx.execute(stmt!(
        sql::INSERT_APPEARANCE,
        claim_id,
        passage_id,
        position
    ))
    .await?;
    Ok(true)
}

/// Withdraws evidence; `false` when it was withdrawn already (or is not the claim's).
pub async fn withdraw_evidence(
    tx: &mut Tx,
    claim_id: ClaimId,
    id: EvidenceId,
    at: OffsetDateTime,
    by: &str,
    note: &str,
) -> Result<bool> {
    Ok(tx
        .execute(stmt!(sql::WITHDRAW_EVIDENCE, id, claim_id, at, by, note))
        .await?
        == 1)
}

/// Claims in id order after `after`, each with its current review.
pub async fn list_claims(
    tx: &mut Tx,
    filter: &ClaimFilter,
    after: Option<Uuid>,
    limit: u32,
    order: crate::domain::Order,
) -> Result<Vec<ClaimItem>> {
    let after = after.unwrap_or(order.start());
    let (plain, filtered) = if order.is_desc() {
        (sql::LIST_CLAIMS_DESC, sql::LIST_CLAIMS_FILTERED_DESC)
    } else {
        (sql::LIST_CLAIMS, sql::LIST_CLAIMS_FILTERED)
    };
    if filter.is_empty() {
        return tx.fetch_all(stmt!(plain, after, i64::from(limit))).await;
    }
    tx.fetch_all(stmt!(
        filtered,
        after,
        i64::from(limit),
        filter.source_id,
        filter.has_verdict.map(i64::from),
        crate::domain::review::states_param(&filter.states),
        filter.attention.then_some(1i64)
    ))
    .await
}

/// Adds evidence to a claim; [`super::Constraint::EvidencePassage`] when the passage is
/// evidence for the claim already.
pub async fn insert_evidence(
    tx: &mut Tx,
    id: EvidenceId,
    claim_id: ClaimId,
    passage_id: PassageId,
    stance: Stance,
    note: Option<&str>,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_EVIDENCE,
        id,
        claim_id,
        passage_id,
        stance.as_str(),
        note,
        at
    ))
    .await
    .map(drop)
}

pub async fn evidence_id_for(
    tx: &mut Tx,
    claim_id: ClaimId,
    passage_id: PassageId,
) -> Result<Option<EvidenceId>> {
    tx.scalar(stmt!(sql::EVIDENCE_FOR, claim_id, passage_id))
        .await
}

/// One piece of evidence with its passage and source.
pub async fn get_evidence(
    tx: &mut Tx,
    claim_id: ClaimId,
    id: EvidenceId,
) -> Result<Option<Evidence>> {
    let row: Option<EvidenceWithPassage> = tx
        .fetch_optional(stmt!(sql::EVIDENCE_BY_ID, id, claim_id))
        .await?;
    Ok(row.map(|EvidenceWithPassage(e, p)| e.with(claim_id, p)))
}

/// Ids of a claim's evidence (withdrawn evidence too, unless `live_only`); `None` when the
/// claim does not exist.
pub async fn claim_evidence_ids(
    tx: &mut Tx,
    claim_id: ClaimId,
    live_only: bool,
) -> Result<Option<Vec<EvidenceId>>> {
    let sql = if live_only {
        sql::CLAIM_EVIDENCE_IDS_LIVE
    } else {
        sql::CLAIM_EVIDENCE_IDS
    };
    let rows: Vec<(ClaimId, Option<EvidenceId>)> = tx.fetch_all(stmt!(sql, claim_id)).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(rows.into_iter().filter_map(|(_, e)| e).collect()))
}

/// A claim's appearances (in order) and evidence (in id order), each joined to its passage
/// and source. Run it within one snapshot ([`super::Store::read`]) so that both reads see the
/// same claim.
pub async fn claim_passages(
    tx: &mut Tx,
    claim_id: ClaimId,
) -> Result<(Vec<SourcedPassage>, Vec<Evidence>)> {
    let appearances: Vec<SourcedPassage> = tx
        .fetch_all(stmt!(sql::CLAIM_APPEARANCES, claim_id))
        .await?;
    let evidence: Vec<EvidenceWithPassage> =
        tx.fetch_all(stmt!(sql::CLAIM_EVIDENCE, claim_id)).await?;
    let evidence = evidence
        .into_iter()
        .map(|EvidenceWithPassage(e, p)| e.with(claim_id, p))
        .collect();
    Ok((appearances, evidence))
}

#[cfg(test)]
mod view_plans {
    use crate::store::sqlite_plan;

    /// A claim view reads its appearances and evidence in order from the indexes, without a
    /// sort or a temporary table per read (issue 17).
    #[test]
    fn a_claims_passages_come_in_order_without_a_sort() {
        let appearances = sqlite_plan(super::sql::CLAIM_APPEARANCES);
        assert!(
            appearances.contains("claim_appearances_order (claim_id=?)"),
            "{appearances}"
        );
        let evidence = sqlite_plan(super::sql::CLAIM_EVIDENCE);
        assert!(
            evidence.contains("evidence_claim (claim_id=?)"),
            "{evidence}"
        );
        for plan in [appearances, evidence] {
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}
