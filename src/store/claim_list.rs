//! The claim list's SQL and rows: shared by the plain list (`claims`) and the ranked one
//! (`search`), so that neither imports the other.

use super::exec::{Cols, FromRow};
use super::{Result, StoreError};
use crate::domain::{Claim, ClaimItem, ReviewSummary};

/// A claim with its current review: the published one, else the newest not ended.
macro_rules! claim_item_select {
    () => {
        "SELECT c.id, c.text, c.claimant, c.created_at, c.claimant_kind, r.id, r.state, r.rating, g.label, g.value \
         FROM claims c LEFT JOIN reviews r ON r.id = c.review_id \
         LEFT JOIN ratings g ON g.scale_id = r.scale_id AND g.key = r.rating"
    };
}
/// The claim list's filters, after a `WHERE …`: appearing in or cited from a source (`$3`),
/// with a published verdict or not (`$4`: 1 or 0), current review in one of some states
/// (`$5`, as `domain::review::states_param` writes them), needing
/// attention (`$6`).
macro_rules! claim_filters {
    () => {
        " AND ($3 IS NULL OR c.id IN (SELECT a.claim_id FROM claim_appearances a JOIN passages p ON p.id = a.passage_id WHERE p.source_id = $3 \
              UNION SELECT e.claim_id FROM evidence e JOIN passages p2 ON p2.id = e.passage_id WHERE p2.source_id = $3)) \
         AND ($4 IS NULL OR $4 = CASE WHEN EXISTS (SELECT 1 FROM reviews r4 WHERE r4.claim_id = c.id AND r4.state = 'published') THEN 1 ELSE 0 END) \
         AND ($5 IS NULL OR $5 LIKE '%,' || r.state || ',%') \
         AND ($6 IS NULL OR c.id IN ( \
              SELECT ca.claim_id FROM placements pl JOIN claim_appearances ca ON ca.passage_id = pl.passage_id \
              WHERE pl.latest AND pl.state <> 'placed' AND pl.reviewed_at IS NULL \
              UNION SELECT e3.claim_id FROM placements pl3 JOIN evidence e3 ON e3.passage_id = pl3.passage_id \
              WHERE pl3.latest AND pl3.state <> 'placed' AND pl3.reviewed_at IS NULL))"
    };
}
pub(super) use {claim_filters, claim_item_select};

impl FromRow for ClaimItem {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let claim = Claim::from_row(c)?;
        let id: Option<crate::domain::ids::ReviewId> = c.get()?;
        let state: Option<String> = c.get()?;
        let key: Option<String> = c.get()?;
        let label: Option<String> = c.get()?;
        let value: Option<f64> = c.get()?;
        let review = match (id, state, key, label) {
            (Some(id), Some(state), Some(key), Some(label)) => Some(ReviewSummary {
                id,
                state: crate::domain::review::State::parse(&state)
                    .ok_or_else(|| StoreError::other(format!("unknown review state {state:?}")))?,
                rating: crate::domain::review::Rating { key, label, value },
            }),
            _ => None,
        };
        Ok(ClaimItem {
            claim,
            review,
            matched: None,
        })
    }
}
