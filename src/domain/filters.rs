//! Filters of the claim list and the review queue: what the app validates and the store
//! turns into SQL, so both layers name them here.

use time::OffsetDateTime;

use super::ids::{ClaimId, SourceId};
use super::review::State;

/// Filters of the claim list.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    /// Changed or lost in a new version of a source, not confirmed since.
    pub attention: bool,
    pub source_id: Option<SourceId>,
    pub has_verdict: Option<bool>,
    /// The current review in any of these states (none: no filter).
    pub states: Vec<State>,
}

impl ClaimFilter {
    pub fn is_empty(&self) -> bool {
        !self.attention
            && self.source_id.is_none()
            && self.has_verdict.is_none()
            && self.states.is_empty()
    }
}

/// Filters of the review queue.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    /// Any of these states (none: every state).
    pub states: Vec<State>,
    pub author: Option<String>,
    pub claim_id: Option<ClaimId>,
    pub updated_since: Option<OffsetDateTime>,
}
