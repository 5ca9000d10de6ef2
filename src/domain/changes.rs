//! What the change feed and webhooks announce: which changes, to whom, with what payload.
//! Payloads are thin (ids and links): a receiver fetches the rest with its own key, so it never
//! sees more than its role may.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::ids::{ReviewId, SourceId};
use super::review::State;

/// A kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ChangeKind {
    /// A verdict was published (not a correction).
    #[serde(rename = "review.published")]
    ReviewPublished,
    /// A correction was published; it names the verdict it superseded.
    #[serde(rename = "review.corrected")]
    ReviewCorrected,
    /// A published verdict was retracted (a tombstone in the feed).
    #[serde(rename = "review.retracted")]
    ReviewRetracted,
    /// A new version of a source was stored.
    #[serde(rename = "source.version_added")]
    SourceVersionAdded,
    /// A passage's words changed, or it was lost, in a new version of its source.
    #[serde(rename = "passage.changed")]
    PassageChanged,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 5] = [
        ChangeKind::ReviewPublished,
        ChangeKind::ReviewCorrected,
        ChangeKind::ReviewRetracted,
        ChangeKind::SourceVersionAdded,
        ChangeKind::PassageChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::ReviewPublished => "review.published",
            ChangeKind::ReviewCorrected => "review.corrected",
            ChangeKind::ReviewRetracted => "review.retracted",
            ChangeKind::SourceVersionAdded => "source.version_added",
            ChangeKind::PassageChanged => "passage.changed",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Integrations see publications, corrections and retractions; editorial roles see all.
    pub fn is_public(self) -> bool {
        !matches!(
            self,
            ChangeKind::SourceVersionAdded | ChangeKind::PassageChanged
        )
    }

    /// Whether the feed shows it as a tombstone: the entity is gone from public view.
    pub fn is_tombstone(self) -> bool {
        self == ChangeKind::ReviewRetracted
    }
}

/// The change a workflow step announces, if any.
pub fn for_transition(to: State, corrects: Option<ReviewId>) -> Option<ChangeKind> {
    match (to, corrects) {
        (State::Published, None) => Some(ChangeKind::ReviewPublished),
        (State::Published, Some(_)) => Some(ChangeKind::ReviewCorrected),
        (State::Retracted, _) => Some(ChangeKind::ReviewRetracted),
        _ => None,
    }
}

/// The payload of a review change: its id, links, and for a correction the verdict it
/// superseded.
pub fn review_data(kind: ChangeKind, id: ReviewId, corrects: Option<ReviewId>) -> Value {
    let mut links = json!({"review": format!("/v1/reviews/{id}")});
    if kind != ChangeKind::ReviewRetracted {
        links["claimreview"] = json!(format!("/v1/reviews/{id}/claimreview"));
    }
    let mut data = json!({"id": id, "links": links});
    if let (ChangeKind::ReviewCorrected, Some(old)) = (kind, corrects) {
        data["supersedes"] = json!(old);
    }
    data
}

pub fn version_data(source_id: SourceId, number: i64) -> Value {
    json!({
        "id": source_id,
        "version": number,
        "links": {
            "source": format!("/v1/sources/{source_id}"),
            "version": format!("/v1/sources/{source_id}/versions/{number}"),
            "placements": format!("/v1/sources/{source_id}/versions/{number}/placements"),
        },
    })
}

/// The payload of a passage whose placement on a new version is `changed` or `orphaned`.
pub fn passage_data(
    passage_id: super::ids::PassageId,
    source_id: SourceId,
    version: i64,
    state: &str,
) -> Value {
    json!({
        "id": passage_id,
        "source_id": source_id,
        "version": version,
        "state": state,
        "links": {
            "passage": format!("/v1/passages/{passage_id}"),
            "placements": format!("/v1/passages/{passage_id}/placements"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_announce_publication_correction_and_retraction_only() {
        let old = ReviewId::new();
        assert_eq!(
            for_transition(State::Published, None),
            Some(ChangeKind::ReviewPublished)
        );
        assert_eq!(
            for_transition(State::Published, Some(old)),
            Some(ChangeKind::ReviewCorrected)
        );
        assert_eq!(
            for_transition(State::Retracted, None),
            Some(ChangeKind::ReviewRetracted)
        );
        for quiet in [State::InReview, State::Approved, State::ChangesRequested] {
            assert_eq!(for_transition(quiet, None), None);
        }
        let data = review_data(ChangeKind::ReviewCorrected, ReviewId::new(), Some(old));
        assert_eq!(data["supersedes"], json!(old));
        for k in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
        assert!(!ChangeKind::SourceVersionAdded.is_public());
    }
}
